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

/// The sampler's space seen from both ends: x₀ to pixels (``ImageDecoder``) and, for editing,
/// a known image into the sampler's space and a per-pixel mask onto its cells.
public protocol SampleSpace: ImageDecoder {
    /// Pixels per cell of the sampler's state along a side: 1 in pixel space, 16 for latents.
    var cellSize: Int { get }
    /// The known image in the sampler's space, `[C, H/cell, W/cell]` (sides multiples of ``cellSize``).
    func encode(_ image: RGBImage) -> Tensor
}

extension SampleSpace {
    /// A per-pixel mask `[H·W]` as the mean over each cell, `[(H/cell)·(W/cell)]` (itself when
    /// cells are pixels).
    public func cellMeans(_ mask: [Float], width: Int, height: Int) -> [Float] {
        let f = cellSize
        guard f > 1 else { return mask }
        precondition(mask.count == width * height && width % f == 0 && height % f == 0,
                     "cellMeans: a \(width)x\(height) mask of \(mask.count) values in cells of \(f)")
        let w = width / f, h = height / f
        var out = [Float](repeating: 0, count: w * h)
        for y in 0..<height {
            for x in 0..<width { out[(y / f) * w + x / f] += mask[y * width + x] }
        }
        return out.map { $0 / Float(f * f) }
    }
}

/// The pixel-space decoder: x₀ (about [−1, 1]) → `clamp((x₀ + 1) / 2, 0, 1)`, in Float32 as
/// the reference's `to_pixels`.
public struct PixelDecoder: SampleSpace {
    /// Image channels (3).
    public let channels: Int

    public init(channels: Int = 3) {
        self.channels = channels
    }

    public func sampleShape(for size: ImageSize) -> [Int] {
        [channels, size.height, size.width]
    }

    /// 1: the state is the image.
    public var cellSize: Int { 1 }

    /// `2·pixel − 1`, `[C, H, W]`.
    public func encode(_ image: RGBImage) -> Tensor {
        Tensor(shape: [3, image.height, image.width], storage: image.pixels.map { 2 * $0 - 1 })
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
