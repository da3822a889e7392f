import Foundation
import Synchronization
import Testing
@testable import Strobe

/// The engine end to end on the small random fixture model (Fixtures/model/README.md), against
/// the PyTorch reference samplers' outputs in golden.safetensors.
@Suite struct PipelineTests {
    static let modelPath = ModelParityTests.directory.appendingPathComponent("random.safetensors").path
    static let engine: StrobeEngine = try! StrobeEngine(modelPath: modelPath)
    static let fixtureSize = ImageSize(width: 48, height: 32)

    static func prompt0() throws -> String { try ModelParityTests.golden().prompts[0] }

    /// Max abs difference and PSNR (dB, peak 1) of two pixel arrays.
    static func compare(_ a: [Float], _ b: [Float]) -> (maxAbs: Float, psnr: Double) {
        precondition(a.count == b.count)
        var maxAbs: Float = 0, squared = 0.0
        for (x, y) in zip(a, b) {
            maxAbs = max(maxAbs, abs(x - y))
            squared += Double(x - y) * Double(x - y)
        }
        let mse = squared / Double(a.count)
        return (maxAbs, mse == 0 ? .infinity : 10 * log10(1 / mse))
    }

    /// The reference's `to_pixels`: `clamp((x₀ + 1) / 2, 0, 1)`.
    static func pixels(_ x0: Tensor) -> [Float] {
        x0.storage.map { min(max(($0 + 1) / 2, 0), 1) }
    }

    // MARK: - Parity

    @Test func noiseMatchesReference() throws {
        let golden = try ModelParityTests.goldenTensors()
        for seed in [0, 42] as [UInt64] {
            let noise = StrobeEngine.noise(seeds: [seed], shape: [3, 32, 48])
            #expect(noise.reshaped([3, 32, 48]) == (try #require(golden.tensor("noise.\(seed)"))), "seed \(seed)")
        }
    }

    @Test(arguments: [("flash", 4, 45.0), ("full", 100, 40.0)])
    func samplesMatchReference(sampler: String, steps: Int, minimumPSNR: Double) async throws {
        let golden = try ModelParityTests.goldenTensors()
        for seed in [0, 42] as [UInt64] {
            let config = GenerationConfig(
                prompt: try Self.prompt0(), size: Self.fixtureSize, seed: seed,
                sampler: SamplerKind(rawValue: sampler)!, steps: steps)
            let result = try await Self.engine.generate(config)
            let reference = try #require(golden.tensor("\(sampler)\(steps).\(seed)"))
            let (maxAbs, psnr) = Self.compare(result.images[0].image.pixels, Self.pixels(reference))
            print("parity \(sampler) \(steps) steps, seed \(seed): pixels max abs diff \(maxAbs), PSNR \(psnr) dB")
            #expect(psnr >= minimumPSNR, "\(sampler) seed \(seed): PSNR \(psnr) dB, max abs diff \(maxAbs)")
            #expect(result.timings.denoiserCalls.count == steps)
        }
    }

    // MARK: - Reproducibility

    /// Image i of a request is exactly what a request for seed + i alone gives.
    @Test func countImagesEqualSingleImages() async throws {
        let config = GenerationConfig(prompt: "snowy peaks at dusk", size: Self.fixtureSize, seed: 100, count: 3)
        let result = try await Self.engine.generate(config)
        #expect(result.images.map(\.seed) == [100, 101, 102])
        #expect(result.timings.denoiserCalls.count == 12)
        for image in result.images {
            var alone = config
            alone.count = 1
            alone.seed = image.seed
            let single = try await Self.engine.generate(alone).images[0]
            let same = single.png == image.png
            #expect(same, "image \(image.index) differs from its single-image self")
        }
    }

    /// Batched denoiser calls (`maxBatch` > 1) agree with single images to the last bits: at
    /// 64x64 with 4 images the batch crosses OpenBLAS's small-matrix limit (M·N·K ≤ 100³).
    @Test(arguments: [(ImageSize(width: 48, height: 32), 3), (ImageSize(width: 64, height: 64), 4)])
    func batchedCallsAgreeWithSingleImages(size: ImageSize, count: Int) async throws {
        let batchedEngine = try StrobeEngine(modelPath: Self.modelPath, maxBatch: 4)
        let config = GenerationConfig(prompt: "snowy peaks at dusk", size: size, seed: 100, count: count)
        let batched = try await batchedEngine.generate(config)
        #expect(batched.timings.denoiserCalls.count == 4, "one batch")
        let singles = try await Self.engine.generate(config)
        for (a, b) in zip(batched.images, singles.images) {
            let (maxAbs, psnr) = Self.compare(a.image.pixels, b.image.pixels)
            print("batch of \(count) at \(size), image \(a.index): max abs diff \(maxAbs), PSNR \(psnr) dB")
            #expect(psnr > 100, "image \(a.index): PSNR \(psnr) dB")
        }
    }

    // MARK: - Cancellation and progress

    @Test func cancelAfterStepTwo() async throws {
        let directory = try TemporaryFile.directory()
        let calls = Counter()
        let config = GenerationConfig(prompt: "a house", size: Self.fixtureSize, seed: 1, steps: 4)
        await #expect(throws: PipelineError.cancelled) {
            _ = try await Self.engine.generate(config) { progress in
                calls.increment()
                return progress.step == 2 ? .cancel : .proceed
            }
        }
        #expect(calls.value == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test func taskCancellationThrowsCancelled() async throws {
        let config = GenerationConfig(prompt: "a house", size: Self.fixtureSize, seed: 1, sampler: .full, steps: 1000)
        let task = Task { try await Self.engine.generate(config) }
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        let result = await task.result
        #expect(throws: PipelineError.cancelled) { try result.get() }
    }

    @Test func progressReportsEveryCall() async throws {
        let seen = Recorder()
        let config = GenerationConfig(prompt: "a tree", size: Self.fixtureSize, seed: 3, steps: 2, count: 2)
        let engine = try StrobeEngine(modelPath: Self.modelPath, maxBatch: 1)
        let result = try await engine.generate(config) { progress in
            seen.append(progress)
            return .proceed
        }
        let reports = seen.values
        #expect(reports.map(\.step) == [1, 2, 1, 2])
        #expect(reports.map(\.completedCalls) == [1, 2, 3, 4] && reports.allSatisfy { $0.totalCalls == 4 })
        #expect(reports.map(\.images) == [0..<1, 0..<1, 1..<2, 1..<2])
        #expect(result.timings.decode.count == 2 && result.timings.png.count == 2)
        #expect(result.timings.total >= result.timings.denoising)
    }

    // MARK: - Prompts

    @Test func promptLimitCountsTokensWithoutEOS() async throws {
        let engine = Self.engine
        let limit = engine.maxPromptTokens
        #expect(limit == 1000)
        func prompt(_ words: Int) -> String { Array(repeating: "a", count: words).joined(separator: " ") }
        let perWord = engine.tokenizer.encode("a a", addEOS: false).count / 2
        try #require(perWord >= 1 && limit % perWord == 0)
        let exact = prompt(limit / perWord)
        #expect(engine.tokenizer.encode(exact, addEOS: false).count == limit)
        var config = GenerationConfig(prompt: exact, size: ImageSize(width: 8, height: 8), seed: 0, steps: 1)
        let result = try await engine.generate(config)
        #expect(result.plan.promptTokenCount == limit && result.plan.tokenIDs.count == limit + 1)

        config.prompt = exact + " a"
        let over = engine.tokenizer.encode(config.prompt, addEOS: false).count
        #expect(over == limit + perWord)
        let error = await #expect(throws: PipelineError.promptTooLong(tokens: over, limit: limit)) {
            try await engine.generate(config)
        }
        #expect(error?.description == "the prompt has \(over) tokens; the model accepts at most 1000")
    }

    @Test func emptyPromptIsUnconditional() async throws {
        let config = GenerationConfig(prompt: "", size: Self.fixtureSize, seed: 5)
        let image = try await Self.engine.generate(config).images[0]
        #expect(image.metadata.unconditional)
        let file = try PNGCodec.decode(image.png)
        #expect(file.text(forKey: "strobe")?.contains("\"unconditional\":true") == true)
    }

    // MARK: - Sizes

    @Test func allAspectRatiosProduceDocumentedSizes() async throws {
        for ratio in AspectRatio.allCases {
            let config = GenerationConfig(prompt: "dunes", aspectRatio: ratio, seed: 0, steps: 1)
            let image = try await Self.engine.generate(config).images[0]
            let file = try PNGCodec.decode(image.png)
            #expect(file.image.width == ratio.defaultSize.width && file.image.height == ratio.defaultSize.height,
                    "\(ratio.rawValue)")
        }
    }

    @Test func aspectRatioParsingAndScaling() {
        #expect(AspectRatio(parsing: "16:9") == .landscape16x9)
        #expect(AspectRatio(parsing: " 9x21 ") == .portrait9x21)
        #expect(AspectRatio(parsing: "5:4") == nil)
        #expect(AspectRatio.allCases.count == 9)
        #expect(AspectRatio.square.size(patchSize: 8) == ImageSize(width: 256, height: 256))
        #expect(AspectRatio.landscape16x9.size(patchSize: 16) == ImageSize(width: 336, height: 192))
        // Patch 32 does not divide 336 / 208: sides round to the nearest multiple.
        #expect(AspectRatio.landscape16x9.size(patchSize: 32) == ImageSize(width: 352, height: 192))
        #expect(AspectRatio.portrait2x3.size(patchSize: 32) == ImageSize(width: 224, height: 320))
        #expect(ImageSize(parsing: "48x32") == ImageSize(width: 48, height: 32))
        #expect(ImageSize(parsing: "48*32") == nil)
    }

    /// A tokenizer whose ids reach past the text encoder's embedding is refused at load time
    /// (otherwise such an id would index outside the table).
    @Test func tokenizerLargerThanEmbeddingIsRefused() throws {
        let file = try ModelParityTests.modelFile()
        var metadata = file.metadata
        metadata[StrobeMetadata.Key.architecture] = try #require(file.strobe).architectureJSON
            .replacingOccurrences(of: "\"vocab_size\":420", with: "\"vocab_size\":100")
        var entries: [String: WeightsWriter.Entry] = [:]
        for name in file.tensors.keys { entries[name] = .init(file.tensor(name)!) }
        let embedding = file.tensor("text_encoder.embed.weight")!                   // [420, 32]
        entries["text_encoder.embed.weight"] = .init(
            Tensor(shape: [100, 32], storage: Array(embedding.storage.prefix(100 * 32))))
        let path = try TemporaryFile.write(WeightsWriter.encode(tensors: entries, metadata: metadata))
        #expect(throws: PipelineError.weights(WeightsError(path: path, problems: [.invalidArchitecture(
            reason: "the tokenizer has 420 pieces, but text.vocab_size is 100")]))) {
            try StrobeEngine(modelPath: path)
        }
    }

    @Test func invalidSettingsAreRejectedBeforeWork() throws {
        let engine = Self.engine
        func problem(_ config: GenerationConfig) -> PipelineError? {
            do {
                _ = try engine.plan(config)
                return nil
            } catch { return error }
        }
        #expect(problem(GenerationConfig(prompt: "x", size: ImageSize(width: 50, height: 32)))
            == .invalidSize(width: 50, height: 32, patchSize: 8))
        #expect(problem(GenerationConfig(prompt: "x", size: ImageSize(width: 0, height: 32)))
            == .invalidSize(width: 0, height: 32, patchSize: 8))
        #expect(problem(GenerationConfig(prompt: "x", steps: 11)) == .invalidSteps(sampler: "flash", steps: 11, allowed: 1...10))
        #expect(problem(GenerationConfig(prompt: "x", sampler: .full, steps: 1001))
            == .invalidSteps(sampler: "full", steps: 1001, allowed: 1...1000))
        #expect(problem(GenerationConfig(prompt: "x", count: 0)) == .invalidCount(0))
        #expect(problem(GenerationConfig(prompt: "x", threads: 0)) == .invalidThreads(0))
        // Defaults come from the model's metadata.
        let plan = try engine.plan(GenerationConfig(prompt: "x"))
        #expect(plan.steps == 4 && plan.size == ImageSize(width: 256, height: 256) && plan.guidance == 2)
        #expect(try engine.plan(GenerationConfig(prompt: "x", sampler: .full)).steps == 100)
        #expect(plan.seeds.count == 1 && plan.seeds[0] < (1 << 32))
    }

    // MARK: - Metadata

    @Test func metadataChunks() async throws {
        let config = GenerationConfig(prompt: "a sailboat", size: Self.fixtureSize, seed: 11, count: 2)
        let images = try await Self.engine.generate(config).images
        let sha = Self.engine.info.sha256
        #expect(sha == SHA256.hash(fileAt: Self.modelPath)?.hex)
        for image in images {
            let file = try PNGCodec.decode(image.png)
            #expect(file.text(forKey: "parameters") == "a sailboat\nSteps: 4, Sampler: flash, Seed: \(image.seed), "
                + "Size: 48x32, Model hash: \(sha.prefix(10)), Model: random-fixture, Version: Strobe \(strobeVersion)")
            let json = try #require(file.text(forKey: "strobe"))
            let decoded = try JSONDecoder().decode(ImageMetadata.self, from: Data(json.utf8))
            #expect(decoded == image.metadata)
            #expect(decoded.modelSHA256 == sha && decoded.seed == image.seed && decoded.sampler == "flash")
            #expect(decoded.width == 48 && decoded.height == 32 && decoded.steps == 4 && !decoded.unconditional)
        }
        var bare = config
        bare.includeMetadata = false
        bare.count = 1
        let plain = try await Self.engine.generate(bare).images[0]
        #expect(try PNGCodec.decode(plain.png).text.isEmpty)
        #expect(try PNGCodec.decode(plain.png).image == (try PNGCodec.decode(images[0].png)).image)
    }

    @Test func configCodableWithDefaults() throws {
        let decoded = try JSONDecoder().decode(GenerationConfig.self, from: Data(#"{"prompt":"a lake"}"#.utf8))
        #expect(decoded == GenerationConfig(prompt: "a lake"))
        var full = GenerationConfig(prompt: "p", aspectRatio: .landscape21x9, seed: 9, sampler: .full, steps: 50, count: 2)
        full.size = ImageSize(width: 64, height: 32)
        full.threads = 2
        full.includeMetadata = false
        let data = try JSONEncoder().encode(full)
        #expect(try JSONDecoder().decode(GenerationConfig.self, from: data) == full)
        #expect(String(decoding: data, as: UTF8.self).contains(#""aspect_ratio":"21:9""#))
    }

    // MARK: - Model lookup

    @Test func modelLocatorOrder() throws {
        let root = try TemporaryFile.directory()
        let bin = root.appendingPathComponent("prefix/bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let elsewhere = try TemporaryFile.directory()
        let home = try TemporaryFile.directory()
        let environment = ["HOME": home.path]
        func locate(_ explicit: String? = nil, _ env: [String: String] = environment) throws(PipelineError) -> String {
            try ModelLocator.locate(explicit: explicit, environment: env, executableDirectory: bin.path,
                                    currentDirectory: elsewhere.path)
        }
        func place(_ directory: URL, _ name: String = "strobe-scenes") throws -> String {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let file = directory.appendingPathComponent("\(name).safetensors")
            try Data([1]).write(to: file)
            return file.standardizedFileURL.path
        }
        // Nothing anywhere: the error names the model and every folder searched, in order.
        do {
            _ = try locate()
            Issue.record("found a model where there is none")
        } catch {
            guard case let .namedModelMissing(name, searched) = error else { Issue.record("\(error)"); return }
            #expect(name == "strobe-scenes")
            #expect(searched.first == root.appendingPathComponent("prefix/share/strobe/models").standardizedFileURL.path)
            #expect(searched[1] == home.appendingPathComponent(".local/share/strobe/models").path)
            #expect(searched.last == elsewhere.appendingPathComponent("Models").standardizedFileURL.path)
            #expect(!error.description.contains("train"), "no advice to train: \(error.description)")
        }
        #expect(throws: PipelineError.modelNotFound(path: "/nonexistent.safetensors")) { try locate("/nonexistent.safetensors") }
        // Later folders first, then each earlier one takes over.
        let checkout = try place(root.appendingPathComponent("Models"))
        #expect(try locate() == checkout)
        let user = try place(home.appendingPathComponent(".local/share/strobe/models"))
        #expect(try locate() == user)
        let xdg = try TemporaryFile.directory()
        let xdgModel = try place(xdg.appendingPathComponent("strobe/models"))
        #expect(try locate(nil, ["HOME": home.path, "XDG_DATA_HOME": xdg.path]) == xdgModel)
        let installed = try place(root.appendingPathComponent("prefix/share/strobe/models"))
        #expect(try locate() == installed)
        // By name, by path, and through STROBE_MODEL; --model wins.
        let other = try place(home.appendingPathComponent(".local/share/strobe/models"), "other")
        #expect(try locate("other") == other)
        #expect(throws: PipelineError.namedModelMissing(name: "nothing", searched: ModelLocator.searchDirectories(
            environment: environment, executableDirectory: bin.path, currentDirectory: elsewhere.path))) { try locate("nothing") }
        #expect(try locate(nil, ["HOME": home.path, "STROBE_MODEL": "other"]) == other)
        #expect(try locate(nil, ["HOME": home.path, "STROBE_MODEL": Self.modelPath]) == Self.modelPath)
        #expect(try locate(Self.modelPath, ["STROBE_MODEL": "/nope"]) == Self.modelPath)
        // The listing: every file in search order, the hidden twin marked.
        let listed = ModelLocator.available(environment: environment, executableDirectory: bin.path,
                                            currentDirectory: elsewhere.path)
        #expect(listed.map(\.name) == ["strobe-scenes", "other", "strobe-scenes", "strobe-scenes"])
        #expect(listed.map(\.shadows) == [false, false, true, true])
    }
}

/// A thread-safe counter for handlers.
final class Counter: Sendable {
    private let storage = Mutex<Int>(0)
    func increment() { storage.withLock { $0 += 1 } }
    var value: Int { storage.withLock { $0 } }
}

/// A thread-safe list of progress reports.
final class Recorder: Sendable {
    private let storage = Mutex<[GenerationProgress]>([])
    func append(_ progress: GenerationProgress) { storage.withLock { $0.append(progress) } }
    var values: [GenerationProgress] { storage.withLock { $0 } }
}
