// The checks a prompt passes before it is tokenized, so that a prompt the model cannot take is
// refused at once and clearly, whatever its size.

extension StrobeEngine {
    /// UTF-8 bytes allowed per token of the model's limit. No SentencePiece piece is longer than
    /// 16 characters (`max_sentencepiece_length`), that is 64 bytes of UTF-8, so a longer prompt
    /// can only fit the token limit by being mostly whitespace.
    public static let maxPromptBytesPerToken = 64

    /// The longest prompt in UTF-8 bytes (``maxPromptBytesPerToken`` × ``maxPromptTokens``;
    /// 64,000 for a 1,000-token model). A longer prompt is refused before it is tokenized, so a
    /// huge prompt fails at once instead of tokenizing for seconds and holding the memory.
    public var maxPromptBytes: Int { Self.maxPromptBytesPerToken * maxPromptTokens }

    /// Checks what can be checked of a prompt without tokenizing it:
    /// - at most ``maxPromptBytes`` bytes of UTF-8 (``PipelineError/promptTooLarge(bytes:limit:)``);
    /// - not only whitespace (an empty prompt is allowed: it asks for an unconditional image);
    /// - no control characters (Unicode category Cc: U+0000–U+001F, U+007F–U+009F) other than
    ///   tab, line feed and carriage return. They cannot be typed on purpose, NUL cannot be stored
    ///   in PNG metadata, and escape sequences would reach a terminal that shows the metadata.
    ///
    /// Any other text is accepted: emoji, right-to-left scripts, bidirectional and zero-width
    /// format characters (what the tokenizer does not know becomes its unknown piece).
    /// - Throws: ``PipelineError/promptTooLarge(bytes:limit:)`` or ``PipelineError/invalidPrompt(reason:)``.
    public func checkPrompt(_ prompt: String) throws(PipelineError) {
        let bytes = prompt.utf8.count
        guard bytes <= maxPromptBytes else { throw .promptTooLarge(bytes: bytes, limit: maxPromptBytes) }
        if !prompt.isEmpty, prompt.unicodeScalars.allSatisfy(\.properties.isWhitespace) {
            throw .invalidPrompt(reason: "is only whitespace; give some words, or ask for an unconditional image")
        }
        for (index, scalar) in prompt.unicodeScalars.enumerated() where Self.isForbiddenControl(scalar) {
            let hex = String(scalar.value, radix: 16, uppercase: true)
            throw .invalidPrompt(reason: "contains the control character U+\(String(repeating: "0", count: 4 - hex.count))\(hex) "
                + "at position \(index + 1); only tab and line breaks are allowed")
        }
    }

    /// A control character (category Cc) other than tab, line feed and carriage return.
    static func isForbiddenControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: false
        case 0x00...0x1F, 0x7F...0x9F: true
        default: false
        }
    }
}
