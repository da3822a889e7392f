import Foundation
import Strobe
import StrobeTensor

/// Runs `strobe bench`'s measurements on a loaded engine.
///
/// For each mode: `warmup` untimed generations, then timed ones, each one image from prompt to
/// PNG bytes (`StrobeEngine.generate` on a configuration: tokenizing, text encoding, noise,
/// every network call, decoding and PNG encoding; nothing is written to disk). Then, if asked,
/// throughput with 4 images per request, and sgemm at the denoiser's own shapes and at 1024³,
/// in the same process with the same threads.
public struct BenchRunner: Sendable {
    /// The engine under test (its ``StrobeEngine/maxBatch`` should be 1).
    public let engine: StrobeEngine
    /// What to measure.
    public let settings: BenchSettings

    public init(engine: StrobeEngine, settings: BenchSettings) {
        self.engine = engine
        self.settings = settings
    }

    /// The image size the settings give for this engine's model.
    public var size: ImageSize { settings.size ?? engine.size(of: settings.aspectRatio) }

    /// Runs every measurement; `log` receives a line per finished part (for progress on stderr).
    public func run(environment: BenchEnvironment, log: (String) -> Void = { _ in }) async throws(BenchError) -> Report {
        try settings.validate()
        // Every generation and sgemm measurement runs with `settings.threads` (a task-local
        // limit); the process-wide `Parallel.threads` is left alone.
        var modes: [Report.ModeResult] = []
        var firstImages: [String: [UInt8]] = [:]
        var comparisons: [Report.PrecisionComparison] = []
        var reframeCosts: [Report.ReframeCost] = []
        for mode in settings.modes {
            let (result, png, images) = try await measure(mode, precision: settings.precision)
            modes.append(result)
            if let png { firstImages[mode.name] = png }
            log(String(format: "%@: median %.1f ms, min %.1f ms over %d runs (%@)", mode.name,
                       result.medianMilliseconds, result.minMilliseconds, result.runMilliseconds.count,
                       settings.precision.rawValue))
            if mode.operation == .reframe, let canvas = result.size {
                // Text to image at the reframe's size, same sampler, steps and inputs: the cost ratio.
                var times: [Double] = []
                for index in 0..<settings.runs(for: mode) {
                    let (prompt, seed) = settings.input(index)
                    times.append(try await generate(
                        on: engine, BenchMode(mode.sampler, steps: mode.steps), prompt: prompt, seed: seed, size: canvas).1)
                }
                let cost = Report.ReframeCost(
                    mode: mode, size: canvas, reframeMilliseconds: result.medianMilliseconds,
                    generateMilliseconds: Statistics.median(times) ?? 0)
                reframeCosts.append(cost)
                log(String(format: "%@: %.1f ms; text to image at %@: %.1f ms (%.2fx)", mode.name, cost.reframeMilliseconds,
                           "\(canvas)", cost.generateMilliseconds, cost.ratio))
            }
            if settings.precision != .fp32 {
                // The same runs in fp32, in the same process: the speed-up and each image's PSNR.
                let (reference, _, referenceImages) = try await measure(mode, precision: .fp32)
                let comparison = Report.PrecisionComparison(
                    mode: mode, precision: settings.precision, fp32Milliseconds: reference.medianMilliseconds,
                    milliseconds: result.medianMilliseconds,
                    psnr: zip(images, referenceImages).map { $0.psnr(against: $1) })
                comparisons.append(comparison)
                log(String(format: "%@ in fp32: median %.1f ms; %@ is %.2fx as fast, PSNR against fp32 %.1f dB at least",
                           mode.name, reference.medianMilliseconds, settings.precision.rawValue, comparison.speedup,
                           comparison.minPSNR))
            }
        }
        // Peak memory of loading and generating one image at a time, before the throughput runs
        // (four images at once) and the sgemm reference (its own 1024³ matrices) add their own.
        let generationPeak = ProcessMemory.peakResidentMiB()

        var throughput: Report.Throughput?
        if settings.throughput {
            throughput = try await measureThroughput(count1: modes.first { $0.mode == BenchMode.throughput })
            if let throughput {
                log(String(format: "throughput %@: %.2f images/s (count 1), %.2f (count 4), %.2f (count 4 batched)",
                           throughput.mode.name, throughput.count1, throughput.count4, throughput.count4Batched))
            }
        }

        // The denoiser's rate: FLOPs at the median prompt length over the median call.
        let architecture = engine.model.architecture
        var lengths: [Int] = []
        for prompt in settings.prompts {
            do { lengths.append(try engine.tokenize(prompt).count) } catch { throw .pipeline(error) }
        }
        let textLength = lengths.sorted()[lengths.count / 2]
        // The denoiser's rate from text-to-image modes only: edits run at other sizes.
        let calls = modes.filter { $0.mode.operation == .generate }.flatMap(\.allCallMilliseconds)
        var denoiser: Report.DenoiserRate?
        if let median = Statistics.median(calls) {
            denoiser = Report.DenoiserRate(
                flopsPerCall: architecture.flopsPerCall(height: size.height, width: size.width, textLength: textLength),
                textLength: textLength, callMedianMilliseconds: median, calls: calls.count)
        }
        var sgemm: SgemmReference?, lowPrecisionProducts: SgemmReference?
        if settings.sgemm {
            let products = architecture.matrixProducts(height: size.height, width: size.width, textLength: textLength)
            sgemm = SgemmReference.measure(products, threads: settings.threads, minSeconds: settings.sgemmMinSeconds)
            if let sgemm {
                log(String(format: "sgemm: %.1f GFLOPS FLOP-weighted at the denoiser's shapes, %.1f at 1024³",
                           sgemm.weightedGFLOPS, sgemm.square1024GFLOPS))
            }
            if settings.precision != .fp32 {
                lowPrecisionProducts = SgemmReference.measure(
                    products, threads: settings.threads, minSeconds: settings.sgemmMinSeconds, precision: settings.precision)
                if let low = lowPrecisionProducts {
                    log(String(format: "%@ products: %.1f GFLOPS FLOP-weighted at the denoiser's shapes, %.1f at 1024³",
                               settings.precision.rawValue, low.weightedGFLOPS, low.square1024GFLOPS))
                }
            }
        }

        let setup = Report.Setup(
            model: engine.info.name, modelSHA256: engine.info.sha256, size: size, prompts: settings.prompts,
            seeds: settings.seeds, runs: settings.runs, fullRuns: settings.fullRuns, warmup: settings.warmup,
            modes: settings.modes.map(\.name))
        var report = Report(
            modes: modes, throughput: throughput, denoiser: denoiser, sgemm: sgemm,
            peakRSSMiB: generationPeak, weightsMiB: Double(engine.info.fileSize) / 1_048_576,
            environment: environment, setup: setup)
        report.firstImages = firstImages
        report.precision = settings.precision
        report.precisionComparisons = comparisons
        report.lowPrecisionProducts = lowPrecisionProducts
        report.reframeCosts = reframeCosts
        return report
    }

    /// One generation of `count` images; returns the result and its end-to-end time.
    func generate(
        on engine: StrobeEngine, _ mode: BenchMode, prompt: String, seed: UInt64, count: Int = 1,
        precision: Precision? = nil, size: ImageSize? = nil
    ) async throws(BenchError) -> (GenerationResult, Double) {
        let config = GenerationConfig(
            prompt: prompt, aspectRatio: settings.aspectRatio, size: size ?? settings.size, seed: seed,
            sampler: mode.sampler, steps: mode.steps, count: count, threads: settings.threads,
            precision: precision ?? settings.precision)
        let clock = ContinuousClock(), start = clock.now
        do {
            let result = try await engine.generate(config)
            return (result, Statistics.milliseconds(clock.now - start))
        } catch {
            throw .pipeline(error)
        }
    }

    /// One timed run of `mode`: text to image, or an edit of the image text to image makes for the
    /// same prompt and seed at the model's 1:1 size (made outside the timed part).
    func run(
        _ mode: BenchMode, prompt: String, seed: UInt64, precision: Precision?
    ) async throws(BenchError) -> (GenerationResult, Double) {
        guard mode.operation != .generate else {
            return try await generate(on: engine, mode, prompt: prompt, seed: seed, precision: precision)
        }
        let made = try await generate(on: engine, BenchMode(mode.sampler, steps: mode.steps), prompt: prompt, seed: seed,
                                      precision: precision, size: engine.size(of: .square))
        let input: InputImage
        do { input = try InputImage.decode(made.0.images[0].png) } catch { throw .pipeline(.image(error)) }
        let operation: EditOperation
        switch mode.operation {
        case .edit: operation = .modify(strength: BenchMode.editStrength)
        case .inpaint:
            let (w, h) = (input.image.width, input.image.height)
            let upperRight = (0..<(w * h)).map { i -> Float in i % w >= w / 2 && i / w < h / 2 ? 1 : 0 }
            operation = .inpaint(mask: EditMask(width: w, height: h, values: upperRight), strength: 1)
        default: operation = .reframe(ratio: BenchMode.reframeRatio, size: nil, anchor: .center)
        }
        let request = EditRequest(input: input, operation: operation, config: GenerationConfig(
            prompt: prompt, seed: seed, sampler: mode.sampler, steps: mode.steps, threads: settings.threads,
            precision: precision ?? settings.precision))
        let clock = ContinuousClock(), start = clock.now
        do {
            let result = try await engine.edit(request)
            return (result, Statistics.milliseconds(clock.now - start))
        } catch {
            throw .pipeline(error)
        }
    }

    /// Warm-up and timed runs of one mode in `precision` (default: the settings'); returns its
    /// result, the first timed run's PNG and every timed run's image.
    func measure(
        _ mode: BenchMode, precision: Precision? = nil
    ) async throws(BenchError) -> (Report.ModeResult, [UInt8]?, [RGBImage]) {
        for _ in 0..<settings.warmup {
            _ = try await run(mode, prompt: settings.prompts[0], seed: settings.seeds[0], precision: precision)
        }
        var images: [RGBImage] = []
        var sizes: [ImageSize] = []
        var totals: [Double] = [], stages: [String: [Double]] = [:], calls: [[Double]] = [], lengths: [Int] = []
        var first: [UInt8]?
        for index in 0..<settings.runs(for: mode) {
            let (prompt, seed) = settings.input(index)
            let (result, total) = try await run(mode, prompt: prompt, seed: seed, precision: precision)
            if index == 0 { first = result.images.first?.png }
            if let image = result.images.first?.image { images.append(image) }
            sizes.append(result.plan.size)
            totals.append(total)
            let t = result.timings
            let ms = Statistics.milliseconds
            let values: [String: Double] = [
                "tokenize": ms(t.tokenize), "encode": ms(t.encodeText), "noise": ms(t.noise),
                "denoise": ms(t.denoising), "decode": ms(t.decode.reduce(.zero, +)), "png": ms(t.png.reduce(.zero, +)),
            ]
            for (key, value) in values { stages[key, default: []].append(value) }
            calls.append(t.denoiserCalls.map(ms))
            lengths.append(result.plan.tokenIDs.count)
        }
        let callCount = calls.map(\.count).max() ?? 0
        let perCall = (0..<callCount).map { i in Statistics.median(calls.compactMap { i < $0.count ? $0[i] : nil }) ?? 0 }
        var result = Report.ModeResult(
            mode: mode, runMilliseconds: totals, stages: stages.compactMapValues(Statistics.median),
            callMilliseconds: perCall, allCallMilliseconds: calls.flatMap { $0 }, textLengths: lengths)
        result.size = sizes.first
        return (result, first, images)
    }

    /// Images per second of ``BenchMode/throughput`` with 1 and 4 images per request; count 1
    /// reuses that mode's result when it ran.
    func measureThroughput(count1 measured: Report.ModeResult?) async throws(BenchError) -> Report.Throughput {
        let mode = BenchMode.throughput
        let runs = max(1, min(settings.runs, 3))
        let count1: Double
        if let measured {
            count1 = 1000 / measured.medianMilliseconds
        } else {
            let (result, _, _) = try await measure(mode)
            count1 = 1000 / result.medianMilliseconds
        }
        let batched: StrobeEngine
        do {
            let file = try WeightsFile(path: engine.info.path)
            batched = try StrobeEngine(file: file, model: engine.model, sha256: engine.info.sha256, maxBatch: 4)
        } catch let error as WeightsError {
            throw .pipeline(.weights(error))
        } catch let error as PipelineError {
            throw .pipeline(error)
        } catch {
            throw .invalidSetting("\(error)")
        }
        var rates: [Double] = []
        for target in [engine, batched] {
            for _ in 0..<settings.warmup {
                _ = try await generate(on: target, mode, prompt: settings.prompts[0], seed: settings.seeds[0], count: 4)
            }
            var times: [Double] = []
            for index in 0..<runs {
                let (prompt, seed) = settings.input(index)
                times.append(try await generate(on: target, mode, prompt: prompt, seed: seed, count: 4).1)
            }
            rates.append(4000 / Statistics.median(times)!)
        }
        return Report.Throughput(mode: mode, count1: count1, count4: rates[0], count4Batched: rates[1], runs: runs)
    }
}
