import Foundation
import Strobe

/// What `strobe bench` measured. Encodes to the JSON `strobe bench --json` writes: one key per
/// mode (`flash_4`: ``ModeResult``) beside `denoiser_vs_sgemm`, `peak_rss_mib`, `weights_mib`,
/// `denoiser`, `sgemm`, `throughput`, `environment` and `settings`. Times are in milliseconds.
public struct Report: Encodable, Sendable {
    /// One mode's end-to-end and per-stage times over its timed runs.
    public struct ModeResult: Encodable, Sendable {
        /// The mode.
        public let mode: BenchMode
        /// End-to-end time of each timed run: one image from prompt to PNG bytes, the model
        /// loaded (`StrobeEngine.generate` on a configuration, tokenizing included).
        public let runMilliseconds: [Double]
        /// Per stage, the median over the runs of the stage's time in a run.
        public let stages: [String: Double]
        /// Per network call index, the median over the runs of that call's time.
        public let callMilliseconds: [Double]
        /// Every network call's time over all runs, in run order.
        public let allCallMilliseconds: [Double]
        /// Tokens of each run's prompt, with EOS.
        public let textLengths: [Int]
        /// The images' size (an edit's working size, a reframe's canvas).
        public var size: ImageSize? = nil

        public var medianMilliseconds: Double { Statistics.median(runMilliseconds) ?? 0 }
        public var minMilliseconds: Double { runMilliseconds.min() ?? 0 }
        /// Median of all network calls.
        public var callMedianMilliseconds: Double { Statistics.median(allCallMilliseconds) ?? 0 }
        /// Fastest network call.
        public var callMinMilliseconds: Double { allCallMilliseconds.min() ?? 0 }

        /// The stage names, in pipeline order.
        public static let stageNames = ["tokenize", "encode", "noise", "denoise", "decode", "png"]

        enum CodingKeys: String, CodingKey {
            case sampler, steps, runs, medianMilliseconds = "median_ms", minMilliseconds = "min_ms"
            case imagesPerSecond = "images_per_second", runMilliseconds = "run_ms", stages = "stages_median_ms"
            case callMilliseconds = "denoiser_call_ms", callMedianMilliseconds = "denoiser_call_median_ms"
            case callMinMilliseconds = "denoiser_call_min_ms", operation, size
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(mode.sampler.rawValue, forKey: .sampler)
            try c.encode(mode.steps, forKey: .steps)
            try c.encode(runMilliseconds.count, forKey: .runs)
            try c.encode(rounded(medianMilliseconds), forKey: .medianMilliseconds)
            try c.encode(rounded(minMilliseconds), forKey: .minMilliseconds)
            try c.encode(Report.rounded(1000 / medianMilliseconds, places: 3), forKey: .imagesPerSecond)
            try c.encode(runMilliseconds.map(rounded), forKey: .runMilliseconds)
            try c.encode(stages.mapValues(rounded), forKey: .stages)
            try c.encode(callMilliseconds.map(rounded), forKey: .callMilliseconds)
            try c.encode(rounded(callMedianMilliseconds), forKey: .callMedianMilliseconds)
            try c.encode(rounded(callMinMilliseconds), forKey: .callMinMilliseconds)
            try c.encode(mode.operation.rawValue, forKey: .operation)
            try c.encodeIfPresent(size.map { "\($0)" }, forKey: .size)
        }

        private func rounded(_ value: Double) -> Double { Report.rounded(value, places: 3) }
    }

    /// Images per second of one mode with several images per request.
    public struct Throughput: Encodable, Sendable {
        /// The mode.
        public let mode: BenchMode
        /// With `--count 1`: one image per request.
        public let count1: Double
        /// With `--count 4` (the engine's default of one image per network call).
        public let count4: Double
        /// With `--count 4` on an engine that batches the 4 images into each network call.
        public let count4Batched: Double
        /// Timed requests of 4 images.
        public let runs: Int

        enum CodingKeys: String, CodingKey {
            case mode, runs, count1 = "count_1_images_per_second", count4 = "count_4_images_per_second"
            case count4Batched = "count_4_batched_images_per_second"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(mode.name, forKey: .mode)
            try c.encode(runs, forKey: .runs)
            try c.encode(Report.rounded(count1, places: 3), forKey: .count1)
            try c.encode(Report.rounded(count4, places: 3), forKey: .count4)
            try c.encode(Report.rounded(count4Batched, places: 3), forKey: .count4Batched)
        }
    }

    /// The denoiser's FLOP rate.
    public struct DenoiserRate: Encodable, Sendable {
        /// FLOPs of one call (``DenoiserConfig/flopsPerCall(images:height:width:textLength:prompts:)``).
        public let flopsPerCall: Double
        /// The text length the FLOPs were counted at: the median of the prompts' lengths.
        public let textLength: Int
        /// The median of every timed network call of every mode (each call does the same work;
        /// its time includes the sampler's update).
        public let callMedianMilliseconds: Double
        /// Calls the median is taken over.
        public let calls: Int

        /// `flopsPerCall / callMedian`, GFLOPS.
        public var gflops: Double { flopsPerCall / (callMedianMilliseconds / 1e3) / 1e9 }

        enum CodingKeys: String, CodingKey {
            case flopsPerCall = "flops_per_call", textLength = "text_length", calls
            case callMedianMilliseconds = "call_median_ms", gflops
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(flopsPerCall, forKey: .flopsPerCall)
            try c.encode(textLength, forKey: .textLength)
            try c.encode(calls, forKey: .calls)
            try c.encode(Report.rounded(callMedianMilliseconds, places: 3), forKey: .callMedianMilliseconds)
            try c.encode(Report.rounded(gflops, places: 2), forKey: .gflops)
        }
    }

    /// The run's settings and model.
    public struct Setup: Encodable, Sendable {
        public let model: String
        public let modelSHA256: String
        public let size: ImageSize
        public let prompts: [String]
        public let seeds: [UInt64]
        public let runs: Int
        public let fullRuns: Int
        public let warmup: Int
        public let modes: [String]

        enum CodingKeys: String, CodingKey {
            case model, modelSHA256 = "model_sha256", size, prompts, seeds, runs, fullRuns = "full_runs", warmup, modes
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(model, forKey: .model)
            try c.encode(modelSHA256, forKey: .modelSHA256)
            try c.encode(size.description, forKey: .size)
            try c.encode(prompts, forKey: .prompts)
            try c.encode(seeds, forKey: .seeds)
            try c.encode(runs, forKey: .runs)
            try c.encode(fullRuns, forKey: .fullRuns)
            try c.encode(warmup, forKey: .warmup)
            try c.encode(modes, forKey: .modes)
        }
    }

    /// Each mode's result, in the order they ran.
    public var modes: [ModeResult]
    /// Images per second at count 1 and 4, when measured.
    public var throughput: Throughput?
    /// The denoiser's FLOP rate, when a mode ran.
    public var denoiser: DenoiserRate?
    /// sgemm at the denoiser's shapes and at 1024³, when measured.
    public var sgemm: SgemmReference?
    /// Peak resident memory of the process (`VmHWM`) while loading the model and generating one
    /// image at a time, MiB (before the throughput and sgemm runs).
    public var peakRSSMiB: Double
    /// The weights file's size, MiB.
    public var weightsMiB: Double
    /// Machine and kernels.
    public var environment: BenchEnvironment
    /// Settings and model.
    public var setup: Setup
    /// The number format the modes ran in.
    public var precision: Precision = .fp32
    /// With a precision other than fp32: each mode against the same runs in fp32.
    public var precisionComparisons: [PrecisionComparison] = []
    /// With a precision other than fp32: the denoiser's products timed in that precision (the
    /// ``sgemm`` figures are fp32's).
    public var lowPrecisionProducts: SgemmReference?

    /// Reframe modes against text to image at the reframe's canvas size (same sampler, steps,
    /// prompts and seeds), measured in one process.
    public var reframeCosts: [ReframeCost] = []

    /// What a reframe costs over text to image at the same size.
    public struct ReframeCost: Encodable, Sendable {
        public let mode: BenchMode
        public let size: ImageSize
        /// Median end-to-end times, ms.
        public let reframeMilliseconds: Double, generateMilliseconds: Double
        /// Reframe's time over text to image's.
        public var ratio: Double { generateMilliseconds > 0 ? reframeMilliseconds / generateMilliseconds : 0 }

        enum CodingKeys: String, CodingKey {
            case mode, size, reframeMilliseconds = "reframe_median_ms", generateMilliseconds = "generate_median_ms", ratio
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(mode.name, forKey: .mode)
            try c.encode("\(size)", forKey: .size)
            try c.encode(Report.rounded(reframeMilliseconds, places: 2), forKey: .reframeMilliseconds)
            try c.encode(Report.rounded(generateMilliseconds, places: 2), forKey: .generateMilliseconds)
            try c.encode(Report.rounded(ratio, places: 3), forKey: .ratio)
        }
    }

    /// One mode in a low precision against the same runs in fp32, measured in one process.
    public struct PrecisionComparison: Encodable, Sendable {
        public let mode: BenchMode
        public let precision: Precision
        /// Median end-to-end times, ms.
        public let fp32Milliseconds: Double, milliseconds: Double
        /// Each timed run's image against its fp32 twin (same prompt and seed), dB.
        public let psnr: [Double]

        /// fp32 time over this precision's time.
        public var speedup: Double { milliseconds > 0 ? fp32Milliseconds / milliseconds : 0 }
        /// The lowest PSNR (`.infinity` when every image is identical or none was compared).
        public var minPSNR: Double { psnr.min() ?? .infinity }

        enum CodingKeys: String, CodingKey {
            case mode, precision, fp32Milliseconds = "fp32_median_ms", milliseconds = "median_ms", speedup
            case psnr = "psnr_db", minPSNR = "min_psnr_db"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(mode.name, forKey: .mode)
            try c.encode(precision, forKey: .precision)
            try c.encode(Report.rounded(fp32Milliseconds, places: 2), forKey: .fp32Milliseconds)
            try c.encode(Report.rounded(milliseconds, places: 2), forKey: .milliseconds)
            try c.encode(Report.rounded(speedup, places: 3), forKey: .speedup)
            // Identical images (infinite PSNR) are written as 999.
            try c.encode(psnr.map { Report.rounded(min($0, 999), places: 2) }, forKey: .psnr)
            try c.encode(Report.rounded(min(minPSNR, 999), places: 2), forKey: .minPSNR)
        }
    }

    /// The low precision's FLOP-weighted product rate over fp32's, at the denoiser's shapes.
    public var lowPrecisionProductSpeedup: Double? {
        guard let sgemm, let low = lowPrecisionProducts, sgemm.weightedGFLOPS > 0 else { return nil }
        return low.weightedGFLOPS / sgemm.weightedGFLOPS
    }

    /// The PNG bytes of each mode's first timed run (prompt 0, seed 0), by mode name. Not encoded.
    public var firstImages: [String: [UInt8]] = [:]

    /// `(denoiser FLOPs / median call time) / FLOP-weighted product rate` at the denoiser's
    /// shapes, the products timed in the modes' precision; nil unless both were measured.
    public var denoiserVsSgemm: Double? {
        guard let denoiser, let products = lowPrecisionProducts ?? sgemm, products.weightedGFLOPS > 0 else { return nil }
        return denoiser.gflops / products.weightedGFLOPS
    }

    /// The result of `mode`, if it ran.
    public func result(_ mode: BenchMode) -> ModeResult? { modes.first { $0.mode == mode } }

    struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        for result in modes { try c.encode(result, forKey: Key(result.mode.name)) }
        try c.encodeIfPresent(denoiserVsSgemm.map { Self.rounded($0, places: 4) }, forKey: Key("denoiser_vs_sgemm"))
        try c.encode(Self.rounded(peakRSSMiB, places: 1), forKey: Key("peak_rss_mib"))
        try c.encode(Self.rounded(weightsMiB, places: 2), forKey: Key("weights_mib"))
        try c.encodeIfPresent(denoiser, forKey: Key("denoiser"))
        try c.encodeIfPresent(sgemm, forKey: Key("sgemm"))
        try c.encode(precision, forKey: Key("precision"))
        if !reframeCosts.isEmpty { try c.encode(reframeCosts, forKey: Key("reframe_vs_generate")) }
        if precision != .fp32 {
            try c.encode(precisionComparisons, forKey: Key("vs_fp32"))
            try c.encodeIfPresent(lowPrecisionProducts, forKey: Key("\(precision.rawValue)_products"))
            try c.encodeIfPresent(
                lowPrecisionProductSpeedup.map { Self.rounded($0, places: 3) }, forKey: Key("\(precision.rawValue)_products_vs_fp32"))
        }
        try c.encodeIfPresent(throughput, forKey: Key("throughput"))
        try c.encode(environment, forKey: Key("environment"))
        try c.encode(setup, forKey: Key("settings"))
    }

    /// The report as pretty-printed JSON with sorted keys, ending in a newline.
    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try! encoder.encode(self)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// `value` rounded to `places` decimals (non-finite values become 0, which JSON can hold).
    static func rounded(_ value: Double, places: Int) -> Double {
        guard value.isFinite else { return 0 }
        let scale = Foundation.pow(10, Double(places))
        return (value * scale).rounded() / scale
    }
}
