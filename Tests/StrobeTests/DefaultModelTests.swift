import Foundation
import Testing
@testable import Strobe

/// The shipped default model (Models/strobe-scenes.safetensors) against the PyTorch reference
/// run on the same file (Fixtures/default-model, made by scripts/make_model_fixtures.py
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
}
