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
    /// A step count outside what the sampler accepts.
    case invalidSteps(sampler: String, steps: Int, allowed: ClosedRange<Int>)
    /// An explicit image size whose sides are not positive multiples of the patch size (or
    /// exceed ``GenerationConfig/maxSide``).
    case invalidSize(width: Int, height: Int, patchSize: Int)
    /// An image count outside ``GenerationConfig/countRange``.
    case invalidCount(Int)
    /// A thread count below 1.
    case invalidThreads(Int)
    /// An aspect ratio that is not one of the nine (``AspectRatio``).
    case unknownAspectRatio(String)
    /// The weights file cannot be used.
    case weights(WeightsError)
    /// The tokenizer stored in the weights file cannot be loaded.
    case tokenizer(TokenizerError)
    /// Encoding or writing an image failed.
    case image(ImageError)
    /// The model file does not exist (or is not a regular file).
    case modelNotFound(path: String)
    /// No model was named and the default model is not where it is looked for.
    case defaultModelMissing(searched: [String])

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
            return "thread count \(threads) must be at least 1"
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
        case let .defaultModelMissing(searched):
            return "the default model \(ModelLocator.defaultRelativePath) is not in this checkout; train and export "
                + "it with scripts/train.py and scripts/export.py, or pass --model (looked in: "
                + searched.joined(separator: ", ") + ")"
        }
    }
}
