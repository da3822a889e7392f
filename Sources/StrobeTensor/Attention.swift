import StrobeBLAS
import StrobeKernels

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
        attention(
            q: q, k: k, v: v, heads: heads, scale: scale, bias: bias, keyMask: keyMask,
            scoreBudget: AttentionLayout.defaultScoreBudget)
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
        let qWidth = heads * p.headDim, vWidth = heads * p.valueDim
        var out = [Float](repeating: 0, count: p.batch * p.lq * vWidth)
        guard p.lq > 0, p.lk > 0 else { return Tensor(shape: p.outShape, storage: out) }
        let layout = AttentionLayout(
            batch: p.batch, lq: p.lq, lk: p.lk, heads: heads, headDim: p.headDim, valueDim: p.valueDim,
            qStride: qWidth, kStride: qWidth, vStride: vWidth, outStride: vWidth, scale: alpha,
            biasPerBatch: bias.map { $0.rank == 4 } ?? false, maskPerBatch: keyMask.map { $0.count != p.lk } ?? false)
        var scores = [Float](repeating: 0, count: layout.scoreCount(budget: scoreBudget))
        let emptyBias: [Float] = [], emptyMask: [Bool] = []
        q.storage.withUnsafeBufferPointer { pq in
        k.storage.withUnsafeBufferPointer { pk in
        v.storage.withUnsafeBufferPointer { pv in
        (bias?.storage ?? emptyBias).withUnsafeBufferPointer { pb in
        (keyMask ?? emptyMask).withUnsafeBufferPointer { pm in
        out.withUnsafeMutableBufferPointer { po in
        scores.withUnsafeMutableBufferPointer { ps in
            // (An empty array may still have a base address: test the optionals, not the pointers.)
            layout.run(
                q: pq.baseAddress!, k: pk.baseAddress!, v: pv.baseAddress!, out: po.baseAddress!,
                bias: bias == nil ? nil : pb.baseAddress, keyMask: keyMask == nil ? nil : pm.baseAddress,
                scores: ps.baseAddress!, scoreCount: ps.count)
        }}}}}}}
        return Tensor(shape: p.outShape, storage: out)
    }
}

/// One attention computation over raw buffers whose rows may be strided (q, k and v can be
/// column ranges of one fused `[L, 3·D]` projection).
///
/// Per batch entry and head: `out_h = softmax(scale · Q_h K_hᵀ + bias_h + mask) · V_h`. Heads are
/// processed in groups whose scores fit the scratch buffer; each head's products are
/// single-threaded sgemm calls spread over the threads, and the softmax rows of a whole group run
/// in one parallel pass, so results never depend on the thread count.
public struct AttentionLayout: Sendable {
    /// Batch entries `B`, query and key lengths `Lq`, `Lk`.
    public let batch: Int, lq: Int, lk: Int
    /// Heads `H`, query/key head size `Dh`, value head size `Dv`.
    public let heads: Int, headDim: Int, valueDim: Int
    /// Row strides (in floats) of q, k, v and out; a batch entry spans `L` rows.
    public let qStride: Int, kStride: Int, vStride: Int, outStride: Int
    /// Multiplies `QKᵀ`.
    public let scale: Float
    /// Whether the bias is `[B, H, Lq, Lk]` (else `[H, Lq, Lk]`), the key mask `[B·Lk]` (else `[Lk]`).
    public let biasPerBatch: Bool, maskPerBatch: Bool
    /// The number format of the two products (default fp32). With bf16 each head's keys and
    /// values are packed to bf16 per call and the products accumulate in fp32; the softmax
    /// stays fp32.
    public var precision: Precision = .fp32

    /// A layout; strides must be at least the rows' widths (`H·Dh` for q and k, `H·Dv` for v, out).
    public init(
        batch: Int, lq: Int, lk: Int, heads: Int, headDim: Int, valueDim: Int, qStride: Int, kStride: Int,
        vStride: Int, outStride: Int, scale: Float, biasPerBatch: Bool = false, maskPerBatch: Bool = false
    ) {
        precondition(
            qStride >= heads * headDim && kStride >= heads * headDim && vStride >= heads * valueDim
                && outStride >= heads * valueDim,
            "AttentionLayout: strides q \(qStride), k \(kStride), v \(vStride), out \(outStride) narrower than \(heads) heads")
        self.batch = batch; self.lq = lq; self.lk = lk
        self.heads = heads; self.headDim = headDim; self.valueDim = valueDim
        self.qStride = qStride; self.kStride = kStride; self.vStride = vStride; self.outStride = outStride
        self.scale = scale
        self.biasPerBatch = biasPerBatch; self.maskPerBatch = maskPerBatch
    }

    /// The most scores (floats) attention holds at once by default: 16 MiB, but always at least
    /// one head's. The engine's memory estimate counts with it.
    public static let defaultScoreBudget = 4 << 20

    /// Heads per group when at most `budget` scores may be held at once (always at least one head).
    public func headsPerGroup(budget: Int) -> Int { max(1, min(heads, budget / max(1, lq * lk))) }

    /// The scratch size (floats) ``run(q:k:v:out:bias:keyMask:scores:scoreCount:)`` needs.
    public func scoreCount(budget: Int) -> Int { headsPerGroup(budget: budget) * lq * lk }

    /// Computes the attention into `out`; `scores` is scratch of `scoreCount` floats (at least
    /// one head's `Lq·Lk`), which sets how many heads are processed at once.
    public func run(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
        bias: UnsafePointer<Float>?, keyMask: UnsafePointer<Bool>?, scores: UnsafeMutablePointer<Float>, scoreCount: Int
    ) {
        guard lq > 0, lk > 0 else { return }
        precondition(scoreCount >= lq * lk, "AttentionLayout: scratch of \(scoreCount) floats, need \(lq * lk)")
        precondition(precision != .bf16 || Precision.bf16.isSupported, "AttentionLayout: bf16 needs AVX512_BF16")
        let group = headsPerGroup(budget: scoreCount)
        // bf16: each head of a group packs its keys, then its values, into its own slice of one
        // buffer made once per call.
        let packedPerHead = precision == .bf16
            ? max(strobe_bf16_packed_count(headDim, lk), strobe_bf16_packed_count(lk, valueDim)) : 0
        var packScratch = [UInt16](repeating: 0, count: group * packedPerHead)
        packScratch.withUnsafeMutableBufferPointer { scratch in
            run(q: q, k: k, v: v, out: out, bias: bias, keyMask: keyMask, scores: scores, group: group,
                packed: packedPerHead == 0 ? nil : SharedPointer(scratch.baseAddress!), packedPerHead: packedPerHead)
        }
    }

    /// ``run(q:k:v:out:bias:keyMask:scores:scoreCount:)`` for groups of `group` heads, bf16
    /// packing into `packed` (`packedPerHead` elements per head of a group) when given.
    private func run(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
        bias: UnsafePointer<Float>?, keyMask: UnsafePointer<Bool>?, scores: UnsafeMutablePointer<Float>, group: Int,
        packed: SharedPointer<UInt16>?, packedPerHead: Int
    ) {
        let (s, o) = (SharedPointer(scores), SharedPointer(out))
        let (pq, pk, pv) = (UncheckedSendable(q), UncheckedSendable(k), UncheckedSendable(v))
        for b in 0..<batch {
            let mask = keyMask.map { $0 + (maskPerBatch ? b * lk : 0) }
            let biasBatch = bias.map { $0 + (biasPerBatch ? b * heads : 0) * lq * lk }
            for first in stride(from: 0, to: heads, by: group) {
                let count = min(group, heads - first)
                Parallel.forEachChunk(count: count, workPerItem: 2 * lq * lk * headDim) { heads in
                    for g in heads {
                        // scores[g] [Lq, Lk] = scale · Q_h K_hᵀ (row strides pick the head's columns)
                        let h = first + g
                        if let packed {
                            bf16Product(
                                m: lq, n: lk, k: headDim, alpha: scale, a: pq.value + b * lq * qStride + h * headDim,
                                lda: qStride, b: pk.value + b * lk * kStride + h * headDim, ldb: kStride, transposeB: true,
                                c: s.base + g * lq * lk, ldc: lk, packed: packed.base + g * packedPerHead)
                            continue
                        }
                        strobe_sgemm(
                            0, 1, Int32(lq), Int32(lk), Int32(headDim), scale,
                            pq.value + b * lq * qStride + h * headDim, Int32(qStride),
                            pk.value + b * lk * kStride + h * headDim, Int32(kStride),
                            0, s.base + g * lq * lk, Int32(lk))
                    }
                }
                if biasBatch != nil || mask != nil {
                    let extras = UncheckedSendable((biasBatch.map { $0 + first * lq * lk }, mask))
                    Parallel.forEachChunk(count: count * lq, workPerItem: 2 * lk) { range in
                        let (biasGroup, mask) = extras.value
                        for i in range {
                            let row = s.base + i * lk
                            if let biasGroup {
                                let br = biasGroup + i * lk
                                for j in 0..<lk { row[j] += br[j] }
                            }
                            if let mask {
                                for j in 0..<lk where !mask[j] { row[j] = -.infinity }
                            }
                        }
                    }
                }
                Kernels.softmaxRows(scores, rows: count * lq, cols: lk)
                Parallel.forEachChunk(count: count, workPerItem: 2 * lq * lk * valueDim) { heads in
                    for g in heads {
                        // out_h [Lq, Dv] = P · V_h, written into the head's columns of out
                        let h = first + g
                        if let packed {
                            bf16Product(
                                m: lq, n: valueDim, k: lk, alpha: 1, a: s.base + g * lq * lk, lda: lk,
                                b: pv.value + b * lk * vStride + h * valueDim, ldb: vStride, transposeB: false,
                                c: o.base + b * lq * outStride + h * valueDim, ldc: outStride,
                                packed: packed.base + g * packedPerHead)
                            continue
                        }
                        strobe_sgemm(
                            0, 0, Int32(lq), Int32(valueDim), Int32(lk), 1,
                            s.base + g * lq * lk, Int32(lk),
                            pv.value + b * lk * vStride + h * valueDim, Int32(vStride),
                            0, o.base + b * lq * outStride + h * valueDim, Int32(outStride))
                    }
                }
            }
        }
    }
}

/// `C [m, n] = alpha · bf16(A) · bf16(B)`, B packed into `packed` (at least
/// `strobe_bf16_packed_count(k, n)` elements): `B [k, n]` at row stride `ldb`, or with
/// `transposeB` stored as `[n, k]`.
private func bf16Product(
    m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    transposeB: Bool, c: UnsafeMutablePointer<Float>, ldc: Int, packed: UnsafeMutablePointer<UInt16>
) {
    strobe_bf16_pack(b, ldb, transposeB ? 1 : 0, k, n, packed)
    strobe_bf16_gemm(m, n, k, alpha, a, lda, packed, 0, c, ldc)
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
