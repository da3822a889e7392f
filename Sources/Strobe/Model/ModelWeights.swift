import StrobeTensor

// Typed parameters of a `strobe-dit` model. Forward code reads these structs, never tensor
// names; `StrobeDiTCheckpoint` is the one place that maps checkpoint names onto them.
//
// Shape legend (weights-format.md §5.1)
//   V   vocabulary            Dt  text width          Ht, Dk  text heads and head size
//   Df  text feed-forward     D   denoiser width      Dh = D/Hh  denoiser head size
//   E   sinusoid size         M   MLP ratio           P = C·p·p  patch features

/// A linear layer, `y = x·Wᵀ + b`.
public struct LinearWeights: Sendable {
    /// `[out, in]`.
    public let weight: Tensor
    /// `[out]`, or nil for a layer without bias.
    public let bias: Tensor?
    /// The weight packed for bf16 products, made when a bf16 product first needs it.
    public let bf16 = LazyBF16Matrix()

    /// A layer from its weight `[out, in]` and optional bias `[out]`.
    public init(weight: Tensor, bias: Tensor?) {
        self.weight = weight
        self.bias = bias
    }

    /// `out [rows, out] = x [rows, in] · Wᵀ + b` over raw rows, with the matrix product in
    /// `precision` (see `Ops.linear(_:rows:weight:bias:packed:into:)`).
    public func apply(
        _ x: UnsafePointer<Float>, rows: Int, precision: Precision, into out: UnsafeMutablePointer<Float>
    ) {
        let packed = precision == .bf16 && rows >= Ops.bf16MinimumRows && weight.shape[1] > 0 ? bf16.packed(weight) : nil
        Ops.linear(x, rows: rows, weight: weight, bias: bias, packed: packed, into: out)
    }

    /// Applies the layer to `x [..., in]`, giving `[..., out]`.
    @inlinable
    public func callAsFunction(_ x: Tensor) -> Tensor { Ops.linear(x, weight: weight, bias: bias) }
}

/// The text encoder's parameters.
public struct T5Weights: Sendable {
    /// One encoder block.
    public struct Block: Sendable {
        /// `[Dt]`: weight of the RMSNorm before attention.
        public let attentionNorm: Tensor
        /// `[Ht·Dk, Dt]`, no bias.
        public let query: LinearWeights
        /// `[Ht·Dk, Dt]`, no bias.
        public let key: LinearWeights
        /// `[Ht·Dk, Dt]`, no bias.
        public let value: LinearWeights
        /// `[Dt, Ht·Dk]`, no bias.
        public let output: LinearWeights
        /// `[Dt]`: weight of the RMSNorm before the feed-forward.
        public let feedForwardNorm: Tensor
        /// `wi_0`, `[Df, Dt]`, no bias: the branch through GELU.
        public let gate: LinearWeights
        /// `wi_1`, `[Df, Dt]`, no bias: the linear branch.
        public let up: LinearWeights
        /// `wo`, `[Dt, Df]`, no bias.
        public let down: LinearWeights
    }

    /// `[V, Dt]` token embeddings.
    public let embedding: Tensor
    /// `[buckets, Ht]` relative position bias, shared by every block.
    public let relativeBias: Tensor
    /// The encoder blocks, in order.
    public let blocks: [Block]
    /// `[Dt]`: weight of the final RMSNorm.
    public let finalNorm: Tensor
}

/// The denoiser's parameters.
public struct DenoiserWeights: Sendable {
    /// A scalar embedder: sinusoids → `fc1` → SiLU → `fc2`.
    public struct ScalarEmbedder: Sendable {
        /// `[D, E]`.
        public let fc1: LinearWeights
        /// `[D, D]`.
        public let fc2: LinearWeights
    }

    /// Self-attention over image tokens (QK-RMSNorm, 2-D RoPE).
    public struct SelfAttention: Sendable {
        /// `[3D, D]`; rows ordered (q, k, v) × heads × Dh.
        public let qkv: LinearWeights
        /// `[Dh]`: weight of the per-head query RMSNorm.
        public let queryNorm: Tensor
        /// `[Dh]`: weight of the per-head key RMSNorm.
        public let keyNorm: Tensor
        /// `[D, D]`.
        public let projection: LinearWeights
    }

    /// Cross-attention from image tokens to text tokens (QK-RMSNorm, no RoPE).
    public struct CrossAttention: Sendable {
        /// `[D, D]`.
        public let query: LinearWeights
        /// `[2D, Dt]`; rows ordered (k, v) × heads × Dh.
        public let keyValue: LinearWeights
        /// `[Dh]`: weight of the per-head query RMSNorm.
        public let queryNorm: Tensor
        /// `[Dh]`: weight of the per-head key RMSNorm.
        public let keyNorm: Tensor
        /// `[D, D]`.
        public let projection: LinearWeights
    }

    /// One DiT block.
    public struct Block: Sendable {
        /// `[6D, D]`; six chunks of D: shift₁ scale₁ gate₁ shift₂ scale₂ gate₂.
        public let modulation: LinearWeights
        /// Self-attention.
        public let attention: SelfAttention
        /// Cross-attention to the text.
        public let cross: CrossAttention
        /// `[M·D, D]`.
        public let fc1: LinearWeights
        /// `[D, M·D]`.
        public let fc2: LinearWeights
    }

    /// `[D, P]`: patch features → tokens.
    public let patchEmbedding: LinearWeights
    /// Embeds the time t.
    public let timeEmbedder: ScalarEmbedder
    /// Embeds the gap t − s.
    public let gapEmbedder: ScalarEmbedder
    /// Embeds the guidance input β.
    public let guidanceEmbedder: ScalarEmbedder
    /// `[D, Dt]`: the mean text token → the conditioning vector.
    public let textPool: LinearWeights
    /// The DiT blocks, in order.
    public let blocks: [Block]
    /// `[2D, D]`; two chunks of D: shift, scale.
    public let finalModulation: LinearWeights
    /// `[P, D]`: tokens → patch features.
    public let finalLinear: LinearWeights
}
