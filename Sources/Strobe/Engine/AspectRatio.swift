import Foundation

/// An image size in pixels.
public struct ImageSize: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Parses `"WIDTHxHEIGHT"` (e.g. `"336x192"`); nil when malformed.
    public init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]) else { return nil }
        self.init(width: width, height: height)
    }

    /// `"WIDTHxHEIGHT"`.
    public var description: String { "\(width)x\(height)" }
}

/// The nine aspect ratios Strobe generates (docs/architecture.md, "Image sizes and aspect ratios"), spelled `"W:H"`.
///
/// Pixel sizes (width × height) for the default model (patch 16, about 256² pixels):
///
/// | ratio | size    | ratio | size    | ratio | size    |
/// |-------|---------|-------|---------|-------|---------|
/// | 1:1   | 256x256 | 9:16  | 192x336 | 9:21  | 160x384 |
/// | 3:4   | 224x288 | 16:9  | 336x192 | 21:9  | 384x160 |
/// | 4:3   | 288x224 | 2:3   | 208x320 | 3:2   | 320x208 |
///
/// These sizes are multiples of 16, so a model whose patch size divides 16 (1, 2, 4, 8, 16)
/// uses them unchanged. For any other patch size `p`, each side is rounded to the nearest
/// multiple of `p` (at least `p`); a v2 model makes them twice as large on each side, in
/// multiples of 32; see ``size(patchSize:scale:)``.
public enum AspectRatio: String, Codable, Sendable, CaseIterable {
    case square = "1:1"
    case portrait3x4 = "3:4"
    case landscape4x3 = "4:3"
    case portrait9x16 = "9:16"
    case landscape16x9 = "16:9"
    case portrait9x21 = "9:21"
    case landscape21x9 = "21:9"
    case portrait2x3 = "2:3"
    case landscape3x2 = "3:2"

    /// Parses `"16:9"` (surrounding spaces ignored; `"16x9"` and `"16/9"` accepted too).
    public init?(parsing text: String) {
        let normalized = text.trimmingCharacters(in: .whitespaces)
            .replacingOccurrences(of: "x", with: ":").replacingOccurrences(of: "/", with: ":")
        self.init(rawValue: normalized)
    }

    /// The size for the default model (patch 16), from the table above.
    public var defaultSize: ImageSize {
        switch self {
        case .square: ImageSize(width: 256, height: 256)
        case .portrait3x4: ImageSize(width: 224, height: 288)
        case .landscape4x3: ImageSize(width: 288, height: 224)
        case .portrait9x16: ImageSize(width: 192, height: 336)
        case .landscape16x9: ImageSize(width: 336, height: 192)
        case .portrait9x21: ImageSize(width: 160, height: 384)
        case .landscape21x9: ImageSize(width: 384, height: 160)
        case .portrait2x3: ImageSize(width: 208, height: 320)
        case .landscape3x2: ImageSize(width: 320, height: 208)
        }
    }

    /// The pixel size for a model with patch size `patchSize` (in pixels) that makes images
    /// `scale` times ``defaultSize`` on each side (v1: 1, about 256²; v2: 2, about 512²): each
    /// side as it is when the patch size divides it, else rounded to the nearest multiple of
    /// the patch size (halves round up), at least one patch.
    public func size(patchSize: Int, scale: Int = 1) -> ImageSize {
        precondition(patchSize >= 1, "AspectRatio.size: patch size must be at least 1, got \(patchSize)")
        precondition(scale >= 1, "AspectRatio.size: scale must be at least 1, got \(scale)")
        let base = ImageSize(width: scale * defaultSize.width, height: scale * defaultSize.height)
        func fit(_ side: Int) -> Int { max(patchSize, (side + patchSize / 2) / patchSize * patchSize) }
        return ImageSize(width: fit(base.width), height: fit(base.height))
    }
}
