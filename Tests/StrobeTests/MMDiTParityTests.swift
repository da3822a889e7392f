import Foundation
import Testing
@testable import Strobe

/// The v2 model (`strobe-mmdit`: latent MMDiT, fill input, latent autoencoder) against the
/// PyTorch reference on a small random model (Fixtures/mmdit/README.md says how it was made).
@Suite struct MMDiTParityTests {
    struct Golden: Decodable {
        struct Call: Decodable {
            let t: Float
            let gap: Float
            let beta: Float
        }
        let prompts: [String]
        let ids: [[Int32]]
        let seeds: [UInt64]
        let width: Int
        let height: Int
        let guidance: Float
        let forward: Call
    }

    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        .appendingPathComponent("mmdit")
    static let model: LatentStrobeModel = try! LatentStrobeModel(weights: modelFile())

    static func modelFile() throws -> WeightsFile {
        try WeightsFile(path: directory.appendingPathComponent("random.safetensors").path)
    }

    static func goldenTensors() throws -> WeightsFile {
        try WeightsFile(path: directory.appendingPathComponent("golden.safetensors").path, requireStrobeMetadata: false)
    }

    static func golden() throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: directory.appendingPathComponent("golden.json")))
    }

    static func tensor(_ name: String) throws -> Tensor {
        try #require(try goldenTensors().tensor(name), "golden tensor \(name)")
    }

    // MARK: - Architecture and loading

    @Test func architectureDecodesAndRoundTrips() throws {
        let config = Self.model.config
        #expect(config.family == "strobe-mmdit" && config.denoiser.depth == 2 && config.denoiser.hiddenSize == 48)
        #expect(config.denoiser.latentChannels == 4 && config.autoencoder.latentChannels == 4 && config.denoiser.fill)
        #expect(try LatentArchitectureConfig(json: config.json()) == config)
        let file = try Self.modelFile()
        #expect(MMDiTCheckpoint.expectedTensorShapes(for: config) == file.tensors.mapValues(\.shape))
    }

    @Test func brokenArchitectureListsEveryProblem() throws {
        let json = Self.model.config.json()
            .replacingOccurrences(of: "\"hidden_size\":48", with: "\"hidden_size\":50")
            .replacingOccurrences(of: "\"latent_channels\":4,\"max_period\"", with: "\"latent_channels\":8,\"max_period\"")
            .replacingOccurrences(of: "\"latent_factor\":16", with: "\"latent_factor\":8")
        #expect(json != Self.model.config.json())
        do {
            _ = try LatentArchitectureConfig(json: json)
            Issue.record("a broken architecture was accepted")
        } catch {
            let problems = error.problems.joined(separator: "\n")
            #expect(problems.contains("latent_factor 8"))
            #expect(problems.contains("denoiser.latent_channels 8 is not autoencoder.latent_channels 4"))
            #expect(problems.contains("denoiser.hidden_size / denoiser.num_heads = 50 / 2 = 25 must be a multiple of 4"))
        }
        #expect(throws: ArchitectureError.self) {
            try LatentArchitectureConfig(json: Self.model.config.json().replacingOccurrences(of: "\"fill\":true", with: "\"fill\":true,\"extra\":1"))
        }
    }

    /// A broken v2 file: every problem of the denoiser and the autoencoder in one error.
    @Test func brokenV2FileReportsEveryProblem() throws {
        let file = try Self.modelFile()
        var entries: [String: WeightsWriter.Entry] = [:]
        for name in file.tensors.keys { entries[name] = .init(file.tensor(name)!) }
        // Missing and unexpected tensors.
        var missing = entries
        missing["denoiser.blocks.1.txt.kv.weight"] = nil
        missing["denoiser.blocks.1.txt.qkv.weight"] = .init(Tensor(shape: [144, 48], repeating: 0))
        let shapes = try WeightsFile(path: try TemporaryFile.write(WeightsWriter.encode(tensors: missing, metadata: file.metadata)))
        let shapeError = #expect(throws: WeightsError.self) { try LatentStrobeModel(weights: shapes) }
        #expect(shapeError?.problems.contains(.missingTensor("denoiser.blocks.1.txt.kv.weight")) == true)
        #expect(shapeError?.problems.contains(.unexpectedTensor("denoiser.blocks.1.txt.qkv.weight")) == true)
        // Non-finite values in the denoiser and in the autoencoder, reported together.
        let aeName = try #require(file.tensors.keys.sorted().first { $0.hasPrefix("autoencoder.decoder.") && $0.hasSuffix(".weight") })
        var nonFinite = entries
        for name in ["denoiser.final_linear.weight", aeName] {
            var t = file.tensor(name)!
            t.storage[1] = .infinity
            nonFinite[name] = .init(t)
        }
        let values = try WeightsFile(path: try TemporaryFile.write(WeightsWriter.encode(tensors: nonFinite, metadata: file.metadata)))
        let valueError = #expect(throws: WeightsError.self) { try LatentStrobeModel(weights: values) }
        let named = (valueError?.problems ?? []).compactMap { problem -> String? in
            if case .nonFiniteValues(let tensor, _, _) = problem { tensor } else { nil }
        }
        #expect(Set(named) == ["denoiser.final_linear.weight", aeName], "\(named)")
    }

    /// A v2 file given to v1's loader is refused with the family named.
    @Test func v2FileIsRejectedByTheV1Loader() throws {
        let error = #expect(throws: WeightsError.self) { try StrobeModel(weights: try Self.modelFile()) }
        #expect(error?.description.contains("family 'strobe-mmdit' is not 'strobe-dit'") == true, "\(String(describing: error))")
    }

    /// A v1 file is not a v2 model, and the error says why.
    @Test func v1FileIsRejectedByTheV2Loader() throws {
        let v1 = try WeightsFile(path: ModelParityTests.directory.appendingPathComponent("random.safetensors").path)
        #expect {
            _ = try LatentStrobeModel(weights: v1)
        } throws: { error in
            String(describing: error).contains("family 'strobe-dit' is not 'strobe-mmdit'")
        }
    }

    // MARK: - Parity

    @Test func textEncoderMatchesReference() throws {
        let golden = try Self.golden()
        for i in golden.prompts.indices {
            let states = Self.model.encodeText(golden.ids[i])
            let diff = ModelParityTests.maxAbsDiff(states, try Self.tensor("text.\(i)"))
            #expect(diff <= 1e-4, "prompt \(i): text states differ by \(diff)")
        }
    }

    /// One call on two latents with two prompts of different lengths (padding masked), image 0
    /// with half its cells given in the fill input, image 1 with none; and image 0 alone without fill.
    @Test func denoiserCallMatchesReference() throws {
        let golden = try Self.golden(), call = golden.forward, denoiser = Self.model.denoiser
        let z = try Self.tensor("forward.z"), fill = try Self.tensor("forward.fill")
        let texts = [Self.model.encodeText(golden.ids[0]), Self.model.encodeText(golden.ids[2])]
        let xHat = denoiser.xHat(
            z: z, t: call.t, gap: call.gap, beta: call.beta, conditioning: denoiser.prepare(texts: texts), fill: fill)
        let diff = ModelParityTests.maxAbsDiff(xHat, try Self.tensor("forward.x_hat"))
        #expect(diff <= 1e-3, "x̂ differs by \(diff) (max abs)")

        let first = Ops.split(z, parts: 2, axis: 0)[0]                            // [1, C, h, w]
        let alone = denoiser.xHat(
            z: first, t: call.t, gap: call.gap, beta: call.beta, conditioning: denoiser.prepare(text: texts[0]))
        let aloneDiff = ModelParityTests.maxAbsDiff(alone, try Self.tensor("forward.x_hat_nofill"))
        #expect(aloneDiff <= 1e-3, "x̂ without fill differs by \(aloneDiff) (max abs)")
    }

    /// The fast path (workspace, fused kernels) against the op-by-op reference: one prompt or one
    /// per latent (padded), with and without fill, and a workspace reused across calls.
    @Test func fastPathMatchesTheReference() throws {
        let golden = try Self.golden(), call = golden.forward, denoiser = Self.model.denoiser
        let z = try Self.tensor("forward.z"), fill = try Self.tensor("forward.fill")
        let texts = [Self.model.encodeText(golden.ids[0]), Self.model.encodeText(golden.ids[2])]
        for conditioning in [denoiser.prepare(text: texts[0]), denoiser.prepare(texts: texts)] {
            let workspace = denoiser.makeWorkspace(batch: 2, height: 4, width: 6, textLength: conditioning.length)
            for (t, f) in [(call.t, fill as Tensor?), (Float(1), nil), (Float(0.1), fill)] {
                let fast = denoiser.xHat(z: z, t: t, gap: call.gap, beta: call.beta, conditioning: conditioning, fill: f,
                                         workspace: workspace)
                let reference = denoiser.referenceXHat(z: z, t: t, gap: call.gap, beta: call.beta,
                                                       conditioning: conditioning, fill: f)
                let diff = ModelParityTests.maxAbsDiff(fast, reference)
                #expect(diff <= 1e-4, "t \(t), \(conditioning.batch) prompts, fill \(f != nil): max abs diff \(diff)")
            }
        }
    }

    /// The fill path has no bias: a fill input that keeps nothing is exactly text to image, and
    /// a batch gives each latent what it gets alone.
    @Test func emptyFillIsTextToImageAndBatchesAgree() throws {
        let golden = try Self.golden(), call = golden.forward, denoiser = Self.model.denoiser
        let z = try Self.tensor("forward.z"), fill = try Self.tensor("forward.fill")
        let conditioning = denoiser.prepare(text: Self.model.encodeText(golden.ids[0]))
        let second = Ops.split(z, parts: 2, axis: 0)[1], emptyFill = Ops.split(fill, parts: 2, axis: 0)[1]
        #expect(emptyFill.storage.allSatisfy { $0 == 0 })
        let withEmpty = denoiser.xHat(z: second, t: call.t, gap: call.gap, beta: call.beta, conditioning: conditioning, fill: emptyFill)
        let without = denoiser.xHat(z: second, t: call.t, gap: call.gap, beta: call.beta, conditioning: conditioning)
        #expect(withEmpty == without)

        let both = denoiser.xHat(z: z, t: call.t, gap: call.gap, beta: call.beta, conditioning: conditioning, fill: fill)
        let parts = Ops.split(both, parts: 2, axis: 0), zs = Ops.split(z, parts: 2, axis: 0)
        let fills = Ops.split(fill, parts: 2, axis: 0)
        for i in 0..<2 {
            let single = denoiser.xHat(z: zs[i], t: call.t, gap: call.gap, beta: call.beta, conditioning: conditioning, fill: fills[i])
            #expect(ModelParityTests.maxAbsDiff(parts[i], single) <= 1e-5, "latent \(i)")
        }
    }

    /// Flash 4 and full 100 from the reference's noise, and the decoded picture: PSNR ≥ 45 dB
    /// (flash) and ≥ 40 dB (full) on the decoded pixels, as the v1 parity bar.
    @Test(arguments: [("flash", 4, 45.0), ("full", 100, 40.0)])
    func samplingMatchesReference(sampler kind: String, steps: Int, minimumPSNR: Double) async throws {
        let golden = try Self.golden(), model = Self.model
        let conditioning = model.denoiser.prepare(text: model.encodeText(golden.ids[0]))
        let shape = model.autoencoder.latentShape(width: golden.width, height: golden.height)  // [C, h, w]
        let sampler = try SamplerKind(rawValue: kind)!.sampler(steps: steps)
        let decoder = LatentDecoder(autoencoder: model.autoencoder)
        for seed in golden.seeds {
            let noise = StrobeEngine.noise(seeds: [seed], shape: shape)          // [1, C, h, w]
            let beta = 1 / golden.guidance
            let velocity = { (z: Tensor, step: SamplerStep) throws(PipelineError) -> Tensor in
                model.denoiser.velocity(z: z, t: step.t, gap: step.gap, beta: beta, conditioning: conditioning)
            }
            let z0 = try await sampler.run(from: noise, velocity: velocity) { (_: Int) async throws(PipelineError) in }
            let reference = try Self.tensor("\(kind)\(steps).\(seed)")
            let latentDiff = ModelParityTests.maxAbsDiff(z0.reshaped(shape), reference)
            let image = try decoder.decode(z0.reshaped(shape))
            let referenceImage = try decoder.decode(reference)
            let (maxAbs, psnr) = PipelineTests.compare(image.pixels, referenceImage.pixels)
            print("v2 parity \(kind) \(steps), seed \(seed): latent max abs \(latentDiff), pixels max abs \(maxAbs), PSNR \(psnr) dB")
            #expect(psnr >= minimumPSNR, "\(kind) seed \(seed): PSNR \(psnr) dB")
            if kind == "flash" {
                let goldenImage = try Self.tensor("image.\(seed)")                 // [3, H, W] in [0, 1]
                let (_, decodedPSNR) = PipelineTests.compare(image.pixels, try RGBImage(tensor: goldenImage).pixels)
                #expect(decodedPSNR >= minimumPSNR, "flash seed \(seed): decoded picture PSNR \(decodedPSNR) dB")
            }
        }
    }
}
