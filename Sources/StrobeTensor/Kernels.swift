import StrobeKernels

/// Fused element-wise kernels over raw buffers, split over `Parallel.currentThreads` threads by
/// rows. They back the `Ops` norms and activations and the denoiser's allocation-free path.
///
/// Each row is computed by the same sequence of operations whatever the chunking, so results
/// never depend on the thread count (see the StrobeKernels C target for the vector code).
public enum Kernels {
    /// The instruction set the kernels run with on this CPU ("avx512", "avx2" or "baseline").
    public static var instructionSet: String { String(cString: strobe_kernels_isa()) }

    /// Softmax of `rows` contiguous rows of `cols` floats, in place (an all `-inf` row → zeros).
    public static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        let base = SharedPointer(x)
        Parallel.forEachChunk(count: rows, workPerItem: 24 * cols) { range in
            strobe_softmax_rows(base.base + range.lowerBound * cols, range.count, cols)
        }
    }

    /// GELU (tanh form) of `count` floats, in place.
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let block = 4096, blocks = (count + block - 1) / block
        let base = SharedPointer(x)
        Parallel.forEachChunk(count: blocks, workPerItem: 24 * block) { range in
            let start = range.lowerBound * block, end = min(count, range.upperBound * block)
            strobe_gelu(base.base + start, end - start)
        }
    }

    /// `out = x · rsqrt(mean(x²) + eps) · weight · (1 + scale) + shift` per row of `cols` floats.
    ///
    /// - Parameters:
    ///   - x, xStride: `rows` input rows at that stride.
    ///   - out, outStride: the output rows (may be `x`'s).
    ///   - weight, scale, shift: `[cols]` each, or nil for 1, 0, 0.
    public static func rmsModulate(
        _ x: UnsafePointer<Float>, xStride: Int, into out: UnsafeMutablePointer<Float>, outStride: Int,
        rows: Int, cols: Int, weight: UnsafePointer<Float>? = nil, scale: UnsafePointer<Float>? = nil,
        shift: UnsafePointer<Float>? = nil, eps: Float
    ) {
        let (src, dst) = (UncheckedSendable(x), SharedPointer(out))
        let extras = UncheckedSendable((weight, scale, shift))
        Parallel.forEachChunk(count: rows, workPerItem: 6 * cols) { range in
            let (w, s, b) = extras.value
            strobe_rms_modulate(
                src.value + range.lowerBound * xStride, xStride, dst.base + range.lowerBound * outStride,
                outStride, range.count, cols, w, s, b, eps)
        }
    }

    /// Per-head RMSNorm with `weight [headDim]`, then the rotary embedding of `table` (if any),
    /// in place on `rows` rows of `heads · headDim` floats at row stride `stride`. Row `r` has
    /// position `r % table.length`.
    public static func headNormRotary(
        _ x: UnsafeMutablePointer<Float>, stride: Int, rows: Int, heads: Int, headDim: Int,
        weight: UnsafePointer<Float>, eps: Float, table: RotaryTable?
    ) {
        let (base, w) = (SharedPointer(x), UncheckedSendable(weight))
        let work = 10 * heads * headDim
        guard let table else {
            // Without rotation every head is an RMSNorm row of its own.
            Parallel.forEachChunk(count: rows, workPerItem: work) { range in
                for r in range {
                    let row = base.base + r * stride
                    strobe_rms_modulate(row, headDim, row, headDim, heads, headDim, w.value, nil, nil, eps)
                }
            }
            return
        }
        precondition(table.headDim == headDim, "headNormRotary: table for heads of \(table.headDim), not \(headDim)")
        table.cos.withUnsafeBufferPointer { pc in
            table.sin.withUnsafeBufferPointer { ps in
                let tables = UncheckedSendable((pc.baseAddress!, ps.baseAddress!))
                Parallel.forEachChunk(count: rows, workPerItem: work) { range in
                    strobe_head_rms_rope(
                        base.base + range.lowerBound * stride, stride, range.count, heads, headDim, w.value, eps,
                        tables.value.0, tables.value.1, table.length, range.lowerBound)
                }
            }
        }
    }

    /// `x[r] += gate · y[r]` for `rows` contiguous rows of `cols` floats; `gate [cols]` or nil
    /// for a plain sum.
    public static func gatedAdd(
        _ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, rows: Int, cols: Int,
        gate: UnsafePointer<Float>?
    ) {
        let (dst, src, g) = (SharedPointer(x), UncheckedSendable(y), UncheckedSendable(gate))
        Parallel.forEachChunk(count: rows, workPerItem: 3 * cols) { range in
            strobe_gated_add(
                dst.base + range.lowerBound * cols, src.value + range.lowerBound * cols, range.count, cols, g.value)
        }
    }
}
