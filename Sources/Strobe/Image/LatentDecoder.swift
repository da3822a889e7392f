import StrobeTensor

/// The latent decoder stage: the sampler's x₀ is a normalised latent of the v2 autoencoder,
/// `[C, H/16, W/16]`; decoding denormalises it, runs the convolutional decoder and clamps the
/// image (about [0, 1]) to [0, 1].
///
/// Image sides must be positive multiples of 16 (``AutoencoderConfig/factor``).
public struct LatentDecoder: SampleSpace {
    /// The autoencoder whose decoder and latent statistics are used.
    public let autoencoder: LatentAutoencoder

    /// A decoder stage over `autoencoder`.
    public init(autoencoder: LatentAutoencoder) {
        self.autoencoder = autoencoder
    }

    /// `[C, H/16, W/16]`.
    public func sampleShape(for size: ImageSize) -> [Int] {
        autoencoder.latentShape(width: size.width, height: size.height)
    }

    /// 16 pixels per latent cell.
    public var cellSize: Int { AutoencoderConfig.factor }

    /// The image's normalised latent `[C, H/16, W/16]` (sides multiples of 16), from its pixels
    /// quantised to 8 bits as a PNG holds them (the training latents were made that way).
    public func encode(_ image: RGBImage) -> Tensor {
        let pixels = image.pixels.map { (min(max($0, 0), 1) * 255).rounded() / 255 }
        let x = Tensor(shape: [1, 3, image.height, image.width], storage: pixels)      // [1, 3, H, W]
        let z = autoencoder.encode(x)                                                  // [1, C, h, w]
        return z.reshaped(Array(z.shape.dropFirst()))
    }

    /// Decodes one normalised latent `[C, h, w]` (or `[1, C, h, w]`) into an image of 16w × 16h:
    /// `clamp(decoder(x₀ · std + mean), 0, 1)` in Float32 (NaN stays NaN and is written as 0).
    ///
    /// - Throws: ``PipelineError/invalidSize(width:height:patchSize:)`` when `x0` is not a
    ///   latent of this autoencoder (wrong rank, channel count or an empty side).
    public func decode(_ x0: Tensor) throws(PipelineError) -> RGBImage {
        let c = autoencoder.latentChannels, f = AutoencoderConfig.factor
        let dims = x0.rank == 4 && x0.shape[0] == 1 ? Array(x0.shape.dropFirst()) : x0.shape
        guard dims.count == 3, dims[0] == c, dims[1] > 0, dims[2] > 0 else {
            let side = { (i: Int) in dims.count == 3 ? dims[i] * f : 0 }
            throw .invalidSize(width: side(2), height: side(1), patchSize: f)
        }
        let image = autoencoder.decode(x0.reshaped([1] + dims))                     // [1, 3, H, W]
        let pixels = image.storage.map { p -> Float in p.isNaN ? p : min(max(p, 0), 1) }
        do {
            return try RGBImage(tensor: Tensor(shape: [3, dims[1] * f, dims[2] * f], storage: pixels))
        } catch {
            throw .image(error)
        }
    }
}
