/// Everything that can go wrong loading a model into a ``StrobeEngine`` or generating with it.
///
/// Cases from other domains wrap their typed errors (``WeightsError``, ``TokenizerError``,
/// ``ImageError``); ``description`` is one line for people and names the values involved.
public enum PipelineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The generation was cancelled (by the progress handler or by task cancellation) before
    /// it finished; nothing was returned or written.
    case cancelled
    /// The prompt has more tokens (not counting the end-of-sequence token) than the model takes.
    case promptTooLong(tokens: Int, limit: Int)
    /// The prompt is so long in UTF-8 bytes that it cannot fit the model's token limit; it is
    /// refused before tokenizing (``StrobeEngine/maxPromptBytes``).
    case promptTooLarge(bytes: Int, limit: Int)
    /// The prompt cannot be used as given: only whitespace, or a control character.
    case invalidPrompt(reason: String)
    /// A step count outside what the sampler accepts.
    case invalidSteps(sampler: String, steps: Int, allowed: ClosedRange<Int>)
    /// An explicit image size whose sides are not positive multiples of the patch size (or
    /// exceed ``GenerationConfig/maxSide``).
    case invalidSize(width: Int, height: Int, patchSize: Int)
    /// An image count outside ``GenerationConfig/countRange``.
    case invalidCount(Int)
    /// A thread count outside ``GenerationConfig/threadRange``.
    case invalidThreads(Int)
    /// An edit that cannot be done: a strength outside [0, 1], a mask of another size, a reframe
    /// to the ratio the image already has, …
    case invalidEdit(reason: String)
    /// A precision this CPU cannot run (bf16 without AVX512_BF16).
    case unsupportedPrecision(Precision, reason: String)
    /// The request would need more memory than the machine has available; refused before any
    /// work (see ``MemoryEstimate``).
    case insufficientMemory(estimate: MemoryEstimate, available: Int)
    /// An aspect ratio that is not one of the nine (``AspectRatio``).
    case unknownAspectRatio(String)
    /// The weights file cannot be used.
    case weights(WeightsError)
    /// A tokenizer cannot be loaded. (``StrobeEngine`` reports an unusable tokenizer inside a
    /// weights file as ``weights(_:)``, which names the file.)
    case tokenizer(TokenizerError)
    /// Encoding or writing an image failed.
    case image(ImageError)
    /// The model file does not exist (or is not a regular file).
    case modelNotFound(path: String)
    /// A model named by name (or the default, when none was named) is in none of the folders
    /// searched (``ModelLocator``).
    case namedModelMissing(name: String, searched: [String])

    public var description: String {
        switch self {
        case .cancelled:
            return "generation cancelled"
        case let .promptTooLong(tokens, limit):
            return "the prompt has \(tokens) tokens; the model accepts at most \(limit)"
        case let .invalidSteps(sampler, steps, allowed):
            return "\(steps) steps is out of range for the \(sampler) sampler (\(allowed.lowerBound)...\(allowed.upperBound))"
        case let .invalidSize(width, height, patchSize):
            return "image size \(width)x\(height) is not usable: each side must be a positive multiple of the "
                + "patch size \(patchSize), at most \(GenerationConfig.maxSide)"
        case let .invalidCount(count):
            return "image count \(count) is out of range (\(GenerationConfig.countRange.lowerBound)..."
                + "\(GenerationConfig.countRange.upperBound))"
        case let .invalidThreads(threads):
            return "thread count \(threads) is out of range (\(GenerationConfig.threadRange.lowerBound)..."
                + "\(GenerationConfig.threadRange.upperBound))"
        case let .invalidEdit(reason):
            return reason
        case let .unsupportedPrecision(precision, reason):
            return "precision \(precision.rawValue) is not available: \(reason); use fp32 (the default)"
        case let .insufficientMemory(estimate, available):
            return "this request needs about \(MemoryEstimate.format(estimate.total)) of memory (\(estimate)), but only "
                + "\(MemoryEstimate.format(available)) is available; ask for fewer or smaller images"
        case let .promptTooLarge(bytes, limit):
            return "the prompt is \(bytes) bytes; the model takes at most \(limit) bytes (it accepts at most "
                + "\(limit / StrobeEngine.maxPromptBytesPerToken) tokens)"
        case let .invalidPrompt(reason):
            return "the prompt \(reason)"
        case let .unknownAspectRatio(text):
            return "unknown aspect ratio '\(text)' (use one of "
                + AspectRatio.allCases.map(\.rawValue).joined(separator: ", ") + ")"
        case let .weights(error):
            return error.description
        case let .tokenizer(error):
            return "the model's tokenizer: \(error.description)"
        case let .image(error):
            return error.description
        case let .modelNotFound(path):
            return "model file not found: \(path)"
        case let .namedModelMissing(name, searched):
            return "no model named \(name) found (looked for \(name).\(ModelLocator.fileExtension) in: "
                + searched.joined(separator: ", ") + "). Install Strobe with its model (scripts/install, or the Debian "
                + "package), copy a model file into one of those folders, set \(ModelLocator.environmentVariable), "
                + "or pass --model PATH; `strobe models` lists the models found"
        }
    }
}
