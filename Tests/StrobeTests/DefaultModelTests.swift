import Foundation
import Testing
@testable import Strobe

/// The shipped default model (Models/strobe-scenes.safetensors) against the PyTorch reference
/// run on the same file (Fixtures/default-model, made by python/strobe_tools/make_model_fixtures.py
/// --weights …; its README says how).
@Suite struct DefaultModelTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let modelPath = repositoryRoot.appendingPathComponent(ModelLocator.defaultRelativePath).path
    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        .appendingPathComponent("default-model")

    struct Golden: Decodable {
        struct Call: Decodable { let t: Float, gap: Float, beta: Float }
        let prompts: [String]
        let ids: [[Int32]]
        let seeds: [UInt64]
        let width: Int, height: Int
        let full_width: Int, full_height: Int
        let forward: Call
    }

    static func golden() throws -> (Golden, WeightsFile) {
        let info = try JSONDecoder().decode(
            Golden.self, from: Data(contentsOf: directory.appendingPathComponent("golden.json")))
        let tensors = try WeightsFile(
            path: directory.appendingPathComponent("golden.safetensors").path, requireStrobeMetadata: false)
        return (info, tensors)
    }

    @Test func oneDenoiserCallMatchesReference() throws {
        let file = try WeightsFile(path: Self.modelPath)
        let model = try StrobeModel(weights: file)
        let (golden, expected) = try Self.golden()
        let text = model.encodeText(golden.ids[0])
        let textDiff = ModelParityTests.maxAbsDiff(text, try #require(expected.tensor("text.0")))
        #expect(textDiff <= 1e-4, "text states differ by \(textDiff)")
        let call = golden.forward
        // The reference's input: torch.manual_seed(5); torch.randn(1, 3, H, W).
        var generator = TorchGenerator(seed: 5)
        let x = generator.randn(shape: [1, 3, golden.height, golden.width])
        let velocity = model.denoiser.velocity(x: x, t: call.t, gap: call.gap, beta: call.beta, text: text)
        let reference = try #require(expected.tensor("forward.velocity"))
        let diff = ModelParityTests.maxAbsDiff(velocity.reshaped(reference.shape), reference)
        print("default model, one denoiser call at \(golden.width)x\(golden.height): velocity max abs diff \(diff)")
        #expect(diff <= 1e-3, "velocity differs by \(diff) (max abs)")
    }

    @Test(arguments: [("flash", 4, 45.0), ("full", 100, 40.0)])
    func generationMatchesReference(sampler: String, steps: Int, minimumPSNR: Double) async throws {
        let engine = try StrobeEngine(modelPath: Self.modelPath)
        let (golden, expected) = try Self.golden()
        let size = sampler == "full"
            ? ImageSize(width: golden.full_width, height: golden.full_height)
            : ImageSize(width: golden.width, height: golden.height)
        for seed in golden.seeds {
            let config = GenerationConfig(
                prompt: golden.prompts[0], size: size, seed: seed,
                sampler: SamplerKind(rawValue: sampler)!, steps: steps)
            let result = try await engine.generate(config)
            let reference = try #require(expected.tensor("\(sampler)\(steps).\(seed)"))
            let (maxAbs, psnr) = PipelineTests.compare(result.images[0].image.pixels, PipelineTests.pixels(reference))
            print("default model \(sampler) \(steps) steps at \(size.width)x\(size.height), seed \(seed): max abs \(maxAbs), PSNR \(psnr) dB")
            #expect(psnr >= minimumPSNR, "\(sampler) seed \(seed): PSNR \(psnr) dB, max abs diff \(maxAbs)")
        }
    }

    /// Mean brightness (0…1, all three planes) of rows `rows` of a planar `[3, H, W]` image.
    static func brightness(_ image: RGBImage, rows: Range<Int>) -> Double {
        var sum = 0.0
        for plane in 0..<3 {
            for y in rows {
                let start = (plane * image.height + y) * image.width
                for x in 0..<image.width { sum += Double(image.pixels[start + x]) }
            }
        }
        return sum / Double(3 * rows.count * image.width)
    }

    /// The shipped model follows its prompts where the picture is decided: with the same noise,
    /// a night sky is darker than a noon sky, and snow lies brighter than a forest, for every seed.
    @Test func promptsDecideTimeOfDayAndTerrain() async throws {
        let engine = try StrobeEngine(modelPath: Self.modelPath)
        let size = ImageSize(width: 256, height: 256)
        func image(_ prompt: String, _ seed: UInt64) async throws -> RGBImage {
            try await engine.generate(GenerationConfig(prompt: prompt, size: size, seed: seed)).images[0].image
        }
        let sky = 0..<96, ground = 192..<256
        for seed: UInt64 in [1, 2, 3] {
            let noon = Self.brightness(try await image("a lake at noon", seed), rows: sky)
            let night = Self.brightness(try await image("a lake at night", seed), rows: sky)
            print("seed \(seed): sky brightness noon \(noon), night \(night)")
            #expect(noon - night >= 0.2, "seed \(seed): noon sky \(noon), night sky \(night)")
            let snow = Self.brightness(try await image("snowy mountains at noon", seed), rows: ground)
            let forest = Self.brightness(try await image("a forest at noon", seed), rows: ground)
            print("seed \(seed): ground brightness snow \(snow), forest \(forest)")
            #expect(snow - forest >= 0.1, "seed \(seed): snowy ground \(snow), forest ground \(forest)")
        }
    }
}
