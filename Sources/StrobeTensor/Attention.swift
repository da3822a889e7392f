import StrobeBLAS

extension Ops {
    /// Multi-head scaled-dot-product attention.
    ///
    /// Per batch entry `b` and head `h` (features `h·Dh ..< (h+1)·Dh` of each token):
    /// `out_h = softmax(scale · Q_h K_hᵀ + bias_h + mask) · V_h`.
    ///
    /// - Parameters:
    ///   - q: `[Lq, H·Dh]` or `[B, Lq, H·Dh]`.
    ///   - k: `[Lk, H·Dh]` or `[B, Lk, H·Dh]`.
    ///   - v: `[Lk, H·Dv]` or `[B, Lk, H·Dv]`.
    ///   - heads: `H`.
    ///   - scale: multiplies `QKᵀ`; nil means `1/√Dh`. T5 uses 1.
    ///   - bias: additive, `[H, Lq, Lk]` (shared by the batch) or `[B, H, Lq, Lk]`; `-inf` masks.
    ///   - keyMask: `[Lk]` (shared) or `[B·Lk]`; `false` masks that key out.
    /// - Returns: `[Lq, H·Dv]` or `[B, Lq, H·Dv]`. A query whose keys are all masked gets zeros.
    public static func attention(
        q: Tensor, k: Tensor, v: Tensor, heads: Int, scale: Float? = nil,
        bias: Tensor? = nil, keyMask: [Bool]? = nil
    ) -> Tensor {
        attention(q: q, k: k, v: v, heads: heads, scale: scale, bias: bias, keyMask: keyMask, scoreBudget: 4 << 20)
    }

    /// `attention` holding at most `scoreBudget` scores (floats) at once, but always one head's.
    static func attention(
        q: Tensor, k: Tensor, v: Tensor, heads: Int, scale: Float?, bias: Tensor?, keyMask: [Bool]?,
        scoreBudget: Int
    ) -> Tensor {
        let p = AttentionShape(q: q.shape, k: k.shape, v: v.shape, heads: heads)
        let alpha = scale ?? 1 / Float(p.headDim).squareRoot()
        if let bias {
            precondition(
                bias.shape == [heads, p.lq, p.lk] || bias.shape == [p.batch, heads, p.lq, p.lk],
                "attention: bias \(bias.shape) should be [\(heads), \(p.lq), \(p.lk)] or [\(p.batch), \(heads), \(p.lq), \(p.lk)]")
        }
        if let keyMask {
            precondition(
                keyMask.count == p.lk || keyMask.count == p.batch * p.lk,
                "attention: key mask of \(keyMask.count) entries, expected \(p.lk) or \(p.batch * p.lk)")
        }
        let biasPerBatch = bias.map { $0.rank == 4 } ?? false
        let maskPerBatch = keyMask.map { $0.count != p.lk } ?? false
        let qWidth = heads * p.headDim, vWidth = heads * p.valueDim
        var out = [Float](repeating: 0, count: p.batch * p.lq * vWidth)
        guard p.lq > 0, p.lk > 0 else { return Tensor(shape: p.outShape, storage: out) }
        // Heads are processed in groups whose scores fit the budget (16 MiB by default), so
        // that one parallel softmax pass covers a whole group.
        let group = max(1, min(heads, scoreBudget / (p.lq * p.lk)))
        var scores = [Float](repeating: 0, count: group * p.lq * p.lk)
        let emptyBias: [Float] = [], emptyMask: [Bool] = []
        q.storage.withUnsafeBufferPointer { pq in
        k.storage.withUnsafeBufferPointer { pk in
        v.storage.withUnsafeBufferPointer { pv in
        (bias?.storage ?? emptyBias).withUnsafeBufferPointer { pb in
        (keyMask ?? emptyMask).withUnsafeBufferPointer { pm in
        out.withUnsafeMutableBufferPointer { po in
        scores.withUnsafeMutableBufferPointer { ps in
            let s = SharedPointer(ps.baseAddress!)
            for b in 0..<p.batch {
                // (An empty array may still have a base address: test the optionals, not the pointers.)
                let mask = keyMask == nil ? nil : pm.baseAddress! + (maskPerBatch ? b * p.lk : 0)
                let biasBatch = bias == nil ? nil : pb.baseAddress! + (biasPerBatch ? b * heads : 0) * p.lq * p.lk
                for first in stride(from: 0, to: heads, by: group) {
                    let count = min(group, heads - first)
                    // One single-threaded sgemm per head, heads spread over the threads: the
                    // same calls whatever the thread count (see Gemm).
                    Parallel.forEachChunk(count: count, workPerItem: 2 * p.lq * p.lk * p.headDim) { heads in
                        for g in heads {
                            // scores[g] [Lq, Lk] = alpha · Q_h K_hᵀ (row strides H·Dh pick the head's columns)
                            let h = first + g
                            strobe_sgemm(
                                0, 1, Int32(p.lq), Int32(p.lk), Int32(p.headDim), alpha,
                                pq.baseAddress! + b * p.lq * qWidth + h * p.headDim, Int32(qWidth),
                                pk.baseAddress! + b * p.lk * qWidth + h * p.headDim, Int32(qWidth),
                                0, s.base + g * p.lq * p.lk, Int32(p.lk))
                        }
                    }
                    // + bias, masked keys to -inf, softmax: rows of all heads in the group at once
                    let biasGroup = biasBatch.map { $0 + first * p.lq * p.lk }
                    Parallel.forEachChunk(count: count * p.lq, workPerItem: 12 * p.lk) { range in
                        for i in range {
                            let row = s.base + i * p.lk
                            if let biasGroup {
                                let br = biasGroup + i * p.lk
                                for j in 0..<p.lk { row[j] += br[j] }
                            }
                            if let mask {
                                for j in 0..<p.lk where !mask[j] { row[j] = -.infinity }
                            }
                            softmaxRow(row, count: p.lk)
                        }
                    }
                    let o = SharedPointer(po.baseAddress!)
                    Parallel.forEachChunk(count: count, workPerItem: 2 * p.lq * p.lk * p.valueDim) { heads in
                        for g in heads {
                            // out_h [Lq, Dv] = P · V_h, written into the head's columns of out
                            let h = first + g
                            strobe_sgemm(
                                0, 0, Int32(p.lq), Int32(p.valueDim), Int32(p.lk), 1,
                                s.base + g * p.lq * p.lk, Int32(p.lk),
                                pv.baseAddress! + b * p.lk * vWidth + h * p.valueDim, Int32(vWidth),
                                0, o.base + b * p.lq * vWidth + h * p.valueDim, Int32(vWidth))
                        }
                    }
                }
            }
        }}}}}}}
        return Tensor(shape: p.outShape, storage: out)
    }
}

/// Sizes of one attention call, checked.
struct AttentionShape {
    let batch: Int, lq: Int, lk: Int, headDim: Int, valueDim: Int
    let outShape: [Int]

    init(q: [Int], k: [Int], v: [Int], heads: Int) {
        precondition(
            (q.count == 2 || q.count == 3) && k.count == q.count && v.count == q.count,
            "attention: q \(q), k \(k), v \(v) must all be [L, H*Dh] or all [B, L, H*Dh]")
        precondition(heads > 0, "attention: heads must be positive, got \(heads)")
        precondition(q.last! > 0 && v.last! > 0, "attention: empty heads in q \(q), v \(v)")
        let batched = q.count == 3
        batch = batched ? q[0] : 1
        precondition(
            !batched || (k[0] == batch && v[0] == batch),
            "attention: batch sizes differ: q \(q), k \(k), v \(v)")
        lq = q[q.count - 2]
        lk = k[k.count - 2]
        precondition(v[v.count - 2] == lk, "attention: k \(k) and v \(v) have different lengths")
        let qw = q[q.count - 1], kw = k[k.count - 1], vw = v[v.count - 1]
        precondition(
            qw == kw && qw % heads == 0 && vw % heads == 0,
            "attention: widths q \(qw), k \(kw), v \(vw) do not split into \(heads) equal heads")
        headDim = qw / heads
        valueDim = vw / heads
        outShape = (batched ? [batch] : []) + [lq, heads * valueDim]
    }
}
