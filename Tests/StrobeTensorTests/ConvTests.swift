@testable import StrobeTensor
import StrobeKernels
import Testing

@Suite("Convolution, channel norm, upsampling")
struct ConvTests {
    /// One convolution to try: input shape, output channels, kernel, stride, padding.
    struct Case: CustomStringConvertible {
        var input: [Int], outChannels: Int, kernel: Int, stride: Int, padding: Int, bias: Bool
        var description: String { "x \(input) → \(outChannels) k\(kernel) s\(stride) p\(padding)\(bias ? "" : " no bias")" }
    }

    static let cases: [Case] = [
        Case(input: [2, 5, 13, 11], outChannels: 7, kernel: 3, stride: 1, padding: 1, bias: true),
        Case(input: [2, 5, 13, 11], outChannels: 7, kernel: 3, stride: 2, padding: 1, bias: true),
        Case(input: [1, 4, 16, 12], outChannels: 6, kernel: 3, stride: 2, padding: 1, bias: false),
        Case(input: [2, 5, 13, 11], outChannels: 7, kernel: 1, stride: 1, padding: 0, bias: true),
        Case(input: [1, 5, 13, 11], outChannels: 3, kernel: 1, stride: 2, padding: 0, bias: true),
        Case(input: [1, 3, 7, 9], outChannels: 2, kernel: 1, stride: 1, padding: 1, bias: true),
        Case(input: [1, 3, 8, 7], outChannels: 4, kernel: 5, stride: 1, padding: 2, bias: false),
        Case(input: [1, 2, 9, 8], outChannels: 3, kernel: 3, stride: 1, padding: 0, bias: true),
        Case(input: [3, 2, 1, 1], outChannels: 2, kernel: 3, stride: 1, padding: 1, bias: true),
        Case(input: [1, 3, 2, 9], outChannels: 2, kernel: 3, stride: 2, padding: 1, bias: true),
        Case(input: [1, 1, 31, 33], outChannels: 1, kernel: 3, stride: 1, padding: 1, bias: false),
        Case(input: [1, 64, 20, 19], outChannels: 33, kernel: 3, stride: 1, padding: 1, bias: true),
        Case(input: [2, 48, 33, 17], outChannels: 16, kernel: 3, stride: 2, padding: 1, bias: true),
        // The direct 3×3 kernel's cases (at most 32 output channels, on AVX-512): two groups of
        // output channels, a full 16-pixel block, tails, one input channel, no bias.
        Case(input: [2, 6, 9, 40], outChannels: 20, kernel: 3, stride: 1, padding: 1, bias: true),
        Case(input: [1, 9, 4, 16], outChannels: 32, kernel: 3, stride: 1, padding: 1, bias: true),
        Case(input: [1, 16, 5, 70], outChannels: 3, kernel: 3, stride: 1, padding: 1, bias: false),
        Case(input: [1, 1, 3, 17], outChannels: 16, kernel: 3, stride: 1, padding: 1, bias: true),
    ]

    @Test("conv2d matches its naive twin", arguments: cases)
    func convMatchesNaive(_ c: Case) {
        var rng = SplitMix64(seed: UInt64(c.input.reduce(c.kernel * 31 + c.stride, *) + c.outChannels))
        let x = rng.tensor(c.input)
        let w = rng.tensor([c.outChannels, c.input[1], c.kernel, c.kernel])
        let b = c.bias ? rng.tensor([c.outChannels]) : nil
        let got = Ops.conv2d(x, weight: w, bias: b, stride: c.stride, padding: c.padding)
        let want = Naive.conv2d(x, weight: w, bias: b, stride: c.stride, padding: c.padding)
        let ho = (c.input[2] + 2 * c.padding - c.kernel) / c.stride + 1
        let wo = (c.input[3] + 2 * c.padding - c.kernel) / c.stride + 1
        #expect(got.shape == [c.input[0], c.outChannels, ho, wo], "\(c)")
        let diff = maxAbsDiff(got, want)
        #expect(diff <= 2e-6 * max(1, maxAbs(want)), "\(c): max abs diff \(diff) to the naive twin")
    }

    @Test("the direct 3×3 kernel takes stride-1, padding-1 layers of up to 32 output channels on AVX-512")
    func directKernelSelection() {
        let available = strobe_conv3x3_available() != 0
        func direct(_ input: [Int], _ co: Int, _ k: Int = 3, stride: Int = 1, padding: Int = 1) -> Bool {
            Conv2DShape(input: input, weight: [co, input[1], k, k], stride: stride, padding: padding).runsDirect
        }
        #expect(direct([1, 32, 64, 64], 16) == available && direct([1, 16, 8, 8], 3) == available)
        #expect(direct([1, 8, 8, 8], 32) == available)
        #expect(!direct([1, 8, 8, 8], 33) && !direct([1, 8, 8, 8], 16, stride: 2) && !direct([1, 8, 8, 8], 16, padding: 0))
        #expect(!direct([1, 8, 8, 8], 16, 1, padding: 0))
    }

    @Test("the fused channel norm + SiLU equals the two ops to the bit, and their naive twins closely")
    func channelNormSiLUFused() {
        var rng = SplitMix64(seed: 91)
        for shape in [[2, 5, 7, 3], [1, 16, 9, 8], [1, 3, 1, 1]] {
            let x = rng.tensor(shape), w = rng.tensor([shape[1]])
            for weight in [w, nil] as [Tensor?] {
                let fused = Ops.channelRMSNormSiLU(x, weight: weight, eps: 1e-6)
                #expect(fused == Ops.silu(Ops.channelRMSNorm(x, weight: weight, eps: 1e-6)), "\(shape)")
                let naive = Naive.silu(Naive.channelRMSNorm(x, weight: weight, eps: 1e-6))
                #expect(maxAbsDiff(fused, naive) <= 1e-5, "\(shape)")
            }
        }
    }

    @Test("conv2d hand-computed: a 3×3 sum, zero padding, stride 2, bias")
    func convByHand() {
        let x = Tensor(shape: [1, 1, 3, 3], storage: (1...9).map(Float.init))
        let ones = Tensor(shape: [1, 1, 3, 3], repeating: 1)
        // Sums of each pixel's 3×3 neighbourhood inside the image.
        let same = Ops.conv2d(x, weight: ones, padding: 1)
        #expect(same.storage == [12, 21, 16, 27, 45, 33, 24, 39, 28])
        let strided = Ops.conv2d(x, weight: ones, bias: Tensor(shape: [1], storage: [0.5]), stride: 2, padding: 1)
        #expect(strided.shape == [1, 1, 2, 2] && strided.storage == [12.5, 16.5, 24.5, 28.5])
        let valid = Ops.conv2d(x, weight: ones)
        #expect(valid.shape == [1, 1, 1, 1] && valid.storage == [45])
    }

    @Test("channel RMS norm matches its naive twin and hand values")
    func channelNorm() {
        var rng = SplitMix64(seed: 70)
        for shape in [[2, 5, 13, 11], [1, 40, 5, 6], [1, 1, 1, 1], [3, 17, 9], [1, 192, 4, 4], [2, 3, 8, 8]] {
            let x = rng.tensor(shape, -4...4), w = rng.tensor([shape[1]])
            for weight in [w, nil] as [Tensor?] {
                let got = Ops.channelRMSNorm(x, weight: weight, eps: 1e-6)
                let want = Naive.channelRMSNorm(x, weight: weight, eps: 1e-6)
                let diff = maxAbsDiff(got, want)
                #expect(diff <= 2e-6 * max(1, maxAbs(want)), "shape \(shape): max abs diff \(diff)")
            }
        }
        // Pixel (3, 4) over two channels: rms 5/√2; weights 2 and −1.
        let x = Tensor(shape: [1, 2, 1, 1], storage: [3, 4])
        let y = Ops.channelRMSNorm(x, weight: Tensor(shape: [2], storage: [2, -1]), eps: 0).storage
        #expect(abs(y[0] - 1.697_056_3) <= 1e-6 && abs(y[1] + 1.131_370_9) <= 1e-6, "\(y)")
    }

    @Test("nearest upsampling equals its naive twin, any factor")
    func upsample() {
        var rng = SplitMix64(seed: 71)
        for (shape, factor) in [([2, 3, 5, 7], 2), ([1, 1, 1, 1], 2), ([4, 9], 3), ([1, 2, 3, 4], 1), ([2, 64, 17, 19], 2)] {
            let x = rng.tensor(shape)
            #expect(Ops.upsampleNearest(x, factor: factor) == Naive.upsampleNearest(x, factor: factor), "\(shape) ×\(factor)")
        }
        let up = Ops.upsampleNearest(Tensor(shape: [1, 1, 1, 2], storage: [1, 2]))
        #expect(up.shape == [1, 1, 2, 4] && up.storage == [1, 1, 2, 2, 1, 1, 2, 2])
    }

    @Test("results are identical with 1, 2 and 3 threads")
    func threadCountIndependence() {
        var rng = SplitMix64(seed: 72)
        // Large enough that every op splits its work over the threads.
        let x = rng.tensor([2, 16, 40, 37]), w3 = rng.tensor([24, 16, 3, 3]), w1 = rng.tensor([24, 16, 1, 1])
        let b = rng.tensor([24]), g = rng.tensor([16])
        func run() -> [Tensor] {
            [
                Ops.conv2d(x, weight: w3, bias: b, padding: 1), Ops.conv2d(x, weight: w3, bias: b, stride: 2, padding: 1),
                Ops.conv2d(x, weight: w1, bias: b), Ops.channelRMSNorm(x, weight: g), Ops.upsampleNearest(x),
            ]
        }
        let one = Parallel.withThreads(1) { run() }
        for threads in [2, 3] {
            let many = Parallel.withThreads(threads) { run() }
            for (i, (a, b)) in zip(one, many).enumerated() {
                #expect(a == b, "op \(i): max abs diff \(maxAbsDiff(a, b)) between 1 and \(threads) threads")
            }
        }
    }

    @Test("output geometry")
    func geometry() {
        let g = Conv2DShape(input: [2, 5, 13, 11], weight: [7, 5, 3, 3], bias: [7], stride: 2, padding: 1)
        #expect(g.outShape == [2, 7, 7, 6] && g.patchSize == 45 && g.multiplyAdds == 2 * 7 * 7 * 6 * 45)
    }

    @Test("conv2d rejects channel mismatch")
    func rejectsChannels() async {
        await #expect(processExitsWith: .failure) {
            _ = Ops.conv2d(Tensor(shape: [1, 3, 4, 4]), weight: Tensor(shape: [2, 4, 3, 3]))
        }
    }

    @Test("conv2d rejects a non-square kernel, a bad bias, stride 0 and a kernel larger than the input")
    func rejectsShapes() async {
        await #expect(processExitsWith: .failure) {
            _ = Ops.conv2d(Tensor(shape: [1, 3, 4, 4]), weight: Tensor(shape: [2, 3, 3, 1]))
        }
        await #expect(processExitsWith: .failure) {
            _ = Ops.conv2d(Tensor(shape: [1, 3, 4, 4]), weight: Tensor(shape: [2, 3, 3, 3]), bias: Tensor(shape: [3]))
        }
        await #expect(processExitsWith: .failure) {
            _ = Ops.conv2d(Tensor(shape: [1, 3, 4, 4]), weight: Tensor(shape: [2, 3, 3, 3]), stride: 0)
        }
        await #expect(processExitsWith: .failure) {
            _ = Ops.conv2d(Tensor(shape: [1, 3, 2, 2]), weight: Tensor(shape: [2, 3, 5, 5]), padding: 1)
        }
    }

    @Test("channel norm and upsampling reject bad shapes")
    func rejectsNormAndUpsample() async {
        await #expect(processExitsWith: .failure) {
            _ = Ops.channelRMSNorm(Tensor(shape: [1, 3, 2, 2]), weight: Tensor(shape: [4]))
        }
        await #expect(processExitsWith: .failure) {
            _ = Ops.upsampleNearest(Tensor(shape: [1, 3, 2, 2]), factor: 0)
        }
    }
}
