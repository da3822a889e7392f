import Foundation
import Testing
@testable import Strobe

/// Strobe's text encoder against Hugging Face `transformers.T5EncoderModel`: a randomly
/// initialised small T5 converted by python/strobe_tools/convert_t5.py, with hidden states computed by
/// `transformers` itself (Fixtures/t5, made by python/strobe_tools/make_t5_fixture.py).
@Suite struct T5ParityTests {
    struct Golden: Decodable {
        let prompts: [String]
        let ids: [[Int32]]
    }

    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        .appendingPathComponent("t5")

    @Test func hiddenStatesMatchTransformers() throws {
        let file = try WeightsFile(path: Self.directory.appendingPathComponent("t5_random.safetensors").path)
        let model = try StrobeModel(weights: file)
        let tokenizer = try Tokenizer(modelData: try #require(file.strobe).tokenizerModel)
        let golden = try JSONDecoder().decode(
            Golden.self, from: Data(contentsOf: Self.directory.appendingPathComponent("golden.json")))
        let expected = try WeightsFile(
            path: Self.directory.appendingPathComponent("golden.safetensors").path, requireStrobeMetadata: false)
        #expect(golden.prompts.count == 4)
        for (i, prompt) in golden.prompts.enumerated() {
            #expect(tokenizer.encode(prompt) == golden.ids[i], "prompt \(i) ids")
            let states = model.encodeText(golden.ids[i])
            let reference = try #require(expected.tensor("hidden.\(i)"))
            let diff = ModelParityTests.maxAbsDiff(states, reference)
            #expect(states.shape == reference.shape)
            #expect(diff <= 1e-4, "prompt \(i) (\(golden.ids[i].count) tokens): max abs difference \(diff)")
        }
    }
}
