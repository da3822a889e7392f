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

            The model is --model, else $\(ModelLocator.environmentVariable), else \
            \(ModelLocator.defaultRelativePath) above the strobe executable or in the current directory.
            """)

    @Argument(help: ArgumentHelp("The prompt (empty for an unconditional image).", valueName: "prompt"))
    var positionalPrompt: String?

    @Option(name: [.customShort("p"), .customLong("prompt")], help: "The prompt, instead of the argument.")
    var promptOption: String?

    /// The prompt from the argument or `-p`.
    var prompt: String { positionalPrompt ?? promptOption ?? "" }

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

    @Option(help: "Steps (default: the model's, 4 for flash and 100 for full).")
    var steps: Int?

    @Option(help: "Number of images, with consecutive seeds.")
    var count: Int = 1

    @Option(name: .shortAndLong, help: "Threads (default: all cores).")
    var threads: Int?

    @Option(help: "Model weights file.")
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
        switch (positionalPrompt, promptOption) {
        case (nil, nil): throw ValidationError("Missing the prompt (give it as an argument or with -p)")
        case (.some, .some): throw ValidationError("Give the prompt once: as an argument or with -p, not both")
        default: break
        }
        if let steps, !sampler.stepRange.contains(steps) {
            throw ValidationError("--steps \(steps) is out of range for the \(sampler.rawValue) sampler "
                + "(\(sampler.stepRange.lowerBound)...\(sampler.stepRange.upperBound))")
        }
        if !GenerationConfig.countRange.contains(count) {
            throw ValidationError("--count \(count) is out of range (\(GenerationConfig.countRange.lowerBound)..."
                + "\(GenerationConfig.countRange.upperBound))")
        }
        if let threads, threads < 1 { throw ValidationError("--threads \(threads) must be at least 1") }
        if let seed, Int64(seed) == nil, UInt64(seed) == nil {
            throw ValidationError("--seed '\(seed)' is not an integer")
        }
    }

    func run() async throws {
        // The seed: negative or absent means random (printed).
        var chosen: UInt64
        var random = false
        if let seed, let value = UInt64(seed) {
            chosen = value
        } else {
            chosen = UInt64.random(in: 0..<(1 << 32))
            random = true
        }
        let config = GenerationConfig(
            prompt: prompt, aspectRatio: aspectRatio, size: size, seed: chosen, sampler: sampler, steps: steps,
            count: count, threads: threads, includeMetadata: !noMetadata)
        let seeds = TorchGenerator.batchSeeds(base: chosen, count: count)
        let paths = OutputNames.paths(output: output, seeds: seeds)
        do {
            try OutputNames.check(paths, overwrite: overwrite)
        } catch {
            throw fail(error.description)
        }

        let engine = try loadEngine(try locateModel(model))
        if let threads { Parallel.threads = threads }
        let plan: GenerationPlan
        do {
            plan = try engine.plan(config)
        } catch {
            throw fail(error.description)
        }
        if random && !quiet { printError("strobe: random seed \(chosen)") }

        let bar = ProgressBar(enabled: !quiet)
        let result: GenerationResult
        do {
            result = try await engine.generate(plan) { progress in
                bar.update(progress)
                return .proceed
            }
        } catch {
            bar.finish()
            throw fail(error.description)
        }
        bar.finish()

        for (image, path) in zip(result.images, paths) {
            do {
                try image.write(to: path, overwrite: overwrite)
            } catch {
                throw fail(error.description)
            }
            if !quiet { print("wrote \(path) (seed \(image.seed), \(plan.size), \(plan.sampler.name) \(plan.steps) steps)") }
        }
        if timings { printTimings(result.timings) }
    }

    private func printTimings(_ timings: StageTimings) {
        func ms(_ duration: Duration) -> String {
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            return String(format: "%.1f ms", seconds * 1000)
        }
        var lines = [
            "tokenize     \(ms(timings.tokenize))",
            "encode text  \(ms(timings.encodeText))",
            "noise        \(ms(timings.noise))",
            "denoise      \(ms(timings.denoising)) in \(timings.denoiserCalls.count) calls: "
                + timings.denoiserCalls.map(ms).joined(separator: ", "),
            "decode       \(ms(timings.decode.reduce(.zero, +)))",
            "png          \(ms(timings.png.reduce(.zero, +)))",
            "total        \(ms(timings.total))",
        ]
        lines.insert("timings:", at: 0)
        printError(lines.joined(separator: "\n"))
    }
}
