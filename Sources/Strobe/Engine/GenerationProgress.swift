/// Progress of a generation, reported after every network call.
public struct GenerationProgress: Sendable, Equatable {
    /// The sampler step just finished, 1-based, within the current batch of images.
    public let step: Int
    /// Steps per batch.
    public let steps: Int
    /// The indices (within the request) of the images this step advanced.
    public let images: Range<Int>
    /// Network calls finished in the whole request.
    public let completedCalls: Int
    /// Network calls the whole request makes (steps × batches).
    public let totalCalls: Int
    /// Time since the generation started.
    public let elapsed: Duration

    /// Finished fraction of the request's network calls, 0...1.
    public var fraction: Double { totalCalls == 0 ? 1 : Double(completedCalls) / Double(totalCalls) }
}

/// What a progress handler tells the generation to do next.
public enum ProgressAction: Sendable, Equatable {
    /// Go on.
    case proceed
    /// Stop now: the generation throws ``PipelineError/cancelled`` and returns nothing.
    case cancel
}

/// Called after every network call (on the generating task's thread); return
/// ``ProgressAction/cancel`` to stop. Keep it quick: it runs between steps.
public typealias ProgressHandler = @Sendable (GenerationProgress) -> ProgressAction

/// The pictures of one batch after a step: each image's current estimate of the result,
/// `x − s · u` (the state at time `s` carried to time 0 along the step's own velocity, which
/// is what a straight-path sampler would land on if it stopped here), decoded (and, for an
/// edit, composited with the known region). After the last step they are the final images.
public struct GenerationPreview: Sendable {
    /// The step just done (1-based) and the number of steps.
    public let step: Int, steps: Int
    /// The plan's image indices the pictures belong to.
    public let images: Range<Int>
    /// One picture per image of the batch, at the output size.
    public let pictures: [RGBImage]
}

/// Receives a ``GenerationPreview`` after every step; it costs one decode per image and step,
/// so pass one only when the pictures are wanted (a live view, a stream).
public typealias PreviewHandler = @Sendable (GenerationPreview) -> Void

/// How long each stage of one generation took (wall clock).
public struct StageTimings: Sendable, Equatable {
    /// Tokenizing the prompt.
    public var tokenize: Duration = .zero
    /// The text encoder and preparing the denoiser's text conditioning.
    public var encodeText: Duration = .zero
    /// Drawing the initial noise, all images.
    public var noise: Duration = .zero
    /// Each network call (with its sampler update), in order; a batched call counts once.
    public var denoiserCalls: [Duration] = []
    /// Decoding x₀ to pixels, per image.
    public var decode: [Duration] = []
    /// PNG encoding, per image.
    public var png: [Duration] = []
    /// The whole generation.
    public var total: Duration = .zero

    public init() {}

    /// The sum of ``denoiserCalls``.
    public var denoising: Duration { denoiserCalls.reduce(.zero, +) }
}
