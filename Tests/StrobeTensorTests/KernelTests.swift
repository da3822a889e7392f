import StrobeTensor
import Testing

/// The fused kernels (StrobeKernels) against compositions of the naive twins.
@Suite("Fused kernels")
struct KernelTests {
    @Test("rmsNorm with weight, scale and shift equals the naive norm then modulation")
    func modulatedNorm() {
        var rng = SplitMix64(seed: 21)
        for cols in awkwardSizes + [64, 256] {
            let x = rng.tensor([5, cols], -3...3)
            let (w, scale, shift) = (rng.tensor([cols]), rng.tensor([cols]), rng.tensor([cols]))
            let got = Ops.rmsNorm(x, weight: w, scale: scale, shift: shift, eps: 1e-6)
            let want = Naive.add(Naive.mul(Naive.rmsNorm(x, weight: w, eps: 1e-6), Naive.add(scale, Tensor(shape: [1], storage: [1]))), shift)
            #expect(maxAbsDiff(got, want) <= 1e-5, "cols \(cols): \(maxAbsDiff(got, want))")
            let plain = Ops.rmsNorm(x, weight: nil, scale: nil, shift: nil, eps: 1e-6)
            #expect(maxAbsDiff(plain, Naive.rmsNorm(x, eps: 1e-6)) <= 1e-6)
        }
    }

    @Test("head norm + rotary on strided rows equals per-head naive norm then naive 2-D RoPE")
    func headNormRotary() {
        var rng = SplitMix64(seed: 22)
        let (rows, columns, heads, headDim) = (3, 4, 2, 16)
        let tokens = rows * columns, width = heads * headDim, stride = 3 * width
        let fused = rng.tensor([tokens, stride], -2...2)                                  // [N, 3·D]
        let weight = rng.tensor([headDim], 0.5...1.5)
        let grid = RotaryTable.gridPositions(height: rows, width: columns)
        let table = RotaryTable(rows: grid.rows, columns: grid.columns, headDim: headDim)
        for rotate in [true, false] {
            var got = fused
            got.storage.withUnsafeMutableBufferPointer { p in
                weight.storage.withUnsafeBufferPointer { w in
                    Kernels.headNormRotary(p.baseAddress! + width, stride: stride, rows: tokens, heads: heads,
                                           headDim: headDim, weight: w.baseAddress!, eps: 1e-6, table: rotate ? table : nil)
                }
            }
            let parts = Naive.split(fused, sizes: [width, width, width], axis: 1)
            let normed = Naive.rmsNorm(parts[1].reshaped([tokens, heads, headDim]), weight: weight, eps: 1e-6)
                .reshaped([tokens, width])
            let k = rotate ? Naive.rope2D(normed, rows: grid.rows, columns: grid.columns, heads: heads) : normed
            let want = Naive.concat([parts[0], k, parts[2]], axis: 1)
            #expect(maxAbsDiff(got, want) <= 1e-5, "rotate \(rotate): \(maxAbsDiff(got, want))")
        }
    }

    @Test("gated add equals x + gate·y, and x + y without a gate")
    func gatedAdd() {
        var rng = SplitMix64(seed: 23)
        for cols in awkwardSizes {
            let (x, y, gate) = (rng.tensor([4, cols]), rng.tensor([4, cols]), rng.tensor([cols]))
            for useGate in [true, false] {
                var got = x
                got.storage.withUnsafeMutableBufferPointer { px in
                    y.storage.withUnsafeBufferPointer { py in
                        gate.storage.withUnsafeBufferPointer { pg in
                            Kernels.gatedAdd(px.baseAddress!, py.baseAddress!, rows: 4, cols: cols,
                                             gate: useGate ? pg.baseAddress! : nil)
                        }
                    }
                }
                let want = useGate ? Naive.add(x, Naive.mul(gate, y)) : Naive.add(x, y)
                #expect(maxAbsDiff(got, want) <= 1e-6, "cols \(cols), gate \(useGate)")
            }
        }
    }

    @Test("attention over strided q, k, v columns equals naive attention on the split tensors")
    func stridedAttention() {
        var rng = SplitMix64(seed: 24)
        let (batch, length, heads, headDim) = (2, 13, 3, 8)
        let width = heads * headDim
        let qkv = rng.tensor([batch, length, 3 * width], -2...2)
        let parts = Naive.split(qkv, sizes: [width, width, width], axis: 2)
        var out = [Float](repeating: .nan, count: batch * length * width)
        let layout = AttentionLayout(
            batch: batch, lq: length, lk: length, heads: heads, headDim: headDim, valueDim: headDim,
            qStride: 3 * width, kStride: 3 * width, vStride: 3 * width, outStride: width, scale: 0.3)
        // Scratch for one head only: heads are then processed one group at a time.
        var scores = [Float](repeating: 0, count: length * length)
        qkv.storage.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { po in
                scores.withUnsafeMutableBufferPointer { ps in
                    layout.run(q: p.baseAddress!, k: p.baseAddress! + width, v: p.baseAddress! + 2 * width,
                               out: po.baseAddress!, bias: nil, keyMask: nil, scores: ps.baseAddress!, scoreCount: ps.count)
                }
            }
        }
        let want = Naive.attention(q: parts[0], k: parts[1], v: parts[2], heads: heads, scale: 0.3)
        let got = Tensor(shape: [batch, length, width], storage: out)
        #expect(maxAbsDiff(got, want) <= 1e-5, "\(maxAbsDiff(got, want))")
    }
}
