import Foundation
import Testing
@testable import Strobe

/// The library's checks of a prompt (``StrobeEngine/checkPrompt(_:)``), through
/// ``StrobeEngine/plan(_:)`` as a caller meets them. Token limits: PipelineTests.
@Suite struct PromptCheckTests {
    static let engine = PipelineTests.engine

    func problem(_ prompt: String) -> PipelineError? {
        do {
            _ = try Self.engine.plan(GenerationConfig(prompt: prompt, size: PipelineTests.fixtureSize, seed: 1))
            return nil
        } catch { return error }
    }

    @Test func whitespaceOnlyIsRefusedEmptyIsUnconditional() {
        let refused = PipelineError.invalidPrompt(reason: "is only whitespace; give some words, or ask for an unconditional image")
        for prompt in [" ", "\t\n", "   \r\n  ", "\u{3000}", "\u{00A0}\u{2003}"] {
            #expect(problem(prompt) == refused, "\(prompt.unicodeScalars.map(\.value))")
        }
        #expect(refused.description == "the prompt is only whitespace; give some words, or ask for an unconditional image")
        #expect(problem("") == nil)                                                  // PipelineTests.emptyPromptIsUnconditional
        #expect(problem(" a ") == nil)
    }

    @Test func controlCharactersAreRefusedWithTheirPosition() {
        let cases: [(String, String)] = [
            ("a\u{0}b", "U+0000 at position 2"), ("\u{1B}[31mred", "U+001B at position 1"), ("lake\u{7F}", "U+007F at position 5"),
            ("x\u{85}", "U+0085 at position 2"), ("é\u{8}", "U+0008 at position 2"), ("🌅\u{1F}", "U+001F at position 2"),
        ]
        for (prompt, words) in cases {
            let reason = "contains the control character \(words); only tab and line breaks are allowed"
            #expect(problem(prompt) == .invalidPrompt(reason: reason))
        }
        #expect(problem("a\tlake\nat dusk\r\n") == nil)
        // Format characters are not control characters: bidirectional marks, zero-width joiners.
        #expect(problem("\u{202B}بحيرة\u{202C} \u{200D}lake\u{FEFF}") == nil)
    }

    /// Emoji and right-to-left text generate and are recorded exactly in the PNG.
    @Test(arguments: ["🌅 a lake at sunset 🏔️👨‍👩‍👧", "غروب الشمس فوق البحيرة", "שקיעה מעל האגם", "a lake \u{202E}tesnus\u{202C}"])
    func unusualScriptsGenerate(_ prompt: String) async throws {
        let config = GenerationConfig(prompt: prompt, size: PipelineTests.fixtureSize, seed: 4, steps: 1)
        let image = try await Self.engine.generate(config).images[0]
        let file = try PNGCodec.decode(image.png)
        #expect(file.text(forKey: "parameters")?.hasPrefix(prompt + "\nSteps: 1, Sampler: flash") == true)
        let json = try #require(file.text(forKey: "strobe"))
        #expect(try JSONDecoder().decode(ImageMetadata.self, from: Data(json.utf8)).prompt == prompt)
    }

    /// A 10 MB prompt is refused on its byte count without being tokenized; the byte limit is
    /// 64 bytes per token of the model's limit, and just under it the token limit decides.
    @Test func hugePromptIsRefusedBeforeTokenizing() throws {
        let engine = Self.engine
        #expect(engine.maxPromptBytes == 64_000)
        let huge = String(repeating: "a lake at dusk ", count: 700_000)             // 10.5 MB
        #expect(problem(huge) == .promptTooLarge(bytes: huge.utf8.count, limit: 64_000))
        #expect(throws: PipelineError.promptTooLarge(bytes: huge.utf8.count, limit: 64_000)) { try engine.tokenize(huge) }
        #expect(PipelineError.promptTooLarge(bytes: 10_500_000, limit: 64_000).description
            == "the prompt is 10500000 bytes; the model takes at most 64000 bytes (it accepts at most 1000 tokens)")
        let over = String(repeating: "a", count: 64_001)
        #expect(problem(over) == .promptTooLarge(bytes: 64_001, limit: 64_000))
        let limit = String(repeating: "a", count: 64_000)
        guard case .promptTooLong(let tokens, 1000)? = problem(limit) else {
            Issue.record("a 64,000-byte prompt should reach the token limit, got \(String(describing: problem(limit)))")
            return
        }
        #expect(tokens > 1000)
    }
}
