import ArgumentParser
import Strobe

/// The options `generate`, `edit` and `reframe` share: output, seed, sampler, steps, count,
/// threads, precision, model, metadata, overwrite, timings, quiet.
struct RunOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Output PNG path (names with several images: see generate --help).")
    var output: String?

    @Option(name: .shortAndLong, parsing: .unconditional, help: "Seed (absent or negative: random, and printed).")
    var seed: String?

    @Option(help: "Sampler: flash (TVM, 1-10 steps) or full (Euler, 1-1000 steps).")
    var sampler: SamplerKind = .flash

    @Option(parsing: .unconditional, help: "Steps (default: the model's, 4 for flash and 100 for full); an edit runs its part.")
    var steps: Int?

    @Option(parsing: .unconditional, help: "Number of images, with consecutive seeds (1-256).")
    var count: Int = 1

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
        if let steps, !sampler.stepRange.contains(steps) {
            throw ValidationError("--steps \(steps) is out of range for the \(sampler.rawValue) sampler "
                + "(\(sampler.stepRange.lowerBound)...\(sampler.stepRange.upperBound))")
        }
        if !GenerationConfig.countRange.contains(count) {
            throw ValidationError("--count \(count) is out of range (\(GenerationConfig.countRange.lowerBound)..."
                + "\(GenerationConfig.countRange.upperBound))")
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
        try checkPrecision(precision)
    }

    /// The seed to use: the given one, or a random one in `0..<2³²` (then `random` is true).
    func chosenSeed() -> (seed: UInt64, random: Bool) {
        if let seed, let value = UInt64(seed) { return (value, false) }
        return (UInt64.random(in: 0..<(1 << 32)), true)
    }
}
