import Foundation
import ImageInputShim

// Geometry of RGB images for editing: EXIF orientation, resampling (stb_image_resize), crops
// and placement on a larger canvas.

extension RGBImage {
    /// The image turned upright from EXIF orientation `exif` (1–8; other values: unchanged).
    public func oriented(exif: Int) -> RGBImage {
        guard (2...8).contains(exif) else { return self }
        let transposed = exif >= 5
        let (w, h) = transposed ? (height, width) : (width, height)
        var out = [Float](repeating: 0, count: pixels.count)
        for y in 0..<h {
            for x in 0..<w {
                // The stored pixel (sx, sy) shown at (x, y).
                let (sx, sy): (Int, Int)
                switch exif {
                case 2: (sx, sy) = (width - 1 - x, y)
                case 3: (sx, sy) = (width - 1 - x, height - 1 - y)
                case 4: (sx, sy) = (x, height - 1 - y)
                case 5: (sx, sy) = (y, x)
                case 6: (sx, sy) = (y, height - 1 - x)
                case 7: (sx, sy) = (width - 1 - y, height - 1 - x)
                default: (sx, sy) = (width - 1 - y, x)  // 8
                }
                for c in 0..<3 { out[(c * h + y) * w + x] = self[c, sy, sx] }
            }
        }
        return try! RGBImage(width: w, height: h, pixels: out)
    }

    /// The image resampled to `size` with stb_image_resize's default filters (Catmull-Rom up,
    /// Mitchell down), edges clamped; values may overshoot [0, 1] slightly, as filters do.
    public func resized(to size: ImageSize) -> RGBImage {
        if size.width == width && size.height == height { return self }
        let planes = Self.resample(planes: pixels, channels: 3, from: (width, height), to: (size.width, size.height))
        return try! RGBImage(width: size.width, height: size.height, pixels: planes)
    }

    /// `channels` planes of `from` pixels resampled to `to`.
    static func resample(planes: [Float], channels: Int, from: (Int, Int), to: (Int, Int)) -> [Float] {
        let (inPlane, outPlane) = (from.0 * from.1, to.0 * to.1)
        var interleaved = [Float](repeating: 0, count: planes.count)
        for i in 0..<inPlane { for c in 0..<channels { interleaved[i * channels + c] = planes[c * inPlane + i] } }
        var resized = [Float](repeating: 0, count: outPlane * channels)
        let status = interleaved.withUnsafeBufferPointer { src in
            resized.withUnsafeMutableBufferPointer { dst in
                strobe_resize(src.baseAddress, Int32(from.0), Int32(from.1), dst.baseAddress, Int32(to.0), Int32(to.1),
                              Int32(channels))
            }
        }
        precondition(status == 0, "resize from \(from) to \(to) failed")
        var out = [Float](repeating: 0, count: outPlane * channels)
        for i in 0..<outPlane { for c in 0..<channels { out[c * outPlane + i] = resized[i * channels + c] } }
        return out
    }

    /// The `size` region whose top-left corner is at (`x`, `y`).
    public func cropped(x: Int, y: Int, size: ImageSize) -> RGBImage {
        precondition(x >= 0 && y >= 0 && x + size.width <= width && y + size.height <= height,
                     "crop \(size) at (\(x), \(y)) outside \(width)x\(height)")
        var out = [Float](repeating: 0, count: 3 * size.width * size.height)
        for c in 0..<3 {
            for row in 0..<size.height {
                for col in 0..<size.width {
                    out[(c * size.height + row) * size.width + col] = self[c, y + row, x + col]
                }
            }
        }
        return try! RGBImage(width: size.width, height: size.height, pixels: out)
    }

    /// Scaled to cover `size` (the smallest scale at which both sides reach it), then cropped to
    /// it around the centre: the whole of `size` is image, and the least of the image is cut.
    public func fitted(to size: ImageSize) -> RGBImage {
        if size.width == width && size.height == height { return self }
        let scale = max(Double(size.width) / Double(width), Double(size.height) / Double(height))
        let covered = ImageSize(width: max(size.width, Int((Double(width) * scale).rounded())),
                                height: max(size.height, Int((Double(height) * scale).rounded())))
        let scaled = resized(to: covered)
        return scaled.cropped(x: (covered.width - size.width) / 2, y: (covered.height - size.height) / 2, size: size)
    }
}

extension AspectRatio {
    /// The ratio closest to `width : height` (by the logarithm of the ratio).
    public static func nearest(width: Int, height: Int) -> AspectRatio {
        let target = log(Double(width) / Double(height))
        return allCases.min { a, b in
            abs(log(a.ratio) - target) < abs(log(b.ratio) - target)
        }!
    }

    /// Width over height, from the name (`16:9` → 1.78).
    public var ratio: Double {
        let parts = rawValue.split(separator: ":").compactMap { Double($0) }
        return parts[0] / parts[1]
    }
}
