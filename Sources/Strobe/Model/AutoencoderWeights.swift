import StrobeTensor

// Typed parameters of the v2 latent autoencoder. Forward code reads these structs, never tensor
// names; `AutoencoderCheckpoint` is the one place that maps checkpoint names onto them.
//
// Shape legend
//   C   latent channels        c, c′  widths of a level and of the one before it
//   k   kernel side (3, or 1 for the encoder's output convolution)

/// A 2-D convolution's parameters, `y = conv2d(x, weight) + bias`.
public struct Conv2DWeights: Sendable {
    /// `[Co, Ci, k, k]`.
    public let weight: Tensor
    /// `[Co]`.
    public let bias: Tensor

    /// A convolution from its weight `[Co, Ci, k, k]` and bias `[Co]`.
    public init(weight: Tensor, bias: Tensor) {
        self.weight = weight
        self.bias = bias
    }

    /// Applies the convolution to `x [B, Ci, H, W]` with zero padding `k / 2` (the size is kept
    /// at stride 1, halved, rounding up, at stride 2).
    public func callAsFunction(_ x: Tensor, stride: Int = 1) -> Tensor {
        Ops.conv2d(x, weight: weight, bias: bias, stride: stride, padding: weight.shape[2] / 2)
    }
}

/// A residual block: `x + conv2(SiLU(norm2(conv1(SiLU(norm1(x))))))`, every convolution 3×3.
public struct AutoencoderResBlockWeights: Sendable {
    /// `[c]`: weight of the channel RMS norm before `conv1`.
    public let norm1: Tensor
    /// `[c, c, 3, 3]`.
    public let conv1: Conv2DWeights
    /// `[c]`: weight of the channel RMS norm before `conv2`.
    public let norm2: Tensor
    /// `[c, c, 3, 3]`.
    public let conv2: Conv2DWeights
}

/// The encoder's parameters.
public struct AutoencoderEncoderWeights: Sendable {
    /// One level: a 3×3 stride-2 convolution `[c, c′, 3, 3]` (c′ = 3 at the first), then blocks.
    public struct Level: Sendable {
        /// `[c, c′, 3, 3]`, stride 2.
        public let down: Conv2DWeights
        /// The level's residual blocks, in order.
        public let blocks: [AutoencoderResBlockWeights]
    }

    /// The four levels (H/2 … H/16).
    public let levels: [Level]
    /// `[c]`: weight of the last channel RMS norm.
    public let normOut: Tensor
    /// `[C, c, 1, 1]`: to the latent.
    public let convOut: Conv2DWeights
}

/// The decoder's parameters.
public struct AutoencoderDecoderWeights: Sendable {
    /// A level above the first: 2× upsampling, a 3×3 convolution `[c, c′, 3, 3]`, then blocks.
    public struct Level: Sendable {
        /// `[c, c′, 3, 3]`.
        public let conv: Conv2DWeights
        /// The level's residual blocks, in order.
        public let blocks: [AutoencoderResBlockWeights]
    }

    /// `[c₀, C, 3, 3]`: from the latent.
    public let convIn: Conv2DWeights
    /// The first level's residual blocks (at the latent's size).
    public let blocks0: [AutoencoderResBlockWeights]
    /// The four levels above the first (H/8 … H).
    public let ups: [Level]
    /// `[c₄]`: weight of the last channel RMS norm.
    public let normOut: Tensor
    /// `[3, c₄, 3, 3]`: to RGB.
    public let convOut: Conv2DWeights
}

/// Everything an autoencoder file holds: both halves and the latent statistics.
public struct AutoencoderWeights: Sendable {
    /// The encoder.
    public let encoder: AutoencoderEncoderWeights
    /// The decoder.
    public let decoder: AutoencoderDecoderWeights
    /// `[C]`: per-channel mean of raw latents (`latent_mean`).
    public let latentMean: Tensor
    /// `[C]`: per-channel standard deviation of raw latents (`latent_std`), every value positive.
    public let latentStd: Tensor
}
