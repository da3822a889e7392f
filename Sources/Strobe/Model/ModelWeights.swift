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

    /// Applies the layer to `x [..., in]`, giving `[..., out]`.
    @inlinable
    public func callAsFunction(_ x: Tensor) -> Tensor { Ops.linear(x, weight: weight, bias: bias) }
}

/// The text encoder's parameters.
public struct T5Weights: Sendable {
    /// One encoder block.
    public struct Block: Sendable {
        public let attentionNorm: Tensor      // [Dt]
        public let query: LinearWeights       // [Ht·Dk, Dt], no bias
        public let key: LinearWeights         // [Ht·Dk, Dt], no bias
        public let value: LinearWeights       // [Ht·Dk, Dt], no bias
        public let output: LinearWeights      // [Dt, Ht·Dk], no bias
        public let feedForwardNorm: Tensor    // [Dt]
        public let gate: LinearWeights        // wi_0 [Df, Dt], through GELU
        public let up: LinearWeights          // wi_1 [Df, Dt]
        public let down: LinearWeights        // wo [Dt, Df]
    }

    public let embedding: Tensor              // [V, Dt]
    public let relativeBias: Tensor           // [buckets, Ht]
    public let blocks: [Block]
    public let finalNorm: Tensor              // [Dt]
}

/// The denoiser's parameters.
public struct DenoiserWeights: Sendable {
    /// A scalar embedder: sinusoids → `fc1` → SiLU → `fc2`.
    public struct ScalarEmbedder: Sendable {
        public let fc1: LinearWeights         // [D, E]
        public let fc2: LinearWeights         // [D, D]
    }

    /// Self-attention over image tokens (QK-RMSNorm, 2-D RoPE).
    public struct SelfAttention: Sendable {
        public let qkv: LinearWeights         // [3D, D]; rows (q, k, v) × heads × Dh
        public let queryNorm: Tensor          // [Dh]
        public let keyNorm: Tensor            // [Dh]
        public let projection: LinearWeights  // [D, D]
    }

    /// Cross-attention from image tokens to text tokens (QK-RMSNorm, no RoPE).
    public struct CrossAttention: Sendable {
        public let query: LinearWeights       // [D, D]
        public let keyValue: LinearWeights    // [2D, Dt]; rows (k, v) × heads × Dh
        public let queryNorm: Tensor          // [Dh]
        public let keyNorm: Tensor            // [Dh]
        public let projection: LinearWeights  // [D, D]
    }

    /// One DiT block.
    public struct Block: Sendable {
        public let modulation: LinearWeights  // [6D, D]; chunks shift₁ scale₁ gate₁ shift₂ scale₂ gate₂
        public let attention: SelfAttention
        public let cross: CrossAttention
        public let fc1: LinearWeights         // [M·D, D]
        public let fc2: LinearWeights         // [D, M·D]
    }

    public let patchEmbedding: LinearWeights  // [D, P]
    public let timeEmbedder: ScalarEmbedder
    public let gapEmbedder: ScalarEmbedder
    public let guidanceEmbedder: ScalarEmbedder
    public let textPool: LinearWeights        // [D, Dt]
    public let blocks: [Block]
    public let finalModulation: LinearWeights // [2D, D]; chunks shift, scale
    public let finalLinear: LinearWeights     // [P, D]
}
