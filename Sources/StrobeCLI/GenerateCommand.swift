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

    @Option(name: .shortAndLong, help: "Output PNG path (see below for names with several images).")
    var output: String?

    @Option(name: .customLong("aspect-ratio"),
            help: ArgumentHelp("Aspect ratio (pixel sizes below).", valueName: "W:H"))
    var aspectRatio: AspectRatio = .square

    @Option(help: ArgumentHelp(
        "Explicit size WIDTHxHEIGHT instead of an aspect ratio (sides multiples of the model's patch size).",
        valueName: "WxH"))
    var size: ImageSize?

    @Option(name: .shortAndLong, parsing: .unconditional, help: "Seed (absent or negative: random, and printed).")
    var seed: String?

    @Option(help: "Sampler: flash (TVM, 1-10 steps) or full (Euler, 1-1000 steps).")
    var sampler: SamplerKind = .flash

    @Option(parsing: .unconditional, help: "Steps (default: the model's, 4 for flash and 100 for full).")
    var steps: Int?

    @Option(parsing: .unconditional, help: "Number of images, with consecutive seeds (1-256).")
    var count: Int = 1

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Images per network call with --count (1-16, default 1).",
        discussion: "Batching raises throughput; a batched image may differ from its unbatched self in the last bits."))
    var batch: Int = 1

    @Option(name: .shortAndLong, parsing: .unconditional, help: "Threads (default: all cores; at most 1024).")
    var threads: Int?

    @Option(help: ArgumentHelp(
        "Matrix products in fp32 (default, bit-exact) or bf16 (faster; CPUs with AVX512_BF16).",
        valueName: "fp32|bf16"))
    var precision: Precision = .fp32

    @Option(help: "Model weights file, or a model name (see `strobe models`).")
    var model: String?

    @Flag(name: .customLong("no-metadata"), help: "Leave the prompt and settings out of the PNG.")
    var noMetadata = false

    @Flag(help: "Replace existing files.")
    var overwrite = false

    @Flag(help: "Print per-stage timings to stderr.")
    var timings = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors (no progress bar, no file names).")
    var quiet = false

    func validate() throws {
        do { try PromptInput.checkArguments() } catch { throw ValidationError(error.description) }
        try checkPrecision(precision)
        let sources = [positionalPrompt, promptOption, promptFile].compactMap { $0 }.count
        if unconditional {
            guard sources == 0 else { throw ValidationError("--unconditional takes no prompt") }
        } else if sources == 0 {
            throw ValidationError("Missing the prompt (give it as an argument, with -p or --prompt-file, "
                + "or pass --unconditional)")
        } else if sources > 1 {
            throw ValidationError("Give the prompt once: as an argument, with -p or with --prompt-file")
        }
        if let steps, !sampler.stepRange.contains(steps) {
            throw ValidationError("--steps \(steps) is out of range for the \(sampler.rawValue) sampler "
                + "(\(sampler.stepRange.lowerBound)...\(sampler.stepRange.upperBound))")
        }
        if !GenerationConfig.countRange.contains(count) {
            throw ValidationError("--count \(count) is out of range (\(GenerationConfig.countRange.lowerBound)..."
                + "\(GenerationConfig.countRange.upperBound))")
        }
        if !(1...16).contains(batch) {
            throw ValidationError("--batch \(batch) is out of range (1...16)")
        }
        if let threads, !GenerationConfig.threadRange.contains(threads) {
            throw ValidationError("--threads \(threads) is out of range (\(GenerationConfig.threadRange.lowerBound)..."
                + "\(GenerationConfig.threadRange.upperBound))")
        }
        if let seed, Int64(seed) == nil, UInt64(seed) == nil {
            let digits = seed.hasPrefix("-") ? seed.dropFirst() : Substring(seed)
            if !digits.isEmpty && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber) {
                throw ValidationError("--seed \(seed) is out of range (0...\(UInt64.max), or negative for a random seed)")
            }
            throw ValidationError("--seed '\(seed)' is not an integer")
        }
    }

    func run() async throws {
        Interrupt.install()
        // The seed: negative or absent means random (printed).
        var chosen: UInt64
        var random = false
        if let seed, let value = UInt64(seed) {
            chosen = value
        } else {
            chosen = UInt64.random(in: 0..<(1 << 32))
            random = true
        }
        var config = GenerationConfig(
            prompt: positionalPrompt ?? promptOption ?? "", aspectRatio: aspectRatio, size: size, seed: chosen,
            sampler: sampler, steps: steps,
            count: count, threads: threads, includeMetadata: !noMetadata, precision: precision)
        let seeds = TorchGenerator.batchSeeds(base: chosen, count: count)
        let paths = OutputNames.paths(output: output, seeds: seeds)
        do {
            try OutputNames.check(paths, overwrite: overwrite)
        } catch {
            throw fail(error.description)
        }

        if let promptFile {
            do { try PromptInput.checkReadable(promptFile) } catch { throw fail(error.description) }
        }

        let engine = try loadEngine(try locateModel(model), maxBatch: batch)
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
        if let threads { Parallel.threads = threads }
        let plan: GenerationPlan
        do {
            plan = try engine.plan(config)
        } catch {
            throw fail(error.description)
        }
        if random && !quiet { printError("strobe: random seed \(chosen)") }

        try await runAndWrite(
            plan: plan, paths: paths, overwrite: overwrite, quiet: quiet, timings: timings
        ) { (progress) async throws(PipelineError) -> GenerationResult in
            try await engine.generate(plan, progress: progress)
        }
    }
}
