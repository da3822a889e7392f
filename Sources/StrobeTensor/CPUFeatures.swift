import StrobeKernels

/// The CPU features that decide the kernels (CPUID and XGETBV).
public struct CPUFeatures: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// SSE3.
    public static let sse3 = CPUFeatures(rawValue: UInt32(STROBE_CPU_SSE3))
    /// AVX with the YMM state saved by the operating system.
    public static let avx = CPUFeatures(rawValue: UInt32(STROBE_CPU_AVX))
    /// AVX2 and FMA3.
    public static let avx2FMA = CPUFeatures(rawValue: UInt32(STROBE_CPU_AVX2_FMA))
    /// AVX-512 F, BW, VL and DQ with the ZMM state saved.
    public static let avx512 = CPUFeatures(rawValue: UInt32(STROBE_CPU_AVX512))
    /// AVX512_BF16.
    public static let avx512BF16 = CPUFeatures(rawValue: UInt32(STROBE_CPU_AVX512_BF16))

    /// The features of this machine's CPU.
    public static var current: CPUFeatures { CPUFeatures(rawValue: UInt32(strobe_cpu_features())) }

    /// The features by name, e.g. "SSE3 AVX AVX2+FMA AVX-512 AVX512_BF16" ("none" when empty).
    public var summary: String {
        let names: [(CPUFeatures, String)] = [
            (.sse3, "SSE3"), (.avx, "AVX"), (.avx2FMA, "AVX2+FMA"), (.avx512, "AVX-512"), (.avx512BF16, "AVX512_BF16"),
        ]
        let present = names.filter { contains($0.0) }.map(\.1)
        return present.isEmpty ? "none" : present.joined(separator: " ")
    }
}
