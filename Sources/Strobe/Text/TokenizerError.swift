import SentencePieceShim

/// Errors from ``Tokenizer``. Each case carries SentencePiece's own message where it gave one.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The model file does not exist or cannot be opened.
    case modelNotFound(path: String, message: String)
    /// The bytes are not a valid SentencePiece model (corrupt, truncated, or another format).
    case invalidModel(message: String)
    /// An id given to ``Tokenizer/decode(_:)`` or ``Tokenizer/piece(for:)`` is outside the vocabulary.
    case invalidID(message: String)
    /// Any other failure inside SentencePiece (for example, out of memory).
    case sentencePiece(message: String)

    /// The message from SentencePiece or the shim.
    public var message: String {
        switch self {
        case .modelNotFound(_, let message), .invalidModel(let message),
            .invalidID(let message), .sentencePiece(let message):
            return message
        }
    }

    public var description: String {
        switch self {
        case .modelNotFound(let path, let message):
            return "tokenizer model not found at \(path): \(message)"
        case .invalidModel(let message): return "invalid tokenizer model: \(message)"
        case .invalidID(let message): return "invalid token id: \(message)"
        case .sentencePiece(let message): return "SentencePiece failed: \(message)"
        }
    }

    /// Builds the error for a failed shim call. Must run on the thread that made the call,
    /// with no suspension point in between, since the shim's message is thread-local.
    init(status: strobe_spm_status, path: String? = nil) {
        let message = String(cString: strobe_spm_last_error())
        switch status {
        case STROBE_SPM_NOT_FOUND: self = .modelNotFound(path: path ?? "", message: message)
        case STROBE_SPM_INVALID_MODEL: self = .invalidModel(message: message)
        case STROBE_SPM_INVALID_ARGUMENT: self = .invalidID(message: message)
        default: self = .sentencePiece(message: message)
        }
    }
}
