import StrobeTensor

// The v2 latent autoencoder as a whole (reference: `Autoencoder` in
// python/strobe_training/v2/autoencoder.py): its encoder, decoder and latent statistics, and the
// normalisation the latent DiT works in (docs/training-v2.md).
//
// Shape legend
//   B  images     H, W  image side (multiples of 16)     C  latent channels     h, w = H/16, W/16

/// The v2 latent autoencoder: RGB images ↔ normalised latents at 1/16 of the side.
///
/// The DiT samples normalised latents `(z − mean) / std` per channel; ``decode(_:)`` undoes the
/// normalisation and runs the decoder, ``encode(_:)`` runs the encoder and normalises. The
/// statistics (`latent_mean`, `latent_std`) are stored with the weights. Immutable and
/// `Sendable`: one value can serve concurrent tasks.
public struct LatentAutoencoder: Sendable {
    /// The hyperparameters.
    public let config: AutoencoderConfig
    /// Image → raw latent.
    public let encoder: AutoencoderEncoder
    /// Raw latent → image.
    public let decoder: AutoencoderDecoder
    /// `[C]`: per-channel mean of raw latents.
    public let latentMean: Tensor
    /// `[C]`: per-channel standard deviation of raw latents (positive).
    public let latentStd: Tensor

    /// An autoencoder of `config` from typed weights.
    public init(config: AutoencoderConfig, weights: AutoencoderWeights) {
        self.config = config
        self.encoder = AutoencoderEncoder(config: config, weights: weights.encoder)
        self.decoder = AutoencoderDecoder(config: config, weights: weights.decoder)
        self.latentMean = weights.latentMean
        self.latentStd = weights.latentStd
    }

    /// Reads the autoencoder of `config` from the tensors under `prefix` in `file` (see
    /// ``AutoencoderCheckpoint``: PyTorch `state_dict` names after the prefix; F32, F16 or BF16).
    ///
    /// - Throws: ``WeightsError`` listing every missing, misshapen or unexpected tensor under
    ///   the prefix, every tensor with NaN or infinite values, and a `latent_std` that is not
    ///   positive.
    public init(
        file: WeightsFile, config: AutoencoderConfig, prefix: String = AutoencoderCheckpoint.defaultPrefix
    ) throws(WeightsError) {
        self.init(config: config, weights: try AutoencoderCheckpoint.load(file, config: config, prefix: prefix))
    }

    /// Latent channels `C`.
    public var latentChannels: Int { config.latentChannels }

    /// The latent shape `[C, H/16, W/16]` of an image of `width` × `height` (multiples of 16).
    public func latentShape(width: Int, height: Int) -> [Int] {
        [config.latentChannels, height / AutoencoderConfig.factor, width / AutoencoderConfig.factor]
    }

    /// Images → normalised latents: `(encoder(image) − mean) / std` per channel.
    ///
    /// - Parameter image: `[B, 3, H, W]` in [0, 1], H and W positive multiples of 16.
    /// - Returns: `[B, C, H/16, W/16]`.
    public func encode(_ image: Tensor) -> Tensor {
        normalise(encoder(image))
    }

    /// Normalised latents → images: `decoder(z · std + mean)`, about [0, 1], not clamped.
    ///
    /// - Parameter latent: `[B, C, h, w]`.
    /// - Returns: `[B, 3, 16h, 16w]`.
    public func decode(_ latent: Tensor) -> Tensor {
        decoder(denormalise(latent))
    }

    /// Raw latent → the DiT's latent: `(z − mean) / std` per channel. `[B, C, h, w]` → the same.
    public func normalise(_ z: Tensor) -> Tensor {
        (z - channelView(latentMean)) / channelView(latentStd)
    }

    /// The DiT's latent → raw latent: `z · std + mean` per channel. `[B, C, h, w]` → the same.
    public func denormalise(_ z: Tensor) -> Tensor {
        z * channelView(latentStd) + channelView(latentMean)
    }

    /// `[C]` as `[1, C, 1, 1]`, to broadcast over `[B, C, h, w]`.
    private func channelView(_ t: Tensor) -> Tensor { t.reshaped([1, config.latentChannels, 1, 1]) }
}
