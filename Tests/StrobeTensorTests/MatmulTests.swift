import StrobeTensor
import Testing

@Suite("Matrix products")
struct MatmulTests {
    /// Tolerance for a product over `k` terms of values in [-1, 1]: 1e-5·√K, scaled by magnitude.
    static func tolerance(k: Int, expected: Tensor) -> Float {
        1e-5 * Float(max(k, 1)).squareRoot() * max(1, maxAbs(expected))
    }

    @Test("hand-computed 2x2 product")
    func handComputed() {
        let a = Tensor(shape: [2, 2], storage: [1, 2, 3, 4])
        let b = Tensor(shape: [2, 2], storage: [5, 6, 7, 8])
        #expect(Ops.matmul(a, b).storage == [19, 22, 43, 50])
        #expect(Ops.matmul(a, b, transposeA: true).storage == [26, 30, 38, 44])
        #expect(Ops.matmul(a, b, transposeB: true).storage == [17, 23, 39, 53])
    }

    @Test("2-D products with every transpose, awkward shapes", arguments: [false, true])
    func twoD(transposeA: Bool) {
        var rng = SplitMix64(seed: 1)
        for trial in 0..<24 {
            let m = rng.pick(awkwardSizes), n = rng.pick(awkwardSizes), k = rng.pick(awkwardSizes + [64, 129])
            let transposeB = trial % 2 == 1
            let a = rng.tensor(transposeA ? [k, m] : [m, k])
            let b = rng.tensor(transposeB ? [n, k] : [k, n])
            let got = Ops.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
            let want = Naive.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
            let diff = maxAbsDiff(got, want)
            #expect(
                diff <= Self.tolerance(k: k, expected: want),
                "M=\(m) N=\(n) K=\(k) tA=\(transposeA) tB=\(transposeB): max abs diff \(diff)")
        }
    }

    @Test("batched and broadcast products")
    func batched() {
        var rng = SplitMix64(seed: 2)
        for trial in 0..<24 {
            let batch = rng.pick([1, 2, 3, 5]), m = rng.pick(awkwardSizes), n = rng.pick(awkwardSizes)
            let k = rng.pick(awkwardSizes)
            let tA = rng.pick([false, true]), tB = rng.pick([false, true])
            let aMat = tA ? [k, m] : [m, k], bMat = tB ? [n, k] : [k, n]
            let (aShape, bShape): ([Int], [Int])
            switch trial % 4 {
            case 0: (aShape, bShape) = ([batch] + aMat, [batch] + bMat)
            case 1: (aShape, bShape) = ([batch] + aMat, bMat)  // broadcast b
            case 2: (aShape, bShape) = (aMat, [batch] + bMat)  // broadcast a
            default: (aShape, bShape) = ([2, batch] + aMat, [2, batch] + bMat)  // two batch axes
            }
            let a = rng.tensor(aShape), b = rng.tensor(bShape)
            let got = Ops.matmul(a, b, transposeA: tA, transposeB: tB)
            let want = Naive.matmul(a, b, transposeA: tA, transposeB: tB)
            #expect(got.shape == want.shape)
            let diff = maxAbsDiff(got, want)
            #expect(
                diff <= Self.tolerance(k: k, expected: want),
                "a \(aShape) tA=\(tA) b \(bShape) tB=\(tB): max abs diff \(diff)")
        }
    }

    @Test("broadcast operand equals per-batch products")
    func broadcastMatchesLoop() {
        var rng = SplitMix64(seed: 3)
        let a = rng.tensor([3, 7, 13]), b = rng.tensor([13, 5])
        let whole = Ops.matmul(a, b)
        for i in 0..<3 {
            let slice = Tensor(shape: [7, 13], storage: Array(a.storage[(i * 91)..<((i + 1) * 91)]))
            let part = Ops.matmul(slice, b)
            #expect(maxAbsDiff(part, Tensor(shape: [7, 5], storage: Array(whole.storage[(i * 35)..<((i + 1) * 35)]))) <= 1e-6)
        }
    }

    @Test("linear: x·Wᵀ + b with PyTorch weight layout")
    func linear() {
        var rng = SplitMix64(seed: 4)
        for trial in 0..<18 {
            let inF = rng.pick(awkwardSizes + [64]), outF = rng.pick(awkwardSizes)
            let lead: [Int] = [[], [rng.pick(awkwardSizes)], [2, rng.pick(awkwardSizes)]][trial % 3]
            let x = rng.tensor(lead + [inF]), w = rng.tensor([outF, inF])
            let bias: Tensor? = trial % 2 == 0 ? rng.tensor([outF]) : nil
            let got = Ops.linear(x, weight: w, bias: bias)
            let want = Naive.linear(x, weight: w, bias: bias)
            #expect(got.shape == lead + [outF])
            let diff = maxAbsDiff(got, want)
            #expect(
                diff <= Self.tolerance(k: inF + 1, expected: want),
                "x \(x.shape) W \(w.shape) bias \(bias != nil): max abs diff \(diff)")
        }
        let x = Tensor(shape: [1, 2], storage: [1, 2])
        let w = Tensor(shape: [3, 2], storage: [1, 0, 0, 1, 1, 1])
        let b = Tensor(shape: [3], storage: [10, 20, 30])
        #expect(Ops.linear(x, weight: w, bias: b).storage == [11, 22, 33])
    }
}
