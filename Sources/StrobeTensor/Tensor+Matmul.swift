extension Ops {
    /// Matrix product `op(a) · op(b)`, where `op` transposes the last two axes when asked.
    ///
    /// Shapes (with `transposeA`/`transposeB` false):
    /// - `a [M, K] · b [K, N] -> [M, N]`
    /// - batched: `a [..., M, K] · b [..., K, N] -> [..., M, N]` with equal leading dimensions;
    /// - broadcast of a 2-D operand: `a [..., M, K] · b [K, N]` or `a [M, K] · b [..., K, N]`.
    ///
    /// With `transposeA` the last two axes of `a` are `[K, M]`; with `transposeB`, `b`'s are `[N, K]`.
    ///
    /// With `precision` bf16 (2-D operands, `a` not transposed), `b` is packed to bf16 for this
    /// call and the product accumulates in fp32, as the attention products do in bf16.
    public static func matmul(
        _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false, precision: Precision = .fp32
    ) -> Tensor {
        let p = MatmulPlan(a.shape, b.shape, transposeA: transposeA, transposeB: transposeB)
        if precision == .bf16 {
            precondition(a.rank == 2 && b.rank == 2 && !transposeA, "matmul: bf16 takes 2-D operands, a not transposed")
            precondition(Precision.bf16.isSupported, "matmul: bf16 products need AVX512_BF16 (Precision.bf16.isSupported)")
            return bf16Matmul(a, b, transposeB: transposeB, plan: p)
        }
        var out = [Float](repeating: 0, count: p.batch * p.m * p.n)
        guard !out.isEmpty, p.k > 0 else { return Tensor(shape: p.outShape, storage: out) }
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { pc in
                    p.run(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, beta: 0)
                }
            }
        }
        return Tensor(shape: p.outShape, storage: out)
    }

    /// Fully connected layer in PyTorch layout: `x [..., in] · weightᵀ + bias`.
    ///
    /// - Parameters:
    ///   - x: `[..., in]`.
    ///   - weight: `[out, in]` (as `torch.nn.Linear.weight`).
    ///   - bias: `[out]`, or nil.
    /// - Returns: `[..., out]`.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
        precondition(x.rank >= 1, "linear: input must have at least one axis, got \(x.shape)")
        precondition(weight.rank == 2, "linear: weight must be [out, in], got \(weight.shape)")
        let inFeatures = weight.shape[1], outFeatures = weight.shape[0]
        precondition(
            x.shape.last == inFeatures,
            "linear: input \(x.shape) has \(x.shape.last!) features, weight \(weight.shape) expects \(inFeatures)")
        if let bias {
            precondition(
                bias.shape == [outFeatures], "linear: bias \(bias.shape) should be [\(outFeatures)]")
        }
        let rows = x.count / max(1, inFeatures)
        var outShape = x.shape
        outShape[outShape.count - 1] = outFeatures
        var out = [Float](repeating: 0, count: rows * outFeatures)
        x.storage.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                guard let input = px.baseAddress, let output = po.baseAddress else { return }
                linear(input, rows: rows, weight: weight, bias: bias, into: output)
            }
        }
        return Tensor(shape: outShape, storage: out)
    }

    /// ``linear(_:weight:bias:)`` over raw rows: `out [rows, out] = x [rows, in] · weightᵀ + bias`,
    /// both contiguous. `out` must not overlap `x`.
    ///
    /// With `packed` (the same weight as a ``BF16Matrix``) the product runs in bf16 with fp32
    /// accumulation; the bias is added in fp32. Products of fewer than ``bf16MinimumRows`` rows
    /// stay in fp32: the bf16 kernel computes 12 rows at a time.
    public static func linear(
        _ x: UnsafePointer<Float>, rows: Int, weight: Tensor, bias: Tensor?, packed: BF16Matrix? = nil,
        into out: UnsafeMutablePointer<Float>
    ) {
        let inFeatures = weight.shape[1], outFeatures = weight.shape[0]
        guard rows > 0, outFeatures > 0 else { return }
        if let bias {
            // Start from the bias in every row, then accumulate the product with beta = 1.
            bias.storage.withUnsafeBufferPointer { pb in
                for r in 0..<rows { (out + r * outFeatures).update(from: pb.baseAddress!, count: outFeatures) }
            }
        } else if inFeatures == 0 {
            out.update(repeating: 0, count: rows * outFeatures)
        }
        if inFeatures == 0 { return }
        if let packed, rows >= bf16MinimumRows {
            precondition(Precision.bf16.isSupported, "linear: bf16 products need AVX512_BF16 (Precision.bf16.isSupported)")
            precondition(
                packed.k == inFeatures && packed.n == outFeatures,
                "linear: packed weight \(packed.k)x\(packed.n) does not match \(weight.shape)")
            Gemm.runBF16(m: rows, a: x, lda: inFeatures, b: packed, beta: bias == nil ? 0 : 1, c: out, ldc: outFeatures)
            return
        }
        weight.storage.withUnsafeBufferPointer { pw in
            Gemm.run(
                transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures, alpha: 1,
                a: x, lda: inFeatures, b: pw.baseAddress!, ldb: inFeatures,
                beta: bias == nil ? 0 : 1, c: out, ldc: outFeatures)
        }
    }
}

extension Ops {
    /// `a [M, K] · b` in bf16 with fp32 accumulation, `b` packed for this call.
    private static func bf16Matmul(_ a: Tensor, _ b: Tensor, transposeB: Bool, plan p: MatmulPlan) -> Tensor {
        var out = [Float](repeating: 0, count: p.m * p.n)
        guard !out.isEmpty, p.k > 0 else { return Tensor(shape: p.outShape, storage: out) }
        let packed = BF16Matrix(b, transposed: transposeB)
        a.storage.withUnsafeBufferPointer { pa in
            out.withUnsafeMutableBufferPointer { po in
                Gemm.runBF16(m: p.m, a: pa.baseAddress!, lda: p.k, b: packed, beta: 0, c: po.baseAddress!, ldc: p.n)
            }
        }
        return Tensor(shape: p.outShape, storage: out)
    }

    /// The fewest rows a linear layer runs in bf16 with; smaller products (the time and
    /// modulation embeddings, one row each) stay in fp32.
    public static let bf16MinimumRows = 8
}

/// Shapes and strides of one (possibly batched) matrix product.
struct MatmulPlan {
    let m: Int, n: Int, k: Int
    let batch: Int
    let batchedA: Bool, batchedB: Bool
    let transposeA: Bool, transposeB: Bool
    let outShape: [Int]

    init(_ a: [Int], _ b: [Int], transposeA: Bool, transposeB: Bool) {
        precondition(
            a.count >= 2 && b.count >= 2, "matmul: operands need at least 2 axes, got \(a) and \(b)")
        let (am, ak) = transposeA ? (a[a.count - 1], a[a.count - 2]) : (a[a.count - 2], a[a.count - 1])
        let (bk, bn) = transposeB ? (b[b.count - 1], b[b.count - 2]) : (b[b.count - 2], b[b.count - 1])
        precondition(
            ak == bk,
            "matmul: inner dimensions differ: a \(a)\(transposeA ? "ᵀ" : "") has K=\(ak), b \(b)\(transposeB ? "ᵀ" : "") has K=\(bk)")
        let leadA = Array(a.dropLast(2)), leadB = Array(b.dropLast(2))
        precondition(
            leadA.isEmpty || leadB.isEmpty || leadA == leadB,
            "matmul: batch dimensions \(leadA) and \(leadB) differ (only equal or a 2-D operand broadcast)")
        let lead = leadA.isEmpty ? leadB : leadA
        self.m = am; self.n = bn; self.k = ak
        self.batch = lead.reduce(1, *)
        self.batchedA = !leadA.isEmpty
        self.batchedB = !leadB.isEmpty
        self.transposeA = transposeA; self.transposeB = transposeB
        self.outShape = lead + [am, bn]
    }

    /// C = op(A)·op(B) + beta·C over every batch entry.
    func run(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        beta: Float
    ) {
        guard batch > 0, m > 0, n > 0 else { return }
        if k == 0 {
            if beta == 0 { c.update(repeating: 0, count: batch * m * n) }
            return
        }
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        if batchedA && !batchedB && !transposeA {
            // [B, M, K] · [K, N]: one product with B·M rows.
            gemm(a, lda, b, ldb, c, rows: batch * m, beta: beta)
            return
        }
        for i in 0..<batch {
            gemm(
                a + (batchedA ? i * m * k : 0), lda, b + (batchedB ? i * k * n : 0), ldb,
                c + i * m * n, rows: m, beta: beta)
        }
    }

    private func gemm(
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ c: UnsafeMutablePointer<Float>, rows: Int, beta: Float
    ) {
        Gemm.run(
            transposeA: transposeA, transposeB: transposeB, m: rows, n: n, k: k, alpha: 1,
            a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: n)
    }
}
