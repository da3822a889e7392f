/// A checked, fully resolved request: what ``StrobeEngine/generate(_:progress:)-(GenerationConfig,_)`` will do.
///
/// Made by ``StrobeEngine/plan(_:)-(GenerationConfig)``, which resolves the model-dependent defaults (steps, size,
/// a random seed) and validates everything, so a caller can learn the seeds and sizes (e.g. to
/// name output files) before any expensive work. Plans are values: generating the same plan
/// twice gives the same images.
public struct GenerationPlan: Sendable {
    /// The request as given.
    public let config: GenerationConfig
    /// The prompt's token ids, with the end-of-sequence id.
    public let tokenIDs: [Int32]
    /// The image size in pixels.
    public let size: ImageSize
    /// Each image's seed, in order (`seed + i`).
    public let seeds: [UInt64]
    /// The sampler with its step count (for an edit, the part of the schedule it runs).
    public internal(set) var sampler: any Sampler
    /// The guidance weight `w` (from the model's sampler defaults).
    public let guidance: Double
    /// How long tokenizing took while planning (reported as the tokenize stage).
    public let tokenizeDuration: Duration

    /// The size the sampler works at: ``size``, or a reframe's working canvas, which may be one
    /// patch wider or taller than the output (``EditSetup/workingSize``).
    public var samplingSize: ImageSize { edit?.workingSize ?? size }
    /// Network passes in a guided step: 2 for an edit with prompt guidance (``PromptGuidance``), else 1.
    public var passesPerStep: Int { (edit?.guidance.scale ?? 0) > 0 ? 2 : 1 }
    /// Network passes per batch of images: one per step, and a second on each guided step.
    public var passesPerBatch: Int {
        steps + (edit.map { edit in sampler.schedule.filter { edit.guidance.guides($0.t) }.count } ?? 0)
    }
    /// The prompt.
    public var prompt: String { config.prompt }
    /// Steps per image.
    public var steps: Int { sampler.steps }
    /// Number of images.
    public var count: Int { seeds.count }
    /// Prompt tokens not counting the end-of-sequence token (what the prompt limit counts).
    public let promptTokenCount: Int
    /// For an edit (``StrobeEngine/edit(_:progress:)``): the known image, mask and start time.
    public internal(set) var edit: EditSetup? = nil
}

/// One generated image: pixels, its PNG bytes and what it records.
public struct GeneratedImage: Sendable {
    /// Its index in the request (0-based).
    public let index: Int
    /// Its own seed.
    public let seed: UInt64
    /// The pixels.
    public let image: RGBImage
    /// The encoded PNG (with metadata unless the request left it out).
    public let png: [UInt8]
    /// What the image records (also when it was left out of ``png``).
    public let metadata: ImageMetadata

    /// Writes ``png`` atomically to `path`; without `overwrite` an existing file is an error.
    public func write(to path: String, overwrite: Bool = false) throws(PipelineError) {
        try PNGImageWriter().write(png, to: path, overwrite: overwrite)
    }
}

/// The outcome of a generation: the images, in request order, and how long each stage took.
public struct GenerationResult: Sendable {
    /// The plan that was run.
    public let plan: GenerationPlan
    /// The images, index `i` made with seed `plan.seeds[i]`.
    public let images: [GeneratedImage]
    /// Per-stage timings.
    public let timings: StageTimings
}
