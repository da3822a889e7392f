import StrobeTensor

// The v2 autoencoder's decoder (reference: `Decoder` in python/strobe_training/v2/autoencoder.py):
// a raw latent to an RGB image, convolutions only.
//
// Shape legend
//   B  images          h, w  latent side        H, W = 16h, 16w  image side
//   C  latent channels c  width of a level (192, 128, 64, 32, 16 in the standard configuration)

/// The decoder: raw latent `[B, C, h, w]` → image `[B, 3, 16h, 16w]` in about [0, 1] (unclamped).
///
/// A 3×3 convolution to the first level's width and its residual blocks; then four levels, each
/// a 2× upsampling (bilinear or nearest, as configured), a 3×3 convolution to its width and its
/// blocks; then a channel RMS norm, SiLU, a 3×3 convolution to RGB, and `(x + 1) / 2`.
public struct AutoencoderDecoder: Sendable {
    /// The hyperparameters.
    public let config: AutoencoderConfig
    /// The parameters.
    public let weights: AutoencoderDecoderWeights

    /// A decoder of `config` with `weights` (from ``AutoencoderCheckpoint``).
    public init(config: AutoencoderConfig, weights: AutoencoderDecoderWeights) {
        self.config = config
        self.weights = weights
    }

    /// Decodes raw (denormalised) latents to images.
    ///
    /// - Parameter latent: `[B, C, h, w]`, h and w positive.
    /// - Returns: `[B, 3, 16h, 16w]`, about [0, 1]; not clamped.
    public func callAsFunction(_ latent: Tensor) -> Tensor {
        precondition(
            latent.rank == 4 && latent.shape[1] == config.latentChannels && latent.shape[2] > 0 && latent.shape[3] > 0,
            "AutoencoderDecoder: latent must be [B, \(config.latentChannels), h, w], got \(latent.shape)")
        let eps = Float(config.eps)
        var x = weights.convIn(latent)                                              // [B, c₀, h, w]
        for block in weights.blocks0 { x = block(x, eps: eps) }                     // [B, c₀, h, w]
        for level in weights.ups {
            x = config.upsample == .bilinear ? Ops.upsampleBilinear2x(x) : Ops.upsampleNearest(x)  // [B, c′, 2·, 2·]
            x = level.conv(x)                                                       // [B, c, 2·, 2·]
            for block in level.blocks { x = block(x, eps: eps) }                    // [B, c, 2·, 2·]
        }
        x = weights.convOut(Ops.channelRMSNormSiLU(x, weight: weights.normOut, eps: eps))  // [B, 3, H, W] in about [-1, 1]
        return (x + 1) / 2                                                          // [B, 3, H, W] in about [0, 1]
    }
}
