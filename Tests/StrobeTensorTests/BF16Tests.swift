import StrobeTensor
import Testing

/// bf16 matrix products (AVX512_BF16) against their naive twin.
@Suite("bf16 products", .enabled(if: Precision.bf16.isSupported, "this CPU has no AVX512_BF16"))
struct BF16Tests {
    /// Tolerance of an fp32-accumulated product of bf16-rounded inputs against the same inputs
    /// summed in double: a few fp32 roundings per term.
    static func tolerance(k: Int, expected: Tensor) -> Float {
        2e-6 * Float(max(k, 1)) * max(1, maxAbs(expected))
    }

    @Test("rounding is to nearest, ties to even, subnormals to zero, NaN stays NaN")
    func rounding() {
        #expect(bf16Rounded(1) == 1)
        #expect(bf16Rounded(1 + 0x1p-8) == 1, "a tie rounds to the even neighbour")
        #expect(bf16Rounded(1 + 3 * 0x1p-8) == 1 + 0x1p-6, "a tie rounds to the even neighbour, up")
        #expect(bf16Rounded(1 + 0x1p-8 + 0x1p-20) == 1 + 0x1p-7, "above the tie rounds up")
        #expect(bf16Rounded(.infinity) == .infinity)
        #expect(bf16Rounded(-.greatestFiniteMagnitude) == -.infinity, "past the largest bf16 rounds to infinity")
        #expect(bf16Rounded(.nan).isNaN)
        #expect(bf16Rounded(Float.leastNonzeroMagnitude) == 0)
        #expect(bf16Rounded(-0x1p-130).sign == .minus && bf16Rounded(-0x1p-130) == 0)
        var rng = SplitMix64(seed: 5)
        for _ in 0..<10_000 {
            let x = rng.uniform(-1000...1000)
            #expect(bf16Rounded(x) == Naive.bf16Rounded(x), "\(x)")
        }
    }

    @Test("linear layers in bf16 match the naive twin, awkward shapes", arguments: [0, 1, 2, 3])
    func linear(seed: UInt64) {
        var rng = SplitMix64(seed: 40 + seed)
        for _ in 0..<6 {
            let m = rng.pick([8, 12, 13, 31, 64, 100]), k = rng.pick([1, 2, 7, 64, 129, 256]), n = rng.pick([1, 20, 32, 33, 96])
            let x = rng.tensor([m, k]), weight = rng.tensor([n, k]), bias = rng.tensor([n])
            let packed = BF16Matrix(weight: weight)
            var out = [Float](repeating: .nan, count: m * n)
            x.storage.withUnsafeBufferPointer { px in
                out.withUnsafeMutableBufferPointer { po in
                    Ops.linear(px.baseAddress!, rows: m, weight: weight, bias: bias, packed: packed, into: po.baseAddress!)
                }
            }
            let got = Tensor(shape: [m, n], storage: out)
            let want = Naive.add(Naive.bf16Matmul(x, weight, transposeB: true), bias)
            let diff = maxAbsDiff(got, want)
            #expect(diff <= Self.tolerance(k: k, expected: want), "M=\(m) K=\(k) N=\(n): max abs diff \(diff)")
        }
    }

    @Test("attention-style products, b transposed or not", arguments: [false, true])
    func matmul(transposeB: Bool) {
        var rng = SplitMix64(seed: 60)
        for (m, k, n) in [(256, 64, 256), (17, 20, 64), (5, 3, 40)] {
            let a = rng.tensor([m, k]), b = rng.tensor(transposeB ? [n, k] : [k, n])
            let got = Ops.matmul(a, b, transposeB: transposeB, precision: .bf16)
            let want = Naive.bf16Matmul(a, b, transposeB: transposeB)
            let diff = maxAbsDiff(got, want)
            #expect(diff <= Self.tolerance(k: k, expected: want), "M=\(m) K=\(k) N=\(n) tB=\(transposeB): \(diff)")
        }
    }

    @Test("bf16 results do not depend on the thread count")
    func threadIndependent() {
        var rng = SplitMix64(seed: 70)
        let (m, k, n) = (300, 256, 768)
        let x = rng.tensor([m, k]), weight = rng.tensor([n, k])
        let packed = BF16Matrix(weight: weight)
        func run(_ threads: Int) -> [Float] {
            Parallel.withThreads(threads) {
                var out = [Float](repeating: 0, count: m * n)
                x.storage.withUnsafeBufferPointer { px in
                    out.withUnsafeMutableBufferPointer { po in
                        Ops.linear(px.baseAddress!, rows: m, weight: weight, bias: nil, packed: packed, into: po.baseAddress!)
                    }
                }
                return out
            }
        }
        let one = run(1)
        for threads in [2, 3, 8] {
            #expect(run(threads).map(\.bitPattern) == one.map(\.bitPattern), "\(threads) threads")
        }
    }
}
