// Nearest-neighbour upsampling of images by an integer factor.
//
// Shape legend:  B batch   C channels   H, W input side   f factor
//
// out[b, c, y, x] = in[b, c, y / f, x / f] (integer division), which is
// `torch.nn.functional.interpolate(x, scale_factor=f, mode="nearest")` for f = 2 (torch's
// index for an exact 2× is `y >> 1`). A pure copy: the result is exact at any thread count.

extension Ops {
    /// Nearest-neighbour upsampling of the last two axes by an integer factor, as
    /// `torch.nn.functional.interpolate(x, scale_factor=2.0, mode="nearest")` for the default
    /// factor 2. `Naive.upsampleNearest` is the twin.
    ///
    /// - Parameters:
    ///   - x: `[..., H, W]` (NCHW: `[B, C, H, W]`), at least two axes.
    ///   - factor: pixels per input pixel along each side (≥ 1).
    /// - Returns: `[..., f·H, f·W]`.
    public static func upsampleNearest(_ x: Tensor, factor f: Int = 2) -> Tensor {
        precondition(x.rank >= 2, "upsampleNearest: input must be [..., H, W], got \(x.shape)")
        precondition(f >= 1, "upsampleNearest: factor must be at least 1, got \(f)")
        let h = x.shape[x.rank - 2], w = x.shape[x.rank - 1]
        let shape = Array(x.shape.dropLast(2)) + [h * f, w * f]
        let total = shape.reduce(1, *)
        guard total > 0 else { return Tensor(shape: shape) }
        let rows = x.count / w  // input rows over all leading axes and H: [B·C·H, W]
        let out = x.storage.withUnsafeBufferPointer { px in
            [Float](unsafeUninitializedCapacity: total) { po, initialized in
                let src = UncheckedSendable(px.baseAddress!), dst = SharedPointer(po.baseAddress!)
                Parallel.forEachChunk(count: rows, workPerItem: f * f * w) { range in
                    for r in range {
                        let from = src.value + r * w           // [W]
                        let to = dst.base + r * f * f * w      // f rows of [f·W]
                        if f == 2 {
                            for i in 0..<w { (to[2 * i], to[2 * i + 1]) = (from[i], from[i]) }
                        } else {
                            for i in 0..<w { (to + i * f).update(repeating: from[i], count: f) }
                        }
                        for copy in 1..<f { (to + copy * f * w).update(from: to, count: f * w) }
                    }
                }
                initialized = total
            }
        }
        return Tensor(shape: shape, storage: out)
    }
}
