import Foundation

extension RGBImage {
    /// Peak signal-to-noise ratio against `other` (same size), in dB, over samples clamped to
    /// [0, 1] with peak 1: `10·log10(1 / MSE)`. `.infinity` for identical images.
    public func psnr(against other: RGBImage) -> Double {
        precondition(
            width == other.width && height == other.height,
            "psnr: sizes differ: \(width)x\(height) and \(other.width)x\(other.height)")
        var sum = 0.0
        for (a, b) in zip(pixels, other.pixels) {
            let d = Double(min(max(a, 0), 1)) - Double(min(max(b, 0), 1))
            sum += d * d
        }
        let mse = sum / Double(max(1, pixels.count))
        return mse == 0 ? .infinity : 10 * log10(1 / mse)
    }
}
