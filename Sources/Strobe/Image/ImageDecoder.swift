import StrobeTensor

/// The stage after the sampler: maps the sampler's result x₀ to pixels.
///
/// The default model works in pixel space (``PixelDecoder``). A latent model (FLUX, SANA,
/// PixArt) samples in a VAE's latent space instead; its VAE decoder conforms to this protocol,
/// saying what the sampler's state looks like for an image size and turning latents into
/// pixels. (Named `ImageDecoder` so as not to shadow Swift's `Decoder`.)
public protocol ImageDecoder: Sendable {
    /// The shape `[C, h, w]` of the sampler's state (and of the noise) for an image of `size`.
    func sampleShape(for size: ImageSize) -> [Int]
    /// Decodes one x₀ of ``sampleShape(for:)`` into an RGB image of the requested size.
    func decode(_ x0: Tensor) throws(PipelineError) -> RGBImage
}

/// The pixel-space decoder: x₀ (about [−1, 1]) → `clamp((x₀ + 1) / 2, 0, 1)`, in Float32 as
/// the reference's `to_pixels`.
public struct PixelDecoder: ImageDecoder {
    /// Image channels (3).
    public let channels: Int

    public init(channels: Int = 3) {
        self.channels = channels
    }

    public func sampleShape(for size: ImageSize) -> [Int] {
        [channels, size.height, size.width]
    }

    public func decode(_ x0: Tensor) throws(PipelineError) -> RGBImage {
        let pixels = x0.storage.map { value -> Float in
            let p = (value + 1) / 2
            return p.isNaN ? p : min(max(p, 0), 1)
        }
        do {
            return try RGBImage(tensor: Tensor(shape: x0.shape, storage: pixels))
        } catch {
            throw .image(error)
        }
    }
}
