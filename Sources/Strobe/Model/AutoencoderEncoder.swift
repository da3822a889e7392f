import StrobeTensor

// The v2 autoencoder's encoder (reference: `Encoder` in python/strobe_training/v2/autoencoder.py):
// an RGB image to its raw latent, convolutions only.
//
// Shape legend
//   B  images          H, W  image side (multiples of 16)      h, w = H/16, W/16  latent side
//   C  latent channels c  width of a level (32, 64, 128, 192 in the standard configuration)

/// The encoder: image `[B, 3, H, W]` in [0, 1] → raw latent `[B, C, H/16, W/16]`.
///
/// Each of its four levels starts with a 3×3 stride-2 convolution, then its residual blocks;
/// then a channel RMS norm, SiLU and a 1×1 convolution to the latent. ``LatentAutoencoder``
/// normalises the result for the DiT.
public struct AutoencoderEncoder: Sendable {
    /// The hyperparameters.
    public let config: AutoencoderConfig
    /// The parameters.
    public let weights: AutoencoderEncoderWeights

    /// An encoder of `config` with `weights` (from ``AutoencoderCheckpoint``).
    public init(config: AutoencoderConfig, weights: AutoencoderEncoderWeights) {
        self.config = config
        self.weights = weights
    }

    /// Encodes images to raw (unnormalised) latents.
    ///
    /// - Parameter image: `[B, 3, H, W]` in [0, 1], H and W positive multiples of 16.
    /// - Returns: `[B, C, H/16, W/16]`.
    public func callAsFunction(_ image: Tensor) -> Tensor {
        let f = AutoencoderConfig.factor
        precondition(
            image.rank == 4 && image.shape[1] == 3 && image.shape[2] > 0 && image.shape[3] > 0
                && image.shape[2] % f == 0 && image.shape[3] % f == 0,
            "AutoencoderEncoder: image must be [B, 3, H, W] with sides that are positive multiples of \(f), got \(image.shape)")
        let eps = Float(config.eps)
        var x = image * 2 - 1                                                       // [B, 3, H, W] in [-1, 1]
        for level in weights.levels {
            x = level.down(x, stride: 2)                                            // [B, c, H/2ⁱ, W/2ⁱ]
            for block in level.blocks { x = block(x, eps: eps) }                    // [B, c, H/2ⁱ, W/2ⁱ]
        }
        return weights.convOut(Ops.channelRMSNormSiLU(x, weight: weights.normOut, eps: eps))  // [B, C, h, w]
    }
}

extension AutoencoderResBlockWeights {
    /// `x + conv2(SiLU(norm2(conv1(SiLU(norm1(x))))))`: `[B, c, H, W]` → the same.
    func callAsFunction(_ x: Tensor, eps: Float) -> Tensor {
        let y = conv1(Ops.channelRMSNormSiLU(x, weight: norm1, eps: eps))      // [B, c, H, W]
        return x + conv2(Ops.channelRMSNormSiLU(y, weight: norm2, eps: eps))  // [B, c, H, W]
    }
}
