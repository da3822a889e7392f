import StrobeTensor
import Testing

@Suite("Softmax, norms and activations")
struct NormActivationTests {
    static func randomShape(_ rng: inout SplitMix64) -> [Int] {
        [[rng.pick(awkwardSizes)], [rng.pick(awkwardSizes), rng.pick(awkwardSizes + [64, 100])],
         [2, rng.pick(awkwardSizes), rng.pick(awkwardSizes)]][rng.int(0...2)]
    }

    @Test("softmax matches its naive twin, rows sum to 1")
    func softmaxRandom() {
        var rng = SplitMix64(seed: 10)
        for _ in 0..<20 {
            let x = rng.tensor(Self.randomShape(&rng), -20...20)
            let got = Ops.softmax(x), want = Naive.softmax(x)
            let diff = maxAbsDiff(got, want)
            #expect(diff <= 1e-6, "shape \(x.shape): max abs diff \(diff)")
            let cols = x.shape.last!
            for r in 0..<(x.count / cols) {
                let sum = got.storage[(r * cols)..<((r + 1) * cols)].reduce(0, +)
                #expect(abs(sum - 1) <= 1e-5, "row \(r) sums to \(sum)")
            }
        }
    }

    @Test("softmax hand-computed, stable for large inputs, -inf entries and rows")
    func softmaxCases() {
        let got = Ops.softmax(Tensor(shape: [3], storage: [1, 2, 3])).storage
        let want: [Float] = [0.090_030_57, 0.244_728_47, 0.665_240_96]
        #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1e-7 }, "\(got)")
        let big = Ops.softmax(Tensor(shape: [2], storage: [1000, 1000])).storage
        #expect(big == [0.5, 0.5])
        let input = Tensor(shape: [2, 3], storage: [0, -.infinity, 0, -.infinity, -.infinity, -.infinity])
        let masked = Ops.softmax(input)
        #expect(masked.storage == [0.5, 0, 0.5, 0, 0, 0])
        #expect(Naive.softmax(input).storage == masked.storage)
        var inPlace = Tensor(shape: [1, 3], storage: [1, 2, 3])
        Ops.softmaxInPlace(&inPlace)
        #expect(inPlace == Ops.softmax(Tensor(shape: [1, 3], storage: [1, 2, 3])))
    }

    @Test("layer norm matches its naive twin, with and without affine parameters")
    func layerNormRandom() {
        var rng = SplitMix64(seed: 11)
        for trial in 0..<20 {
            let x = rng.tensor(Self.randomShape(&rng), -3...5)
            let d = x.shape.last!
            let w: Tensor? = trial % 2 == 0 ? rng.tensor([d]) : nil
            let b: Tensor? = trial % 3 == 0 ? rng.tensor([d]) : nil
            let eps: Float = trial % 4 == 0 ? 1e-6 : 1e-5
            let got = Ops.layerNorm(x, weight: w, bias: b, eps: eps)
            let want = Naive.layerNorm(x, weight: w, bias: b, eps: eps)
            let diff = maxAbsDiff(got, want)
            #expect(diff <= 1e-5 * max(1, maxAbs(want)), "shape \(x.shape): max abs diff \(diff)")
        }
    }

    @Test("layer norm and RMS norm hand-computed")
    func normCases() {
        let ln = Ops.layerNorm(Tensor(shape: [4], storage: [1, 2, 3, 4])).storage
        let lnWant: [Float] = [-1.341_635_5, -0.447_211_84, 0.447_211_84, 1.341_635_5]
        #expect(zip(ln, lnWant).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(ln)")
        let w = Tensor(shape: [2], storage: [2, -1]), b = Tensor(shape: [2], storage: [0.5, 0.5])
        let affine = Ops.layerNorm(Tensor(shape: [2], storage: [0, 2]), weight: w, bias: b, eps: 0).storage
        #expect(affine == [-1.5, -0.5])
        let rms = Ops.rmsNorm(Tensor(shape: [2], storage: [3, 4]), eps: 0).storage
        #expect(zip(rms, [0.848_528_1, 1.131_370_9]).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(rms)")
        let rmsW = Ops.rmsNorm(Tensor(shape: [1, 2], storage: [3, 4]), weight: w, eps: 0).storage
        #expect(zip(rmsW, [1.697_056_3, -1.131_370_9]).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(rmsW)")
    }

    @Test("RMS norm matches its naive twin")
    func rmsNormRandom() {
        var rng = SplitMix64(seed: 12)
        for trial in 0..<20 {
            let x = rng.tensor(Self.randomShape(&rng), -4...4)
            let w: Tensor? = trial % 2 == 0 ? rng.tensor([x.shape.last!]) : nil
            let got = Ops.rmsNorm(x, weight: w, eps: 1e-6)
            let want = Naive.rmsNorm(x, weight: w, eps: 1e-6)
            let diff = maxAbsDiff(got, want)
            #expect(diff <= 1e-5 * max(1, maxAbs(want)), "shape \(x.shape): max abs diff \(diff)")
        }
    }

    @Test("GELU (tanh) and SiLU match torch values and their naive twins")
    func activations() {
        let g = Ops.gelu(Tensor(shape: [3], storage: [1.0, -0.5, 0])).storage
        #expect(abs(g[0] - 0.841_192_007_064_819_3) <= 2e-7, "gelu(1) = \(g[0])")
        #expect(abs(g[1] - -0.154_285_997_152_328_49) <= 2e-7, "gelu(-0.5) = \(g[1])")
        #expect(g[2] == 0)
        let s = Ops.silu(Tensor(shape: [2], storage: [1.0, 0])).storage
        #expect(abs(s[0] - 0.731_058_597_564_697_3) <= 2e-7, "silu(1) = \(s[0])")
        #expect(s[1] == 0)

        var rng = SplitMix64(seed: 13)
        for _ in 0..<12 {
            var x = rng.tensor(Self.randomShape(&rng), -12...12)
            x.storage[0] = rng.pick([-100, -30, 30, 100, 0])
            for (name, got, want) in [
                ("gelu", Ops.gelu(x), Naive.gelu(x)), ("silu", Ops.silu(x), Naive.silu(x)),
            ] {
                let worst = zip(got.storage, want.storage).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
                #expect(worst <= 1e-6, "\(name) shape \(x.shape): max relative diff \(worst)")
            }
        }
    }
}
