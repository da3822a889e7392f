import StrobeKernels

// Bilinear 2× upsampling of images, half-pixel centres, edges repeated.
//
// Shape legend:  B batch   C channels   H, W input side   (2H, 2W output side)
//
// `torch.nn.functional.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)`,
// computed as torch's CPU kernel for contiguous NCHW float tensors does (`cpu_upsample_linear`
// in aten's UpSampleKernel.cpp), so that the results agree to the bit on the machines where
// torch's kernel is built with FMA (its AVX2 and AVX-512 builds):
//
//   along each axis, output index d of an input of n:
//     src = 0.5·(d + 0.5) − 0.5, clamped at 0          (scale = 1 / scale_factor = 0.5)
//     i0  = min(⌊src⌋, n − 1),   i1 = i0 + 1 if i0 < n − 1 else i0
//     λ1  = min(max(src − i0, 0), 1),   λ0 = 1 − λ1
//   out = h0·w0·x[i0, j0] + h0·w1·x[i0, j1] + h1·w0·x[i1, j0] + h1·w1·x[i1, j1]
//
// with each weight product (hᵃ·wᵇ) rounded first and the sum evaluated as the compiler contracts
// torch's expression: p = x[i0, j1]·(h0·w1), then p += x[i0, j0]·(h0·w0), then the two terms of
// row i1, each a fused multiply–add. For a factor of 2 every source coordinate and weight is exact
// (λ ∈ {0, ¼, ¾, 1}), so only that order of the additions matters. The rows' indices and weights
// come from the table below; each output row is one call of the C kernel `strobe_bilinear2x_row`
// (StrobeKernels/upsample.c: the columns, with real FMA instructions where the CPU has them —
// Swift's `addingProduct` is a call to libm's fmaf in a baseline x86-64 build, 20× slower).
// Rows of the output are spread over threads; each element's arithmetic is fixed, so the result
// is the same at any thread count.

/// Torch's source indices and weights along one axis for 2× upsampling with half-pixel centres.
struct BilinearAxis {
    /// Per output index: the two input indices and their weights `λ0`, `λ1`.
    let i0: [Int], i1: [Int], lambda0: [Float], lambda1: [Float]

    /// The table for an input axis of `n` elements (2n outputs).
    init(inputSize n: Int) {
        var (i0, i1, l0, l1) = ([Int](), [Int](), [Float](), [Float]())
        for d in 0..<(2 * n) {
            let src = max(Float(0.5) * (Float(d) + 0.5) - 0.5, 0)        // exact for a factor of 2
            let lo = min(Int(src.rounded(.down)), n - 1)
            let lambda = min(max(src - Float(lo), 0), 1)
            i0.append(lo)
            i1.append(lo < n - 1 ? lo + 1 : lo)
            l1.append(lambda)
            l0.append(1 - lambda)
        }
        (self.i0, self.i1, self.lambda0, self.lambda1) = (i0, i1, l0, l1)
    }
}

extension Ops {
    /// Bilinear 2× upsampling of the last two axes with half-pixel centres and repeated edges,
    /// as `torch.nn.functional.interpolate(x, scale_factor=2.0, mode="bilinear",
    /// align_corners=False)`: along each axis an output pixel is ¾ of its nearest input pixel
    /// and ¼ of the next one (the edge pixels repeat the edge).
    ///
    /// The arithmetic follows torch's CPU kernel as built for AVX2 and AVX-512 (weight products
    /// first, then fused multiply–adds in its order), so results match torch's there to the bit.
    /// The result does not depend on the thread count. `Naive.upsampleBilinear2x` is the twin.
    ///
    /// - Parameter x: `[..., H, W]` (NCHW: `[B, C, H, W]`), at least two axes.
    /// - Returns: `[..., 2H, 2W]`.
    public static func upsampleBilinear2x(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 2, "upsampleBilinear2x: input must be [..., H, W], got \(x.shape)")
        let h = x.shape[x.rank - 2], w = x.shape[x.rank - 1]
        let shape = Array(x.shape.dropLast(2)) + [2 * h, 2 * w]
        let total = shape.reduce(1, *)
        guard total > 0 else { return Tensor(shape: shape) }
        let rowsAxis = BilinearAxis(inputSize: h)
        let outRows = total / (2 * w)  // [B·C·2H, 2W]
        let out = x.storage.withUnsafeBufferPointer { px in
            [Float](unsafeUninitializedCapacity: total) { po, initialized in
                let src = UncheckedSendable(px.baseAddress!), dst = SharedPointer(po.baseAddress!)
                Parallel.forEachChunk(count: outRows, workPerItem: 8 * 2 * w) { range in
                    for r in range {
                        let plane = r / (2 * h), oy = r % (2 * h)
                        let top = src.value + (plane * h + rowsAxis.i0[oy]) * w     // [W]
                        let bottom = src.value + (plane * h + rowsAxis.i1[oy]) * w  // [W]
                        strobe_bilinear2x_row(top, bottom, rowsAxis.lambda0[oy], rowsAxis.lambda1[oy], w, dst.base + r * 2 * w)
                    }
                }
                initialized = total
            }
        }
        return Tensor(shape: shape, storage: out)
    }
}
