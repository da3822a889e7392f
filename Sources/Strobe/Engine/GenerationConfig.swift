/// What to generate: a prompt and settings, each with a default.
///
/// ```swift
/// var config = GenerationConfig(prompt: "a lighthouse on the left at golden hour")
/// config.aspectRatio = .landscape16x9
/// config.seed = 42
/// let result = try await engine.generate(config)
/// ```
///
/// The value holds the request as given; ``StrobeEngine`` resolves the defaults that depend on
/// the model (steps, random seed, size) and checks every setting before any work starts.
/// Decoding accepts JSON with any subset of the keys but `prompt`.
public struct GenerationConfig: Codable, Sendable, Equatable {
    /// The largest side, in pixels, an explicit ``size`` may have.
    public static let maxSide = 4096
    /// The image counts one request may ask for.
    public static let countRange = 1...256
    /// The thread counts a request may ask for (more threads than cores only adds overhead;
    /// far more is a mistake).
    public static let threadRange = 1...1024

    /// The prompt. Empty means unconditional generation (recorded in the metadata); at most the
    /// model's `max_prompt_tokens` tokens, not counting the end-of-sequence token. A prompt of
    /// only whitespace, or with a control character other than tab and line breaks, is refused
    /// (``StrobeEngine/checkPrompt(_:)``).
    public var prompt: String
    /// The aspect ratio (default 1:1); its pixel size depends on the model
    /// (``StrobeEngine/size(of:)``: about 256² for v1, 512² for v2). Ignored when ``size`` is set.
    public var aspectRatio: AspectRatio
    /// An explicit size in pixels instead of an aspect ratio; both sides must be positive
    /// multiples of the model's patch size, at most ``maxSide``.
    public var size: ImageSize?
    /// The seed of the first image; image `i` uses `seed + i` (wrapping). `nil` picks a random
    /// seed in `0..<2³²`, reported in the result. (As in PyTorch, only the low 32 bits of a
    /// seed affect the noise.)
    public var seed: UInt64?
    /// The sampler (default flash).
    public var sampler: SamplerKind
    /// Steps; `nil` uses the model's default for the sampler (its `strobe.sampler_defaults`).
    public var steps: Int?
    /// How many images (default 1), with consecutive seeds.
    public var count: Int
    /// Threads for this generation (in ``threadRange``); `nil` keeps the process's settings. See
    /// ``StrobeEngine`` for how this interacts with concurrent generations.
    public var threads: Int?
    /// Whether the PNGs carry the `parameters` and `strobe` text chunks (default true).
    public var includeMetadata: Bool
    /// The number format of the denoiser's matrix products (default fp32, bit-exact).
    /// `Precision.bf16` needs a CPU with AVX512_BF16 and is refused elsewhere
    /// (``PipelineError/unsupportedPrecision(_:reason:)``).
    public var precision: Precision

    /// A configuration with every setting at its default but the prompt.
    public init(
        prompt: String, aspectRatio: AspectRatio = .square, size: ImageSize? = nil, seed: UInt64? = nil,
        sampler: SamplerKind = .flash, steps: Int? = nil, count: Int = 1, threads: Int? = nil,
        includeMetadata: Bool = true, precision: Precision = .fp32
    ) {
        self.prompt = prompt
        self.aspectRatio = aspectRatio
        self.size = size
        self.seed = seed
        self.sampler = sampler
        self.steps = steps
        self.count = count
        self.threads = threads
        self.includeMetadata = includeMetadata
        self.precision = precision
    }

    enum CodingKeys: String, CodingKey {
        case prompt, aspectRatio = "aspect_ratio", size, seed, sampler, steps, count, threads
        case includeMetadata = "include_metadata", precision
    }

    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            prompt: try c.decode(String.self, forKey: .prompt),
            aspectRatio: try c.decodeIfPresent(AspectRatio.self, forKey: .aspectRatio) ?? .square,
            size: try c.decodeIfPresent(ImageSize.self, forKey: .size),
            seed: try c.decodeIfPresent(UInt64.self, forKey: .seed),
            sampler: try c.decodeIfPresent(SamplerKind.self, forKey: .sampler) ?? .flash,
            steps: try c.decodeIfPresent(Int.self, forKey: .steps),
            count: try c.decodeIfPresent(Int.self, forKey: .count) ?? 1,
            threads: try c.decodeIfPresent(Int.self, forKey: .threads),
            includeMetadata: try c.decodeIfPresent(Bool.self, forKey: .includeMetadata) ?? true,
            precision: try c.decodeIfPresent(Precision.self, forKey: .precision) ?? .fp32)
    }
}
