import Foundation

/// The latent MMDiT denoiser's hyperparameters (`strobe.architecture` key `denoiser` of a
/// `strobe-mmdit` file; weights-format.md §5.2), with the reference's snake_case keys.
///
/// Every key is required and unknown keys are rejected; a broken invariant throws
/// ``ArchitectureError`` naming the values.
public struct MMDiTConfig: Codable, Sendable, Equatable {
    /// Latent channels `C` (the autoencoder's).
    public let latentChannels: Int
    /// Patch side `p` in latent cells.
    public let patchSize: Int
    /// Width `D`.
    public let hiddenSize: Int
    /// Number of joint blocks (the last one's text stream only gives keys and values).
    public let depth: Int
    /// Attention heads `Hh` (`Dh = D/Hh`).
    public let numHeads: Int
    /// The image stream's MLP width as a multiple of `D`.
    public let mlpRatio: Int
    /// The text stream's MLP width as a multiple of `D`.
    public let textMLPRatio: Int
    /// Whether the model has the fill input (known latent × keep, keep).
    public let fill: Bool
    /// Sinusoid size `E` of a scalar embedding.
    public let frequencyEmbeddingSize: Int
    /// The longest period of the scalar sinusoids.
    public let maxPeriod: Double
    /// RoPE base θ.
    public let ropeTheta: Double
    /// The frame `G` of the absolute positions (as ``DenoiserConfig/positionGrid``).
    public let positionGrid: Double
    /// RMSNorm epsilon.
    public let normEpsilon: Double
    /// Smallest divisor of the velocity `(z − ẑ)/max(t, t_min)`.
    public let tMin: Double

    /// Size `Dh` of one attention head.
    public var headDim: Int { hiddenSize / numHeads }
    /// Features of one patch, `P = C·p·p`.
    public var patchFeatures: Int { latentChannels * patchSize * patchSize }
    /// Features of one fill patch, `(C + 1)·p·p`.
    public var fillFeatures: Int { (latentChannels + 1) * patchSize * patchSize }

    /// Makes a configuration (defaults as the reference's `MMDiTConfig`) and checks it.
    public init(
        latentChannels: Int = 16, patchSize: Int = 2, hiddenSize: Int = 256, depth: Int = 10, numHeads: Int = 4,
        mlpRatio: Int = 4, textMLPRatio: Int = 2, fill: Bool = true, frequencyEmbeddingSize: Int = 256,
        maxPeriod: Double = 10_000, ropeTheta: Double = 10_000, positionGrid: Double = 16, normEpsilon: Double = 1e-6,
        tMin: Double = 0.05
    ) throws(ArchitectureError) {
        self.latentChannels = latentChannels
        self.patchSize = patchSize
        self.hiddenSize = hiddenSize
        self.depth = depth
        self.numHeads = numHeads
        self.mlpRatio = mlpRatio
        self.textMLPRatio = textMLPRatio
        self.fill = fill
        self.frequencyEmbeddingSize = frequencyEmbeddingSize
        self.maxPeriod = maxPeriod
        self.ropeTheta = ropeTheta
        self.positionGrid = positionGrid
        self.normEpsilon = normEpsilon
        self.tMin = tMin
        if !problems().isEmpty { throw .invalid(problems: problems()) }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case depth, fill
        case latentChannels = "latent_channels", patchSize = "patch_size", hiddenSize = "hidden_size"
        case numHeads = "num_heads", mlpRatio = "mlp_ratio", textMLPRatio = "text_mlp_ratio"
        case frequencyEmbeddingSize = "frequency_embedding_size", maxPeriod = "max_period"
        case ropeTheta = "rope_theta", positionGrid = "position_grid", normEpsilon = "norm_epsilon", tMin = "t_min"
    }

    public init(from decoder: any Decoder) throws {
        self = try Unchecked<MMDiTConfig>(from: decoder).value
        if !problems().isEmpty { throw ArchitectureError.invalid(problems: problems()) }
    }

    /// Decodes without checking the invariants.
    init(uncheckedFrom decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        latentChannels = try c.decode(Int.self, forKey: .latentChannels)
        patchSize = try c.decode(Int.self, forKey: .patchSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        depth = try c.decode(Int.self, forKey: .depth)
        numHeads = try c.decode(Int.self, forKey: .numHeads)
        mlpRatio = try c.decode(Int.self, forKey: .mlpRatio)
        textMLPRatio = try c.decode(Int.self, forKey: .textMLPRatio)
        fill = try c.decode(Bool.self, forKey: .fill)
        frequencyEmbeddingSize = try c.decode(Int.self, forKey: .frequencyEmbeddingSize)
        maxPeriod = try c.decode(Double.self, forKey: .maxPeriod)
        ropeTheta = try c.decode(Double.self, forKey: .ropeTheta)
        positionGrid = try c.decode(Double.self, forKey: .positionGrid)
        normEpsilon = try c.decode(Double.self, forKey: .normEpsilon)
        tMin = try c.decode(Double.self, forKey: .tMin)
    }

    /// Every broken invariant, keys written with `prefix` (`denoiser.` inside the whole configuration).
    func problems(prefix: String = "") -> [String] {
        var list: [String] = []
        for (key, value) in [("latent_channels", latentChannels), ("patch_size", patchSize), ("hidden_size", hiddenSize),
                             ("depth", depth), ("num_heads", numHeads), ("mlp_ratio", mlpRatio),
                             ("text_mlp_ratio", textMLPRatio)] where value < 1 {
            list.append("\(prefix)\(key) \(value) must be at least 1")
        }
        return list + DenoiserConfig.transformerProblems(
            prefix: prefix, hiddenSize: hiddenSize, numHeads: numHeads, frequencyEmbeddingSize: frequencyEmbeddingSize,
            maxPeriod: maxPeriod, ropeTheta: ropeTheta, positionGrid: positionGrid, normEpsilon: normEpsilon, tMin: tMin)
    }
}

extension MMDiTConfig: UncheckedDecodable {}

/// The hyperparameters of a `strobe-mmdit` (v2) model: the `strobe.architecture` metadata of its
/// weights file (weights-format.md §5.2): text encoder, latent MMDiT and latent autoencoder.
public struct LatentArchitectureConfig: ArchitectureJSON, Sendable, Equatable {
    /// The family name of v2 files.
    public static let family = "strobe-mmdit"

    /// Model family; must be ``family``.
    public let family: String
    /// What the denoiser predicts; must be `"x"` (the clean latent).
    public let prediction: String
    /// Image pixels per latent cell along a side; must be ``AutoencoderConfig/factor``.
    public let latentFactor: Int
    /// The longest prompt, in tokens with the end-of-sequence token.
    public let maxPromptTokens: Int
    /// The text encoder.
    public let text: TextEncoderConfig
    /// The denoiser.
    public let denoiser: MMDiTConfig
    /// The autoencoder whose latents the denoiser samples.
    public let autoencoder: AutoencoderConfig

    /// Makes a configuration and checks its invariants.
    public init(
        text: TextEncoderConfig, denoiser: MMDiTConfig, autoencoder: AutoencoderConfig,
        maxPromptTokens: Int = 1000
    ) throws(ArchitectureError) {
        family = Self.family
        prediction = "x"
        latentFactor = AutoencoderConfig.factor
        self.maxPromptTokens = maxPromptTokens
        self.text = text
        self.denoiser = denoiser
        self.autoencoder = autoencoder
        if !problems.isEmpty { throw .invalid(problems: problems) }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case family, prediction, text, denoiser, autoencoder
        case latentFactor = "latent_factor", maxPromptTokens = "max_prompt_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        family = try container.decode(String.self, forKey: .family)
        // The engine's other family has other keys: say which family it is rather than list them.
        guard family != ArchitectureConfig.family else {
            throw ArchitectureError.invalid(problems: ["family '\(family)' is not '\(Self.family)'"])
        }
        try decoder.rejectUnknownKeys(CodingKeys.self)
        prediction = try container.decode(String.self, forKey: .prediction)
        latentFactor = try container.decode(Int.self, forKey: .latentFactor)
        maxPromptTokens = try container.decode(Int.self, forKey: .maxPromptTokens)
        text = try container.decode(Unchecked<TextEncoderConfig>.self, forKey: .text).value
        denoiser = try container.decode(Unchecked<MMDiTConfig>.self, forKey: .denoiser).value
        autoencoder = try container.decode(Unchecked<AutoencoderConfig>.self, forKey: .autoencoder).value
        if !problems.isEmpty { throw ArchitectureError.invalid(problems: problems) }
    }

    /// Every broken invariant of the whole configuration.
    var problems: [String] {
        var list: [String] = []
        if family != Self.family { list.append("family '\(family)' is not '\(Self.family)'") }
        if prediction != "x" { list.append("prediction '\(prediction)' is not 'x' (only x-prediction is supported)") }
        if latentFactor != AutoencoderConfig.factor {
            list.append("latent_factor \(latentFactor) is not the autoencoder's \(AutoencoderConfig.factor)")
        }
        if maxPromptTokens < 1 { list.append("max_prompt_tokens \(maxPromptTokens) must be at least 1") }
        if denoiser.latentChannels != autoencoder.latentChannels {
            list.append("denoiser.latent_channels \(denoiser.latentChannels) is not "
                + "autoencoder.latent_channels \(autoencoder.latentChannels)")
        }
        return list + text.problems(prefix: "text.") + denoiser.problems(prefix: "denoiser.")
            + autoencoder.problems(prefix: "autoencoder.")
    }
}
