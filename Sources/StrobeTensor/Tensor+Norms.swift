extension Ops {
    /// Softmax over the last axis, numerically stable (the row maximum is subtracted first).
    ///
    /// A row whose entries are all `-inf` (fully masked) gives zeros rather than NaN.
    public static func softmax(_ x: Tensor) -> Tensor {
        var out = x
        softmaxInPlace(&out)
        return out
    }

    /// Softmax over the last axis, in place.
    public static func softmaxInPlace(_ x: inout Tensor) {
        precondition(x.rank >= 1, "softmax: needs at least one axis, got shape \(x.shape)")
        let cols = x.shape[x.rank - 1]
        guard cols > 0, x.count > 0 else { return }
        let rows = x.count / cols
        x.storage.withUnsafeMutableBufferPointer { buffer in
            Kernels.softmaxRows(buffer.baseAddress!, rows: rows, cols: cols)
        }
    }

    /// Layer normalisation over the last axis: `(x − mean) / sqrt(var + eps) · weight + bias`,
    /// with the biased variance (as `torch.nn.LayerNorm`).
    ///
    /// - Parameters:
    ///   - x: `[..., D]`.
    ///   - weight: `[D]` or nil (no scaling).
    ///   - bias: `[D]` or nil (no shift).
    public static func layerNorm(
        _ x: Tensor, weight: Tensor? = nil, bias: Tensor? = nil, eps: Float = 1e-5
    ) -> Tensor {
        let cols = lastAxis(x, weight, bias, "layerNorm")
        return normalizeRows(x, cols: cols, weight: weight, bias: bias) { row, n in
            let mean = FastMath.sum(row, count: n, FastMath.Identity()) / Float(n)
            let m = FastMath.V(repeating: mean)
            let squares = centeredSquares(row, count: n, mean: m)
            let inv = 1 / (squares / Float(n) + eps).squareRoot()
            return (mean, inv)
        }
    }

    /// RMS normalisation over the last axis, T5 style: `x / sqrt(mean(x²) + eps) · weight`.
    ///
    /// - Parameters:
    ///   - x: `[..., D]`.
    ///   - weight: `[D]` or nil (no scaling).
    public static func rmsNorm(_ x: Tensor, weight: Tensor? = nil, eps: Float = 1e-6) -> Tensor {
        rmsNorm(x, weight: weight, scale: nil, shift: nil, eps: eps)
    }

    /// RMS normalisation fused with an adaLN modulation, in one pass per row:
    /// `x / sqrt(mean(x²) + eps) · weight · (1 + scale) + shift`.
    ///
    /// - Parameters:
    ///   - x: `[..., D]`.
    ///   - weight, scale, shift: `[D]` each, or nil (then 1, 0 and 0).
    public static func rmsNorm(
        _ x: Tensor, weight: Tensor?, scale: Tensor?, shift: Tensor?, eps: Float
    ) -> Tensor {
        let cols = lastAxis(x, weight, nil, "rmsNorm")
        for (name, v) in [("scale", scale), ("shift", shift)] {
            if let v { precondition(v.shape == [cols], "rmsNorm: \(name) \(v.shape) should be [\(cols)]") }
        }
        guard cols > 0, x.count > 0 else { return x }
        var out = x
        let rows = x.count / cols
        let empty: [Float] = []
        out.storage.withUnsafeMutableBufferPointer { po in
            (weight?.storage ?? empty).withUnsafeBufferPointer { pw in
                (scale?.storage ?? empty).withUnsafeBufferPointer { ps in
                    (shift?.storage ?? empty).withUnsafeBufferPointer { pb in
                        Kernels.rmsModulate(
                            po.baseAddress!, xStride: cols, into: po.baseAddress!, outStride: cols, rows: rows,
                            cols: cols, weight: weight == nil ? nil : pw.baseAddress,
                            scale: scale == nil ? nil : ps.baseAddress, shift: shift == nil ? nil : pb.baseAddress,
                            eps: eps)
                    }
                }
            }
        }
        return out
    }

    private static func lastAxis(_ x: Tensor, _ weight: Tensor?, _ bias: Tensor?, _ name: String) -> Int {
        precondition(x.rank >= 1, "\(name): needs at least one axis, got shape \(x.shape)")
        let cols = x.shape[x.rank - 1]
        if let weight {
            precondition(weight.shape == [cols], "\(name): weight \(weight.shape) should be [\(cols)] for input \(x.shape)")
        }
        if let bias {
            precondition(bias.shape == [cols], "\(name): bias \(bias.shape) should be [\(cols)] for input \(x.shape)")
        }
        return cols
    }

    @inline(__always)
    private static func centeredSquares(
        _ row: UnsafePointer<Float>, count: Int, mean: FastMath.V
    ) -> Float {
        var acc = FastMath.V()
        var i = 0
        while i + 8 <= count {
            let d = UnsafeRawPointer(row + i).loadUnaligned(as: FastMath.V.self) - mean
            acc += d * d
            i += 8
        }
        var tail: Float = 0
        while i < count {
            let d = row[i] - mean[0]
            tail += d * d
            i += 1
        }
        return acc.sum() + tail
    }

    /// `(x − shift) · scale · weight + bias` per row, with (shift, scale) from `stats`.
    private static func normalizeRows(
        _ x: Tensor, cols: Int, weight: Tensor?, bias: Tensor?,
        stats: (UnsafePointer<Float>, Int) -> (Float, Float)
    ) -> Tensor {
        guard cols > 0, x.count > 0 else { return x }
        let rows = x.count / cols
        let w = weight?.storage ?? [Float](repeating: 1, count: cols)
        let b = bias?.storage ?? [Float](repeating: 0, count: cols)
        let out = x.storage.withUnsafeBufferPointer { px in
            w.withUnsafeBufferPointer { pw in
                b.withUnsafeBufferPointer { pb in
                    [Float](unsafeUninitializedCapacity: x.count) { po, initialized in
                        let src = px.baseAddress!, dst = SharedPointer(po.baseAddress!)
                        let wp = pw.baseAddress!, bp = pb.baseAddress!
                        Parallel.forEachChunk(count: rows, workPerItem: 6 * cols) { range in
                            for r in range {
                                let row = src + r * cols, o = dst.base + r * cols
                                let (shift, scale) = stats(row, cols)
                                for j in 0..<cols {
                                    o[j] = (row[j] - shift) * scale * wp[j] + bp[j]
                                }
                            }
                        }
                        initialized = x.count
                    }
                }
            }
        }
        return Tensor(shape: x.shape, storage: out)
    }
}
