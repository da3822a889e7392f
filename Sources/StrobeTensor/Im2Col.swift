/// Packs a convolution's input patches into a matrix for sgemm (im2col), one band of output
/// rows at a time.
///
/// For output rows `rows` of one image, writes `col[K, n]` (row-major, `K = Ci·k·k`,
/// `n = rows.count·Wo`) with
///
///     col[(ci·k + ky)·k + kx, (oy − rows.lowerBound)·Wo + ox] = x[ci, oy·s − p + ky, ox·s − p + kx]
///
/// and zero where that input position falls in the padding. The row order of `col` matches the
/// weight's `[Co, Ci, k, k]` layout, so `weight` seen as `[Co, K]` multiplies it directly.
enum Im2Col {
    /// - Parameters:
    ///   - g: the convolution's geometry.
    ///   - image: one input image `[Ci, H, W]`.
    ///   - rows: the output rows to pack, within `0..<Ho`.
    ///   - col: room for `K · rows.count · Wo` floats.
    static func pack(
        _ g: Conv2DShape, image: UnsafePointer<Float>, rows: Range<Int>, into col: UnsafeMutablePointer<Float>
    ) {
        let (k, s, p, wo) = (g.kernel, g.stride, g.padding, g.outWidth)
        let n = rows.count * wo
        for ci in 0..<g.inChannels {
            let plane = image + ci * g.height * g.width  // [H, W]
            for ky in 0..<k {
                for kx in 0..<k {
                    let row = col + ((ci * k + ky) * k + kx) * n  // [rows, Wo]
                    // Output columns whose input column ox·s − p + kx lies inside 0..<W.
                    let first = p - kx > 0 ? (p - kx + s - 1) / s : 0
                    let last = g.width - 1 + p - kx < 0 ? -1 : (g.width - 1 + p - kx) / s
                    let lo = min(first, wo), hi = max(lo, min(wo, last + 1))
                    for oy in rows {
                        let dst = row + (oy - rows.lowerBound) * wo  // [Wo]
                        let iy = oy * s - p + ky
                        guard iy >= 0 && iy < g.height, hi > lo else {
                            dst.update(repeating: 0, count: wo)
                            continue
                        }
                        dst.update(repeating: 0, count: lo)
                        (dst + hi).update(repeating: 0, count: wo - hi)
                        let from = plane + iy * g.width + lo * s - p + kx
                        if s == 1 {
                            (dst + lo).update(from: from, count: hi - lo)
                        } else {
                            for j in 0..<(hi - lo) { dst[lo + j] = from[j * s] }
                        }
                    }
                }
            }
        }
    }
}
