import Foundation

/// The hyperparameters of a `strobe-dit` model: the `strobe.architecture` metadata of its
/// weights file (weights-format.md §5.1), with the same snake_case keys.
///
/// Every key is required and unknown keys are rejected. The family's invariants are checked
/// when a value is made or decoded; a broken one throws ``ArchitectureError`` naming the values.
/// Values are immutable, so a configuration that exists is valid.
public struct ArchitectureConfig: ArchitectureJSON, Sendable, Equatable {
    /// The one family this engine implements.
    public static let family = "strobe-dit"

    /// Model family; must be ``family``.
    public let family: String
    /// What the denoiser predicts; must be `"x"` (the clean image).
    public let prediction: String
    /// The longest prompt, in tokens with the end-of-sequence token, the model was made for.
    public let maxPromptTokens: Int
    /// The text encoder.
    public let text: TextEncoderConfig
    /// The denoiser.
    public let denoiser: DenoiserConfig

    /// Makes a configuration and checks its invariants.
    public init(
        text: TextEncoderConfig, denoiser: DenoiserConfig, family: String = ArchitectureConfig.family,
        prediction: String = "x", maxPromptTokens: Int = 1000
    ) throws(ArchitectureError) {
        self.family = family
        self.prediction = prediction
        self.maxPromptTokens = maxPromptTokens
        self.text = text
        self.denoiser = denoiser
        if !problems.isEmpty { throw .invalid(problems: problems) }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case family, prediction, text, denoiser
        case maxPromptTokens = "max_prompt_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        family = try container.decode(String.self, forKey: .family)
        // The engine's other family has other keys: say which family it is rather than list them.
        guard family != LatentArchitectureConfig.family else {
            throw ArchitectureError.invalid(problems: ["family '\(family)' is not '\(Self.family)'"])
        }
        try decoder.rejectUnknownKeys(CodingKeys.self)
        prediction = try container.decode(String.self, forKey: .prediction)
        maxPromptTokens = try container.decode(Int.self, forKey: .maxPromptTokens)
        // The parts are decoded unchecked so that all their problems are reported together.
        text = try container.decode(Unchecked<TextEncoderConfig>.self, forKey: .text).value
        denoiser = try container.decode(Unchecked<DenoiserConfig>.self, forKey: .denoiser).value
        if !problems.isEmpty { throw ArchitectureError.invalid(problems: problems) }
    }

    /// Every broken invariant of the whole configuration.
    var problems: [String] {
        var list: [String] = []
        if family != Self.family { list.append("family '\(family)' is not '\(Self.family)'") }
        if prediction != "x" { list.append("prediction '\(prediction)' is not 'x' (only x-prediction is supported)") }
        if maxPromptTokens < 1 { list.append("max_prompt_tokens \(maxPromptTokens) must be at least 1") }
        return list + text.problems(prefix: "text.") + denoiser.problems(prefix: "denoiser.")
    }
}

/// A T5 v1.1-style text encoder's hyperparameters (`strobe.architecture` key `text`).
public struct TextEncoderConfig: Codable, Sendable, Equatable {
    /// Vocabulary size `V` (rows of the embedding table).
    public let vocabSize: Int
    /// Width `Dt`.
    public let dModel: Int
    /// Attention heads `Ht`.
    public let numHeads: Int
    /// Size `Dk` of one head.
    public let dKV: Int
    /// Feed-forward width `Df`.
    public let dFF: Int
    /// Number of blocks `Lt`.
    public let numLayers: Int
    /// Relative position buckets (both directions together).
    public let relativeAttentionNumBuckets: Int
    /// Distance from which all positions share the last bucket.
    public let relativeAttentionMaxDistance: Int
    /// RMSNorm epsilon.
    public let layerNormEpsilon: Double

    /// Makes a configuration (defaults as the reference's) and checks its invariants.
    public init(
        vocabSize: Int, dModel: Int = 256, numHeads: Int = 4, dKV: Int = 64, dFF: Int = 768,
        numLayers: Int = 4, relativeAttentionNumBuckets: Int = 32, relativeAttentionMaxDistance: Int = 128,
        layerNormEpsilon: Double = 1e-6
    ) throws(ArchitectureError) {
        self.vocabSize = vocabSize
        self.dModel = dModel
        self.numHeads = numHeads
        self.dKV = dKV
        self.dFF = dFF
        self.numLayers = numLayers
        self.relativeAttentionNumBuckets = relativeAttentionNumBuckets
        self.relativeAttentionMaxDistance = relativeAttentionMaxDistance
        self.layerNormEpsilon = layerNormEpsilon
        if !problems().isEmpty { throw .invalid(problems: problems()) }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case vocabSize = "vocab_size", dModel = "d_model", numHeads = "num_heads", dKV = "d_kv", dFF = "d_ff"
        case numLayers = "num_layers"
        case relativeAttentionNumBuckets = "relative_attention_num_buckets"
        case relativeAttentionMaxDistance = "relative_attention_max_distance"
        case layerNormEpsilon = "layer_norm_epsilon"
    }

    public init(from decoder: any Decoder) throws {
        self = try Unchecked<TextEncoderConfig>(from: decoder).value
        if !problems().isEmpty { throw ArchitectureError.invalid(problems: problems()) }
    }

    /// Decodes without checking the invariants.
    init(uncheckedFrom decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        dModel = try c.decode(Int.self, forKey: .dModel)
        numHeads = try c.decode(Int.self, forKey: .numHeads)
        dKV = try c.decode(Int.self, forKey: .dKV)
        dFF = try c.decode(Int.self, forKey: .dFF)
        numLayers = try c.decode(Int.self, forKey: .numLayers)
        relativeAttentionNumBuckets = try c.decode(Int.self, forKey: .relativeAttentionNumBuckets)
        relativeAttentionMaxDistance = try c.decode(Int.self, forKey: .relativeAttentionMaxDistance)
        layerNormEpsilon = try c.decode(Double.self, forKey: .layerNormEpsilon)
    }

    /// Every broken invariant, keys written with `prefix` (`text.` inside the whole configuration).
    func problems(prefix: String = "") -> [String] {
        var list: [String] = []
        for (key, value) in [("vocab_size", vocabSize), ("d_model", dModel), ("num_heads", numHeads),
                             ("d_kv", dKV), ("d_ff", dFF), ("num_layers", numLayers)] where value < 1 {
            list.append("\(prefix)\(key) \(value) must be at least 1")
        }
        // Half the buckets per direction, half of those exact: at least one exact bucket.
        let maxExact = relativeAttentionNumBuckets / 4
        if relativeAttentionNumBuckets < 4 {
            list.append("\(prefix)relative_attention_num_buckets \(relativeAttentionNumBuckets) must be at least 4")
        } else if relativeAttentionMaxDistance <= maxExact {
            list.append("\(prefix)relative_attention_max_distance \(relativeAttentionMaxDistance) must exceed the "
                + "exact buckets per direction (\(prefix)relative_attention_num_buckets / 4 = \(maxExact))")
        }
        if !(layerNormEpsilon > 0 && layerNormEpsilon.isFinite) {
            list.append("\(prefix)layer_norm_epsilon \(layerNormEpsilon) must be positive")
        }
        return list
    }
}

/// The pixel-space DiT denoiser's hyperparameters (`strobe.architecture` key `denoiser`).
public struct DenoiserConfig: Codable, Sendable, Equatable {
    /// Image channels `C`.
    public let channels: Int
    /// Patch side `p` in pixels.
    public let patchSize: Int
    /// Width `D`.
    public let hiddenSize: Int
    /// Number of blocks.
    public let depth: Int
    /// Attention heads `Hh` (`Dh = D/Hh`).
    public let numHeads: Int
    /// MLP width as a multiple of `D`.
    public let mlpRatio: Int
    /// Sinusoid size `E` of a scalar embedding.
    public let frequencyEmbeddingSize: Int
    /// The longest period of the scalar sinusoids.
    public let maxPeriod: Double
    /// RoPE base θ.
    public let ropeTheta: Double
    /// The frame `G` of the absolute positions: a token's coordinates run over `(0, G)` on each
    /// axis, whatever the aspect ratio.
    public let positionGrid: Double
    /// RMSNorm epsilon.
    public let normEpsilon: Double
    /// Smallest divisor of the velocity `(x − x̂)/max(t, t_min)`.
    public let tMin: Double

    /// Size `Dh` of one attention head.
    public var headDim: Int { hiddenSize / numHeads }
    /// Features of one patch, `P = C·p·p`.
    public var patchFeatures: Int { channels * patchSize * patchSize }

    /// Makes a configuration (defaults as the reference's) and checks its invariants.
    public init(
        channels: Int = 3, patchSize: Int = 16, hiddenSize: Int = 256, depth: Int = 8, numHeads: Int = 4,
        mlpRatio: Int = 4, frequencyEmbeddingSize: Int = 256, maxPeriod: Double = 10_000,
        ropeTheta: Double = 10_000, positionGrid: Double = 16, normEpsilon: Double = 1e-6, tMin: Double = 0.05
    ) throws(ArchitectureError) {
        self.channels = channels
        self.patchSize = patchSize
        self.hiddenSize = hiddenSize
        self.depth = depth
        self.numHeads = numHeads
        self.mlpRatio = mlpRatio
        self.frequencyEmbeddingSize = frequencyEmbeddingSize
        self.maxPeriod = maxPeriod
        self.ropeTheta = ropeTheta
        self.positionGrid = positionGrid
        self.normEpsilon = normEpsilon
        self.tMin = tMin
        if !problems().isEmpty { throw .invalid(problems: problems()) }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case channels, depth
        case patchSize = "patch_size", hiddenSize = "hidden_size", numHeads = "num_heads", mlpRatio = "mlp_ratio"
        case frequencyEmbeddingSize = "frequency_embedding_size", maxPeriod = "max_period"
        case ropeTheta = "rope_theta", positionGrid = "position_grid", normEpsilon = "norm_epsilon", tMin = "t_min"
    }

    public init(from decoder: any Decoder) throws {
        self = try Unchecked<DenoiserConfig>(from: decoder).value
        if !problems().isEmpty { throw ArchitectureError.invalid(problems: problems()) }
    }

    /// Decodes without checking the invariants.
    init(uncheckedFrom decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        channels = try c.decode(Int.self, forKey: .channels)
        patchSize = try c.decode(Int.self, forKey: .patchSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        depth = try c.decode(Int.self, forKey: .depth)
        numHeads = try c.decode(Int.self, forKey: .numHeads)
        mlpRatio = try c.decode(Int.self, forKey: .mlpRatio)
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
        for (key, value) in [("channels", channels), ("patch_size", patchSize), ("hidden_size", hiddenSize),
                             ("depth", depth), ("num_heads", numHeads), ("mlp_ratio", mlpRatio)] where value < 1 {
            list.append("\(prefix)\(key) \(value) must be at least 1")
        }
        return list + Self.transformerProblems(
            prefix: prefix, hiddenSize: hiddenSize, numHeads: numHeads, frequencyEmbeddingSize: frequencyEmbeddingSize,
            maxPeriod: maxPeriod, ropeTheta: ropeTheta, positionGrid: positionGrid, normEpsilon: normEpsilon, tMin: tMin)
    }

    /// The invariants v1's DiT and v2's MMDiT share: heads that split the width into sizes
    /// 2-D RoPE can rotate, an even sinusoid size, positive scalars, t_min in (0, 1].
    static func transformerProblems(
        prefix: String, hiddenSize: Int, numHeads: Int, frequencyEmbeddingSize: Int, maxPeriod: Double,
        ropeTheta: Double, positionGrid: Double, normEpsilon: Double, tMin: Double
    ) -> [String] {
        var list: [String] = []
        if hiddenSize >= 1 && numHeads >= 1 {
            if hiddenSize % numHeads != 0 {
                list.append("\(prefix)hidden_size \(hiddenSize) is not divisible by \(prefix)num_heads \(numHeads)")
            } else if (hiddenSize / numHeads) % 4 != 0 {
                list.append("head size \(prefix)hidden_size / \(prefix)num_heads = \(hiddenSize) / \(numHeads) = \(hiddenSize / numHeads) "
                    + "must be a multiple of 4 (2-D RoPE rotates pairs within each half of a head; "
                    + "this also makes hidden_size a multiple of 4, as the 2-D sincos positions need)")
            }
        }
        if frequencyEmbeddingSize < 2 || frequencyEmbeddingSize % 2 != 0 {
            list.append("\(prefix)frequency_embedding_size \(frequencyEmbeddingSize) must be even and at least 2")
        }
        for (key, value) in [("max_period", maxPeriod), ("rope_theta", ropeTheta), ("position_grid", positionGrid),
                             ("norm_epsilon", normEpsilon)]
        where !(value > 0 && value.isFinite) {
            list.append("\(prefix)\(key) \(value) must be positive")
        }
        if !(tMin > 0 && tMin <= 1) { list.append("\(prefix)t_min \(tMin) must be in (0, 1]") }
        return list
    }
}

/// A part of the configuration that can be decoded without its invariant check.
protocol UncheckedDecodable {
    init(uncheckedFrom decoder: any Decoder) throws
}

extension TextEncoderConfig: UncheckedDecodable {}
extension DenoiserConfig: UncheckedDecodable {}

/// Decodes a part of the configuration unchecked, so that the whole configuration can report
/// every problem at once.
struct Unchecked<Config: UncheckedDecodable>: Decodable {
    let value: Config
    init(from decoder: any Decoder) throws { value = try Config(uncheckedFrom: decoder) }
}
