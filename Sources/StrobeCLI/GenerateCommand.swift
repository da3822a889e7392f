import ArgumentParser
import Foundation
import Strobe

/// `strobe generate`: prompt → PNG files.
struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate images from a prompt.",
        discussion: """
            Aspect ratios and their sizes in pixels (width x height) for the default model:
            \(AspectRatio.allCases.map { "  \($0.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)) \($0.defaultSize)" }.joined(separator: "\n"))

            Output files: without --output, strobe-<seed>.png in the current directory. With \
            --output PATH and one image, exactly PATH; with several images, <stem>-<seed>.<ext> \
            beside PATH. If --output names a directory, strobe-<seed>.png inside it. Image i of \
            --count N uses seed + i. An existing file is an error unless --overwrite is given.

            The model is --model, else $\(ModelLocator.environmentVariable), else the model named \
            \(ModelLocator.defaultModelName); each a file path or a model name (`strobe models` lists them).

            Exit status: 1 when the request cannot be done, 64 for malformed options, 130 after \
            Ctrl-C (143 after SIGTERM); no unfinished image is ever left behind.
            """)

    @Argument(help: ArgumentHelp("The prompt.", valueName: "prompt"))
    var positionalPrompt: String?

    @Option(name: [.customShort("p"), .customLong("prompt")], help: "The prompt, instead of the argument.")
    var promptOption: String?

    @Option(name: .customLong("prompt-file"), help: ArgumentHelp(
        "Read the prompt from a UTF-8 file (- for standard input); trailing line breaks are dropped.",
        valueName: "path"))
    var promptFile: String?

    @Flag(help: "Generate without a prompt (an unconditional image); an empty prompt is otherwise an error.")
    var unconditional = false

    @Option(name: .customLong("aspect-ratio"),
            help: ArgumentHelp("Aspect ratio (pixel sizes below).", valueName: "W:H"))
    var aspectRatio: AspectRatio = .square

    @Option(help: ArgumentHelp(
        "Explicit size WIDTHxHEIGHT instead of an aspect ratio (sides multiples of the model's patch size).",
        valueName: "WxH"))
    var size: ImageSize?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Images per network call with --count (1-16, default 1).",
        discussion: "Batching raises throughput; a batched image may differ from its unbatched self in the last bits."))
    var batch: Int = 1

    @OptionGroup var options: RunOptions

    func validate() throws {
        do { try PromptInput.checkArguments() } catch { throw ValidationError(error.description) }
        let sources = [positionalPrompt, promptOption, promptFile].compactMap { $0 }.count
        if unconditional {
            guard sources == 0 else { throw ValidationError("--unconditional takes no prompt") }
        } else if sources == 0 {
            throw ValidationError("Missing the prompt (give it as an argument, with -p or --prompt-file, "
                + "or pass --unconditional)")
        } else if sources > 1 {
            throw ValidationError("Give the prompt once: as an argument, with -p or with --prompt-file")
        }
        if !(1...16).contains(batch) {
            throw ValidationError("--batch \(batch) is out of range (1...16)")
        }
    }

    func run() async throws {
        Interrupt.install()
        // The seed: negative or absent means random (printed).
        let (chosen, random) = options.chosenSeed()
        var config = GenerationConfig(
            prompt: positionalPrompt ?? promptOption ?? "", aspectRatio: aspectRatio, size: size, seed: chosen,
            sampler: options.sampler, steps: options.steps,
            count: options.count, threads: options.threads, includeMetadata: !options.noMetadata, precision: options.precision)
        let seeds = TorchGenerator.batchSeeds(base: chosen, count: options.count)
        let paths = OutputNames.paths(output: options.output, seeds: seeds)
        do {
            try OutputNames.check(paths, overwrite: options.overwrite)
        } catch {
            throw fail(error.description)
        }

        if let promptFile {
            do { try PromptInput.checkReadable(promptFile) } catch { throw fail(error.description) }
        }

        let engine = try loadEngine(try locateModel(options.model), maxBatch: batch)
        try stopIfInterrupted()
        if let promptFile {
            do {
                config.prompt = try PromptInput.read(path: promptFile, limit: engine.maxPromptBytes)
            } catch {
                throw fail(error.description)
            }
        }
        if config.prompt.isEmpty && !unconditional {
            throw fail("the prompt is empty; pass --unconditional for an image without a prompt")
        }
        if let threads = options.threads { Parallel.threads = threads }
        let plan: GenerationPlan
        do {
            plan = try engine.plan(config)
        } catch {
            throw fail(error.description)
        }
        if random && !options.quiet { printError("strobe: random seed \(chosen)") }

        try await runAndWrite(
            plan: plan, paths: paths, overwrite: options.overwrite, quiet: options.quiet, timings: options.timings
        ) { (progress) async throws(PipelineError) -> GenerationResult in
            try await engine.generate(plan, progress: progress)
        }
    }
}
