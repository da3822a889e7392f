import StrobeKernels
import StrobeTensor
import Testing

/// The fused kernels are compiled three times (AVX-512, AVX2, baseline) and promise the same
/// bits from each: every build this CPU runs is run in turn on the same data and compared.
@Suite("Fused kernel builds")
struct KernelVariantTests {
    /// The builds this CPU can run, baseline first.
    static var variants: [strobe_kernel_set] {
        ["baseline", "avx2", "avx512"].compactMap { (name: String) in strobe_kernels_variant(name)?.pointee }
    }

    @Test("this CPU runs the baseline build and the one dispatch picks")
    func available() {
        let names = Self.variants.map { String(cString: $0.isa) }
        #expect(names.first == "baseline")
        #expect(names.last == Kernels.instructionSet, "dispatch uses the widest build: \(names)")
    }

    /// Runs `body` with each build on a fresh copy of `input`; expects identical bits.
    static func expectSameBits(
        _ label: String, input: [Float], _ body: (strobe_kernel_set, UnsafeMutablePointer<Float>) -> Void
    ) {
        var results: [(String, [Float])] = []
        for variant in variants {
            var data = input
            data.withUnsafeMutableBufferPointer { body(variant, $0.baseAddress!) }
            results.append((String(cString: variant.isa), data))
        }
        let (baseName, base) = results[0]
        for (name, result) in results.dropFirst() {
            let differing = zip(base, result).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(label): \(name) differs from \(baseName) in \(differing) of \(base.count) values")
        }
    }

    @Test("softmax, GELU, RMS modulation, head norm with RoPE and gated adds give the same bits in every build")
    func sameBits() {
        var rng = SplitMix64(seed: 91)
        for cols in [1, 7, 16, 33, 64, 200] {
            let rows = 5
            let x = (0..<rows * cols).map { _ in rng.uniform(-6...6) }
            Self.expectSameBits("softmax \(cols)", input: x) { v, p in v.softmax_rows(p, rows, cols) }
            Self.expectSameBits("gelu \(cols)", input: x) { v, p in v.gelu(p, rows * cols) }
            let (w, s, b) = ((0..<cols).map { _ in rng.uniform() }, (0..<cols).map { _ in rng.uniform() },
                             (0..<cols).map { _ in rng.uniform() })
            Self.expectSameBits("rms modulate \(cols)", input: x) { v, p in
                v.rms_modulate(p, cols, p, cols, rows, cols, w, s, b, 1e-6)
            }
            let y = (0..<rows * cols).map { _ in rng.uniform() }
            Self.expectSameBits("gated add \(cols)", input: x) { v, p in v.gated_add(p, y, rows, cols, w) }
        }
        let (heads, headDim, rows, length) = (3, 32, 6, 4)
        let x = (0..<rows * heads * headDim).map { _ in rng.uniform(-3...3) }
        let weight = (0..<headDim).map { _ in rng.uniform(0.5...1.5) }
        let cos = (0..<length * headDim / 2).map { _ in rng.uniform() }
        let sin = (0..<length * headDim / 2).map { _ in rng.uniform() }
        Self.expectSameBits("head norm + rope", input: x) { v, p in
            v.head_rms_rope(p, heads * headDim, rows, heads, headDim, weight, 1e-6, cos, sin, length, 1)
        }
    }
}
