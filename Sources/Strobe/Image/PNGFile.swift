/// The colour type recorded in a PNG's header.
public enum PNGColorType: Int, Sendable, Equatable, Codable {
    /// Greyscale (type 0).
    case grey = 0
    /// Truecolour (type 2).
    case rgb = 2
    /// Indexed colour with a palette (type 3).
    case palette = 3
    /// Greyscale with alpha (type 4).
    case greyAlpha = 4
    /// Truecolour with alpha (type 6).
    case rgba = 6
}

/// A decoded PNG: its pixels as RGB floats in [0, 1], its alpha plane when it has one, its text
/// chunks in file order, and what the file itself stored.
public struct PNGFile: Sendable, Equatable {
    /// The pixels; 8-bit samples become `v / 255`, 16-bit samples `v / 65535`.
    public var image: RGBImage
    /// Every tEXt, zTXt and iTXt chunk, in file order.
    public var text: [PNGTextChunk]
    /// The file's bit depth (1, 2, 4, 8 or 16).
    public var sourceBitDepth: Int
    /// The file's colour type.
    public var sourceColorType: PNGColorType
    /// Whether the file was Adam7-interlaced.
    public var interlaced: Bool
    /// Opacity per pixel in [0, 1] (row-major, `width · height`), or nil when the file has
    /// neither an alpha channel nor a tRNS chunk.
    public var alpha: [Float]? = nil

    /// The text of the first chunk with `key`, if any.
    public func text(forKey key: String) -> String? {
        text.first { $0.key == key }?.text
    }
}
