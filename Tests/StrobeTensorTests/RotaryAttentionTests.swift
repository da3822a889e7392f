import Foundation
@testable import StrobeTensor
import Testing

@Suite("Rotary embeddings and attention")
struct RotaryAttentionTests {
    @Test("1-D RoPE: hand-computed convention (adjacent pairs, theta^(-2i/d))")
    func ropeConvention() {
        // One head, Dh = 4, theta = 100: ω = [1, 100^(-1/2) = 0.1]; position 1.
        let x = Tensor(shape: [1, 4], storage: [1, 0, 1, 0])
        let got = Ops.rope(x, positions: [1], heads: 1, theta: 100).storage
        let want: [Float] = [Float(cos(1.0)), Float(sin(1.0)), Float(cos(0.1)), Float(sin(0.1))]
        #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1e-7 }, "\(got)")
        // (0, 1) rotates to (−sin a, cos a).
        let y = Ops.rope(Tensor(shape: [1, 2], storage: [0, 1]), positions: [2], heads: 1).storage
        #expect(abs(y[0] + Float(sin(2.0))) <= 1e-7 && abs(y[1] - Float(cos(2.0))) <= 1e-7, "\(y)")
    }

    @Test("2-D RoPE: first half by row, second half by column")
    func rope2DConvention() {
        // Dh = 8: pairs 0, 1 by row with ω = [1, theta^(-1/2)], pairs 2, 3 by column.
        let x = Tensor(shape: [1, 8], storage: [1, 0, 1, 0, 1, 0, 1, 0])
        let got = Ops.rope2D(x, rows: [2], columns: [3], heads: 1, theta: 100).storage
        let angles = [2.0, 0.2, 3.0, 0.3]
        let want = angles.flatMap { [Float(cos($0)), Float(sin($0))] }
        #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1e-7 }, "\(got)")
        let grid = RotaryTable.gridPositions(height: 2, width: 3)
        #expect(grid.rows == [0, 0, 0, 1, 1, 1] && grid.columns == [0, 1, 2, 0, 1, 2])
    }

    @Test("RoPE matches its naive twin, preserves norms, and position 0 is the identity")
    func ropeProperties() {
        var rng = SplitMix64(seed: 30)
        for trial in 0..<16 {
            let heads = rng.pick([1, 2, 3]), headDim = rng.pick([4, 8, 12, 64])
            let length = rng.pick(awkwardSizes)
            let lead: [Int] = trial % 3 == 0 ? [2] : []
            let x = rng.tensor(lead + [length, heads * headDim])
            let positions = (0..<length).map { _ in Float(rng.int(0...300)) }
            let rows = (0..<length).map { _ in Float(rng.int(0...40)) }
            let cols = (0..<length).map { _ in Float(rng.int(0...40)) }
            let theta: Float = rng.pick([10_000, 100, 256])
            for (got, want, name) in [
                (Ops.rope(x, positions: positions, heads: heads, theta: theta),
                 Naive.rope(x, positions: positions, heads: heads, theta: theta), "1-D"),
                (Ops.rope2D(x, rows: rows, columns: cols, heads: heads, theta: theta),
                 Naive.rope2D(x, rows: rows, columns: cols, heads: heads, theta: theta), "2-D"),
            ] {
                let diff = maxAbsDiff(got, want)
                #expect(diff <= 1e-6, "\(name) x \(x.shape) heads \(heads): max abs diff \(diff)")
                // Norm of every rotated pair is preserved.
                for p in stride(from: 0, to: x.count, by: 2) {
                    let before = x.storage[p] * x.storage[p] + x.storage[p + 1] * x.storage[p + 1]
                    let after = got.storage[p] * got.storage[p] + got.storage[p + 1] * got.storage[p + 1]
                    if abs(before - after) > 1e-5 { Issue.record("\(name): pair \(p) norm² \(before) -> \(after)") }
                }
            }
        }
        let x = rng.tensor([3, 16])
        #expect(Ops.rope(x, positions: [0, 0, 0], heads: 2) == x)
        #expect(Ops.rope2D(x, rows: [0, 0, 0], columns: [0, 0, 0], heads: 4) == x)
        // Row-only positions leave the column half of each head untouched.
        let rowOnly = Ops.rope2D(x, rows: [1, 2, 3], columns: [0, 0, 0], heads: 2)
        for t in 0..<3 {
            for h in 0..<2 {
                for d in 4..<8 { #expect(rowOnly[t, h * 8 + d] == x[t, h * 8 + d]) }
            }
        }
    }

    @Test("attention matches its naive twin (batch, bias, mask, scale, awkward sizes)")
    func attentionRandom() {
        var rng = SplitMix64(seed: 31)
        for trial in 0..<24 {
            let heads = rng.pick([1, 2, 3, 4]), dh = rng.pick([1, 7, 8, 16]), dv = trial % 5 == 0 ? 5 : dh
            let lq = rng.pick(awkwardSizes), lk = rng.pick(awkwardSizes)
            let batch = trial % 2 == 0 ? 2 : 0
            let lead = batch > 0 ? [batch] : []
            let q = rng.tensor(lead + [lq, heads * dh]), k = rng.tensor(lead + [lk, heads * dh])
            let v = rng.tensor(lead + [lk, heads * dv])
            let bias: Tensor? = trial % 3 == 0 ? rng.tensor((trial % 2 == 0 ? [batch] : []) + [heads, lq, lk], -2...2) : nil
            var mask: [Bool]?
            if trial % 4 == 1 {
                mask = (0..<(lk * max(1, batch))).map { _ in rng.unit() < 0.7 }
                mask![0] = true
            }
            let scale: Float? = trial % 3 == 1 ? 1 : nil
            let got = Ops.attention(q: q, k: k, v: v, heads: heads, scale: scale, bias: bias, keyMask: mask)
            let want = Naive.attention(q: q, k: k, v: v, heads: heads, scale: scale, bias: bias, keyMask: mask)
            let diff = maxAbsDiff(got, want)
            #expect(
                diff <= 2e-5 * Float(dh).squareRoot(),
                "q \(q.shape) k \(k.shape) v \(v.shape) heads \(heads) bias \(bias != nil) mask \(mask != nil): max abs diff \(diff)")
        }
    }

    @Test("masked keys get zero weight; fully masked queries give zeros")
    func attentionMasking() {
        var rng = SplitMix64(seed: 32)
        let heads = 2, dh = 8, lq = 5, lk = 7
        let q = rng.tensor([lq, heads * dh]), k = rng.tensor([lk, heads * dh])
        var v = rng.tensor([lk, heads * dh])
        let keep = [true, false, true, true, false, true, false]
        // Huge values on masked keys would dominate if they got any weight.
        for j in 0..<lk where !keep[j] {
            for d in 0..<(heads * dh) { v[j, d] = 1e6 }
        }
        let masked = Ops.attention(q: q, k: k, v: v, heads: heads, keyMask: keep)
        let kept = (0..<lk).filter { keep[$0] }
        let select = { (t: Tensor) in
            Tensor(shape: [kept.count, t.shape[1]], storage: kept.flatMap { j in Array(t.storage[(j * t.shape[1])..<((j + 1) * t.shape[1])]) })
        }
        let reference = Ops.attention(q: q, k: select(k), v: select(v), heads: heads)
        let diff = maxAbsDiff(masked, reference)
        #expect(diff <= 1e-5, "key mask vs dropped keys: max abs diff \(diff)")
        // The same keys masked with a -inf additive bias, and scale 1 (T5 style).
        var bias = Tensor(shape: [heads, lq, lk])
        for h in 0..<heads {
            for i in 0..<lq {
                for j in 0..<lk where !keep[j] { bias[h, i, j] = -.infinity }
            }
        }
        let biased = Ops.attention(q: q, k: k, v: v, heads: heads, scale: 1, bias: bias)
        let reference1 = Ops.attention(q: q, k: select(k), v: select(v), heads: heads, scale: 1)
        #expect(maxAbsDiff(biased, reference1) <= 1e-5, "bias mask: max abs diff \(maxAbsDiff(biased, reference1))")
        // Every key masked: zeros, not NaN.
        let none = Ops.attention(q: q, k: k, v: v, heads: heads, keyMask: [Bool](repeating: false, count: lk))
        #expect(none.storage.allSatisfy { $0 == 0 })
        #expect(Naive.attention(q: q, k: k, v: v, heads: heads, keyMask: [Bool](repeating: false, count: lk)) == none)
    }

    @Test("attention with one key returns that key's value")
    func attentionSingleKey() {
        let q = Tensor(shape: [2, 4], storage: [1, 2, 3, 4, 5, 6, 7, 8])
        let k = Tensor(shape: [1, 4], storage: [1, 1, 1, 1])
        let v = Tensor(shape: [1, 4], storage: [9, 8, 7, 6])
        let out = Ops.attention(q: q, k: k, v: v, heads: 2)
        #expect(out.storage == [9, 8, 7, 6, 9, 8, 7, 6])
    }

    @Test("attention gives the same result whatever the head grouping")
    func attentionGrouping() {
        var rng = SplitMix64(seed: 33)
        let heads = 5, lq = 7, lk = 13
        let q = rng.tensor([2, lq, heads * 4]), k = rng.tensor([2, lk, heads * 4]), v = rng.tensor([2, lk, heads * 3])
        let bias = rng.tensor([2, heads, lq, lk])
        let mask = (0..<(2 * lk)).map { $0 % 3 != 1 }
        let whole = Ops.attention(q: q, k: k, v: v, heads: heads, bias: bias, keyMask: mask)
        for budget in [1, 2 * lq * lk, 3 * lq * lk] {
            let grouped = Ops.attention(
                q: q, k: k, v: v, heads: heads, scale: nil, bias: bias, keyMask: mask, scoreBudget: budget)
            #expect(grouped == whole, "budget \(budget): max abs diff \(maxAbsDiff(grouped, whole))")
        }
    }
}
