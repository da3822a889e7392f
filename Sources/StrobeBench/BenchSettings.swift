import Foundation
import Strobe
import StrobeTensor

/// What `strobe bench` measures and how often.
public struct BenchSettings: Sendable, Equatable {
    /// The prompts, used in turn by successive runs (run `i` uses prompt `i mod count` and
    /// seed `i mod count`): the README grid's.
    public static let defaultPrompts = [
        "a lighthouse on the left at golden hour, calm sea",
        "snowy peaks at dusk with a lake",
        "a red hot-air balloon on the right above desert dunes at noon",
        "a city skyline at night with stars and a moon",
        "a sailboat on the sea at sunset with birds",
    ]
    /// The seeds, used in turn with the prompts.
    public static let defaultSeeds: [UInt64] = [1, 2, 3, 4, 5]

    /// The modes, in the order they run.
    public var modes: [BenchMode] = BenchMode.standard
    /// Timed runs per flash mode.
    public var runs = 5
    /// Timed runs per full-sampler mode (they are long).
    public var fullRuns = 3
    /// Untimed runs before each mode's timed ones (prompt 0, seed 0).
    public var warmup = 1
    /// Threads for the engine and the sgemm reference.
    public var threads: Int
    /// The image size; nil uses ``aspectRatio`` at the model's patch size.
    public var size: ImageSize?
    /// The aspect ratio when ``size`` is nil (default 1:1).
    public var aspectRatio: AspectRatio = .square
    /// The prompts (see ``defaultPrompts``).
    public var prompts: [String] = BenchSettings.defaultPrompts
    /// The seeds (see ``defaultSeeds``).
    public var seeds: [UInt64] = BenchSettings.defaultSeeds
    /// Whether to measure images per second with count 1 and 4 (``BenchMode/throughput``).
    public var throughput = true
    /// Whether to time sgemm at the denoiser's shapes and at 1024³.
    public var sgemm = true
    /// The number format of the matrix products. With bf16 every mode also runs in fp32 in the
    /// same process, for the speed-up and each image's PSNR against its fp32 twin.
    public var precision: Precision = .fp32
    /// Least time spent timing each sgemm shape, in seconds.
    public var sgemmMinSeconds = 0.2

    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.threads = threads
    }

    /// Timed runs for `mode`.
    public func runs(for mode: BenchMode) -> Int { mode.sampler == .full ? fullRuns : runs }

    /// The prompt and seed of timed run `index`.
    public func input(_ index: Int) -> (prompt: String, seed: UInt64) {
        (prompts[index % prompts.count], seeds[index % seeds.count])
    }

    /// Checks the settings.
    /// - Throws: ``BenchError/invalidSetting(_:)`` naming the first bad value.
    public func validate() throws(BenchError) {
        if modes.isEmpty { throw .invalidSetting("no modes to run") }
        if runs < 1 { throw .invalidSetting("runs \(runs) must be at least 1") }
        if fullRuns < 1 { throw .invalidSetting("full-sampler runs \(fullRuns) must be at least 1") }
        if warmup < 0 { throw .invalidSetting("warm-up runs \(warmup) must be at least 0") }
        if threads < 1 { throw .invalidSetting("threads \(threads) must be at least 1") }
        if prompts.isEmpty || seeds.isEmpty { throw .invalidSetting("the prompt and seed lists must not be empty") }
        if let reason = precision.unsupportedReason { throw .invalidSetting("precision \(precision.rawValue): \(reason)") }
        if !(sgemmMinSeconds >= 0) { throw .invalidSetting("sgemm time \(sgemmMinSeconds) must not be negative") }
    }
}
