import Foundation
import Testing
@testable import Strobe

/// The Swift model against the PyTorch reference (python/strobe_reference/model.py) on the small random
/// fixture model (Fixtures/model/README.md says how the fixtures were made).
@Suite struct ModelParityTests {
    struct Golden: Decodable {
        struct Call: Decodable {
            let t: Float
            let gap: Float
            let beta: Float
        }
        let prompts: [String]
        let ids: [[Int32]]
        let forward: Call
    }

    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        .appendingPathComponent("model")

    static func modelFile() throws -> WeightsFile {
        try WeightsFile(path: directory.appendingPathComponent("random.safetensors").path)
    }

    static func goldenTensors() throws -> WeightsFile {
        try WeightsFile(path: directory.appendingPathComponent("golden.safetensors").path, requireStrobeMetadata: false)
    }

    static func golden() throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: directory.appendingPathComponent("golden.json")))
    }

    /// The largest absolute elementwise difference (shapes must agree).
    static func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
        precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape) differ")
        return zip(a.storage, b.storage).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    // MARK: - Text encoder

    @Test func textEncoderMatchesReference() throws {
        let file = try Self.modelFile()
        let model = try StrobeModel(weights: file)
        let tokenizer = try Tokenizer(modelData: try #require(file.strobe).tokenizerModel)
        let golden = try Self.golden(), expected = try Self.goldenTensors()
        #expect(golden.prompts.count == 3)
        for (i, prompt) in golden.prompts.enumerated() {
            #expect(tokenizer.encode(prompt) == golden.ids[i], "prompt \(i) ids")
            let states = model.encodeText(golden.ids[i])
            let reference = try #require(expected.tensor("text.\(i)"))
            #expect(states.shape == reference.shape)
            let diff = Self.maxAbsDiff(states, reference)
            #expect(diff <= 1e-4, "prompt \(i): text states differ by \(diff) (max abs)")
        }
    }

    /// Bucket edges, including the distances where the Float32 logarithm decides (16 and 32 sit
    /// exactly on bucket boundaries for 32 buckets up to distance 128); values from the
    /// reference formula evaluated in float32.
    @Test func relativePositionBuckets() {
        func bucket(_ r: Int) -> Int { T5Encoder.relativePositionBucket(r, buckets: 32, maxDistance: 128) }
        // Keys after the query (memory − query > 0) use the upper half of the buckets.
        #expect((0..<8).map(bucket) == [0, 17, 18, 19, 20, 21, 22, 23])
        #expect([8, 11, 12, 15, 16, 22, 23, 31, 32, 45, 46, 63, 64, 90, 91, 127, 128, 1000].map(bucket)
            == [24, 24, 25, 25, 26, 26, 27, 27, 28, 28, 29, 29, 30, 30, 31, 31, 31, 31])
        #expect([-1, -7, -8, -16, -32, -1000].map(bucket) == [1, 7, 8, 10, 12, 15])
    }

    // MARK: - Denoiser

    @Test func denoiserCallMatchesReference() throws {
        let model = try StrobeModel(weights: try Self.modelFile())
        let golden = try Self.golden(), expected = try Self.goldenTensors()
        let x = try #require(expected.tensor("forward.x"))
        let call = golden.forward
        let referenceText = try #require(expected.tensor("text.0"))
        // With the reference's text states (the denoiser alone) and with Swift's (end to end).
        for (label, text) in [("reference text", referenceText), ("Swift text", model.encodeText(golden.ids[0]))] {
            let conditioning = model.denoiser.prepare(text: text)
            let xHat = model.denoiser.xHat(x: x, t: call.t, gap: call.gap, beta: call.beta, conditioning: conditioning)
            let velocity = model.denoiser.velocity(x: x, t: call.t, gap: call.gap, beta: call.beta, text: text)
            let xHatDiff = Self.maxAbsDiff(xHat, try #require(expected.tensor("forward.x_hat")))
            let velocityDiff = Self.maxAbsDiff(velocity, try #require(expected.tensor("forward.velocity")))
            #expect(xHatDiff <= 1e-3, "\(label): x̂ differs by \(xHatDiff) (max abs)")
            #expect(velocityDiff <= 1e-3, "\(label): velocity differs by \(velocityDiff) (max abs)")
        }
    }

    /// Two images (the golden input `x [C, H, W]` and `y = −x/2 + ¼`), stacked as `[2, C, H, W]`,
    /// and two prompts' reference text states of different lengths.
    static func batchInputs() throws -> (x: Tensor, y: Tensor, batch: Tensor, texts: [Tensor]) {
        let expected = try goldenTensors()
        let x = try #require(expected.tensor("forward.x"))                       // [C, H, W]
        let y = x * -0.5 + 0.25
        let batch = Ops.concat([x.reshaped([1] + x.shape), y.reshaped([1] + y.shape)], axis: 0)
        let texts = [try #require(expected.tensor("text.0")), try #require(expected.tensor("text.2"))]
        return (x, y, batch, texts)
    }

    /// A batch gives each image what it gets alone, with one shared prompt or one prompt per
    /// image (padded and masked).
    @Test func denoiserBatchesAgreeWithSingleCalls() throws {
        let model = try StrobeModel(weights: try Self.modelFile())
        let (x, y, batch, texts) = try Self.batchInputs()
        let (t, gap, beta) = (Float(0.6), Float(0.3), Float(0.5))
        let denoiser = model.denoiser
        func single(_ image: Tensor, _ text: Tensor) -> Tensor {
            denoiser.xHat(x: image, t: t, gap: gap, beta: beta, conditioning: denoiser.prepare(text: text))
        }
        let shared = denoiser.xHat(x: batch, t: t, gap: gap, beta: beta, conditioning: denoiser.prepare(text: texts[0]))
        let perImage = denoiser.xHat(x: batch, t: t, gap: gap, beta: beta, conditioning: denoiser.prepare(texts: texts))
        let halves = Ops.split(shared, parts: 2, axis: 0), mixed = Ops.split(perImage, parts: 2, axis: 0)
        #expect(Self.maxAbsDiff(halves[0].reshaped(x.shape), single(x, texts[0])) <= 1e-5)
        #expect(Self.maxAbsDiff(halves[1].reshaped(x.shape), single(y, texts[0])) <= 1e-5)
        #expect(Self.maxAbsDiff(mixed[0].reshaped(x.shape), single(x, texts[0])) <= 1e-5)
        #expect(Self.maxAbsDiff(mixed[1].reshaped(x.shape), single(y, texts[1])) <= 1e-5)
    }

    // MARK: - Loading

    @Test func expectedShapesMatchTheFixtureFile() throws {
        let file = try Self.modelFile()
        let config = try ArchitectureConfig(json: try #require(file.strobe).architectureJSON)
        let expected = StrobeDiTCheckpoint.expectedTensorShapes(for: config)
        #expect(expected == file.tensors.mapValues(\.shape))
        #expect(config.text.numLayers == 2 && config.denoiser.depth == 2 && config.denoiser.hiddenSize == 48)
        #expect(try ArchitectureConfig(json: config.json()) == config)
    }

    @Test func loaderRejectsArchitectureThatContradictsTensors() throws {
        let file = try Self.modelFile()
        let json = try #require(file.strobe).architectureJSON
        var metadata = file.metadata
        metadata[StrobeMetadata.Key.architecture] = json
            .replacingOccurrences(of: "\"depth\":2", with: "\"depth\":3")
            .replacingOccurrences(of: "\"d_ff\":64", with: "\"d_ff\":80")
        var entries: [String: WeightsWriter.Entry] = [:]
        for name in file.tensors.keys { entries[name] = .init(file.tensor(name)!) }
        let path = try TemporaryFile.write(WeightsWriter.encode(tensors: entries, metadata: metadata))
        let broken = try WeightsFile(path: path)
        let error = #expect(throws: WeightsError.self) { try StrobeModel(weights: broken) }
        let problems = error?.problems ?? []
        #expect(problems.contains(.missingTensor("denoiser.blocks.2.mod.weight")))
        #expect(problems.contains(.missingTensor("denoiser.blocks.2.fc2.bias")))
        #expect(problems.contains(.shapeMismatch(tensor: "text_encoder.blocks.1.wi_0.weight", expected: [80, 32], actual: [64, 32])))
        #expect(!problems.contains { if case .unexpectedTensor = $0 { true } else { false } })
        #expect(error?.description.contains("missing tensor 'denoiser.blocks.2.attn.qkv.weight'") == true)

        // Fewer blocks than the file holds: the surplus tensors are reported.
        metadata[StrobeMetadata.Key.architecture] = json.replacingOccurrences(of: "\"depth\":2", with: "\"depth\":1")
        let surplus = try WeightsFile(path: try TemporaryFile.write(WeightsWriter.encode(tensors: entries, metadata: metadata)))
        let surplusError = #expect(throws: WeightsError.self) { try StrobeModel(weights: surplus) }
        #expect(surplusError?.problems.contains(.unexpectedTensor("denoiser.blocks.1.cross.kv.weight")) == true)
        #expect(surplusError?.problems.allSatisfy { if case .unexpectedTensor = $0 { true } else { false } } == true)
    }

    @Test func loaderReportsInvalidArchitectureAsWeightsError() throws {
        let file = try Self.modelFile()
        var metadata = file.metadata
        metadata[StrobeMetadata.Key.architecture] = try #require(file.strobe).architectureJSON
            .replacingOccurrences(of: "\"hidden_size\":48", with: "\"hidden_size\":47")
        let path = try TemporaryFile.write(WeightsWriter.encode(
            tensors: ["x": .init(Tensor(shape: [1], repeating: 0))], metadata: metadata))
        let error = #expect(throws: WeightsError.self) { try StrobeModel(weights: try WeightsFile(path: path)) }
        #expect(error?.problems == [.invalidArchitecture(reason: "denoiser.hidden_size 47 is not divisible by denoiser.num_heads 2")])
    }

    // MARK: - Configuration invariants

    static let validJSON = """
        {"denoiser":{"channels":3,"depth":2,"frequency_embedding_size":256,"hidden_size":48,"max_period":10000.0,\
        "mlp_ratio":4,"norm_epsilon":1e-06,"num_heads":2,"patch_size":8,"position_grid":16.0,"rope_theta":10000.0,"t_min":0.05},\
        "family":"strobe-dit","max_prompt_tokens":1000,"prediction":"x","text":{"d_ff":64,"d_kv":16,"d_model":32,\
        "layer_norm_epsilon":1e-06,"num_heads":2,"num_layers":2,"relative_attention_max_distance":128,\
        "relative_attention_num_buckets":32,"vocab_size":420}}
        """

    static func problems(_ json: String) -> [String] {
        do {
            _ = try ArchitectureConfig(json: json)
            return []
        } catch {
            guard case .invalid(let problems) = error else { return ["not invalid: \(error)"] }
            return problems
        }
    }

    @Test func validConfigDecodes() throws {
        let config = try ArchitectureConfig(json: Self.validJSON)
        #expect(config.denoiser.headDim == 24 && config.denoiser.patchFeatures == 192)
        #expect(config.text.layerNormEpsilon == 1e-6 && config.maxPromptTokens == 1000)
        #expect(try ArchitectureConfig(json: config.json()) == config)
    }

    @Test func configInvariantsNameTheValues() {
        func edited(_ pairs: [(String, String)]) -> String {
            pairs.reduce(Self.validJSON) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
        }
        #expect(Self.problems(edited([("\"hidden_size\":48", "\"hidden_size\":47")]))
            == ["denoiser.hidden_size 47 is not divisible by denoiser.num_heads 2"])
        #expect(Self.problems(edited([("\"hidden_size\":48", "\"hidden_size\":44")]))
            == ["head size denoiser.hidden_size / denoiser.num_heads = 44 / 2 = 22 must be a multiple of 4 (2-D RoPE rotates pairs within each half of a head; this also makes hidden_size a multiple of 4, as the 2-D sincos positions need)"])
        #expect(Self.problems(edited([("\"patch_size\":8", "\"patch_size\":0")]))
            == ["denoiser.patch_size 0 must be at least 1"])
        // Every problem at once, in both parts and at the top level.
        let many = Self.problems(edited([
            ("\"family\":\"strobe-dit\"", "\"family\":\"flux\""), ("\"t_min\":0.05", "\"t_min\":0"),
            ("\"num_layers\":2", "\"num_layers\":0"), ("\"layer_norm_epsilon\":1e-06", "\"layer_norm_epsilon\":-1"),
            ("\"relative_attention_max_distance\":128", "\"relative_attention_max_distance\":8"),
            ("\"frequency_embedding_size\":256", "\"frequency_embedding_size\":255"),
        ]))
        #expect(many == [
            "family 'flux' is not 'strobe-dit'",
            "text.num_layers 0 must be at least 1",
            "text.relative_attention_max_distance 8 must exceed the exact buckets per direction (text.relative_attention_num_buckets / 4 = 8)",
            "text.layer_norm_epsilon -1.0 must be positive",
            "denoiser.frequency_embedding_size 255 must be even and at least 2",
            "denoiser.t_min 0.0 must be in (0, 1]",
        ])
    }

    @Test func malformedConfigSaysWhichKey() {
        func reason(_ json: String) -> String? {
            do {
                _ = try ArchitectureConfig(json: json)
                return nil
            } catch {
                guard case .malformed(let reason) = error else { return "not malformed: \(error)" }
                return reason
            }
        }
        #expect(reason(Self.validJSON.replacingOccurrences(of: "\"d_kv\":16,", with: "")) == "missing key 'text.d_kv'")
        #expect(reason(Self.validJSON.replacingOccurrences(of: "\"depth\":2", with: "\"depth\":\"two\""))?
            .hasPrefix("'denoiser.depth' is not a Int") == true)
        #expect(reason(Self.validJSON.replacingOccurrences(of: "\"depth\":2", with: "\"depht\":2,\"depth\":2"))
            == "denoiser: unknown key 'denoiser.depht'")
        #expect(reason("not json") != nil)
    }

    @Test func memberwiseInitChecksInvariants() throws {
        #expect(throws: ArchitectureError.invalid(problems: ["hidden_size 10 is not divisible by num_heads 4"])) {
            try DenoiserConfig(hiddenSize: 10, numHeads: 4)
        }
        #expect(throws: ArchitectureError.invalid(problems: ["vocab_size 0 must be at least 1"])) {
            try TextEncoderConfig(vocabSize: 0)
        }
        let config = try ArchitectureConfig(text: TextEncoderConfig(vocabSize: 100), denoiser: DenoiserConfig())
        #expect(config.denoiser.headDim == 64)
        #expect(StrobeDiTCheckpoint.expectedTensorShapes(for: config).count == 3 + 4 * 9 + 2 + 6 * 2 + 2 + 8 * 20 + 4)
    }
}
