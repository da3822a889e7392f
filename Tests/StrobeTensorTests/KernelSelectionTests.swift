import StrobeTensor
import Testing

/// The rule that picks OpenBLAS's kernel family from the CPU's features (`BLAS.chooseCore`).
@Suite("BLAS kernel selection")
struct KernelSelectionTests {
    /// The families of Debian's OpenBLAS 0.3.21 that Strobe may switch to.
    static let debian = ["Cooperlake", "SkylakeX", "Haswell", "Sandybridge"]

    static let sse: CPUFeatures = [.sse3]
    static let avx: CPUFeatures = [.sse3, .avx]
    static let avx2: CPUFeatures = [.sse3, .avx, .avx2FMA]
    static let avx512: CPUFeatures = [.sse3, .avx, .avx2FMA, .avx512]
    static let avx512bf16: CPUFeatures = [.sse3, .avx, .avx2FMA, .avx512, .avx512BF16]

    struct Case: Sendable, CustomTestStringConvertible {
        let cpu: String
        let features: CPUFeatures
        let openblas: String
        let available: [String]
        let expected: String
        var testDescription: String { "\(cpu), OpenBLAS chose \(openblas) → \(expected)" }
    }

    static let cases: [Case] = [
        // OpenBLAS 0.3.21 picks AVX2 kernels on Zen 4/5 (or names them Zen).
        Case(cpu: "AMD Zen 5", features: avx512bf16, openblas: "Haswell", available: debian, expected: "Cooperlake"),
        Case(cpu: "AMD Zen 4", features: avx512bf16, openblas: "Zen", available: debian, expected: "Cooperlake"),
        Case(cpu: "AMD Zen 3", features: avx2, openblas: "Zen", available: debian, expected: "Zen"),
        // Intel parts missing from OpenBLAS's table fall back to its SSE3 kernels.
        Case(cpu: "Sapphire-Rapids-class Xeon", features: avx512bf16, openblas: "Prescott", available: debian,
             expected: "Cooperlake"),
        Case(cpu: "Skylake-X", features: avx512, openblas: "SkylakeX", available: debian, expected: "SkylakeX"),
        Case(cpu: "Skylake-X, unknown model", features: avx512, openblas: "Prescott", available: debian,
             expected: "SkylakeX"),
        Case(cpu: "Haswell", features: avx2, openblas: "Haswell", available: debian, expected: "Haswell"),
        Case(cpu: "Haswell-class, unknown model", features: avx2, openblas: "Prescott", available: debian,
             expected: "Haswell"),
        Case(cpu: "Sandy Bridge (no AVX2)", features: avx, openblas: "Prescott", available: debian, expected: "Sandybridge"),
        Case(cpu: "SSE3 only", features: sse, openblas: "Prescott", available: debian, expected: "Prescott"),
        Case(cpu: "SSE3 only, Nehalem", features: sse, openblas: "Nehalem", available: debian, expected: "Nehalem"),
        // Already right, or nothing wider in the library.
        Case(cpu: "Cooper Lake", features: avx512bf16, openblas: "Cooperlake", available: debian, expected: "Cooperlake"),
        Case(cpu: "Sapphire Rapids, newer OpenBLAS", features: avx512bf16, openblas: "Sapphirerapids",
             available: debian, expected: "Sapphirerapids"),
        Case(cpu: "Zen 5, OpenBLAS without Cooperlake", features: avx512bf16, openblas: "Haswell",
             available: ["SkylakeX", "Haswell", "Sandybridge"], expected: "SkylakeX"),
        Case(cpu: "Zen 5, OpenBLAS without AVX-512 kernels", features: avx512bf16, openblas: "Haswell",
             available: ["Haswell", "Sandybridge"], expected: "Haswell"),
        Case(cpu: "a family the rule does not rank", features: avx512bf16, openblas: "Zen6", available: debian,
             expected: "Zen6"),
        Case(cpu: "names in other cases", features: avx512, openblas: "PRESCOTT", available: ["skylakex"],
             expected: "SkylakeX"),
    ]

    @Test(arguments: cases)
    func choice(_ c: Case) {
        let (core, reason) = BLAS.chooseCore(features: c.features, openblasChoice: c.openblas, available: c.available)
        #expect(core.lowercased() == c.expected.lowercased(), "\(c.cpu): got \(core) (\(reason))")
        #expect(reason.contains(c.openblas), "the reason names OpenBLAS's choice: \(reason)")
        if core.lowercased() != c.openblas.lowercased() {
            #expect(reason.hasSuffix(core), "the reason ends with the family chosen: \(reason)")
        }
    }

    @Test("every candidate the CPU can run is wider than the next one")
    func candidatesWidestFirst() {
        let candidates = BLAS.candidateCores
        #expect(candidates == Self.debian)
        for (wider, narrower) in zip(candidates, candidates.dropFirst()) {
            #expect(BLAS.requirements(of: wider).isStrictSuperset(of: BLAS.requirements(of: narrower)))
        }
        #expect(BLAS.requirements(of: "NoSuchCore").isEmpty)
    }

    @Test("the linked OpenBLAS is asked for its families by name")
    func linkedLibrary() {
        #expect(!BLAS.hasCore("NoSuchCore"))
        #expect(BLAS.hasCore("Prescott"), "every x86-64 DYNAMIC_ARCH build has the Prescott kernels")
        // What this CPU can run, widest first, always ends with the SSE3 baseline.
        #expect(BLAS.runnableCores.last == "Prescott")
        for core in BLAS.runnableCores {
            #expect(CPUFeatures.current.isSuperset(of: BLAS.requirements(of: core)))
        }
    }
}
