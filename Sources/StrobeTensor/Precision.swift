import StrobeKernels

/// The number format of the matrix products.
///
/// - `fp32`: OpenBLAS sgemm; the default, bit-exact against the reference fixtures.
/// - `bf16`: inputs rounded to bfloat16 (nearest even), products accumulated in fp32, on CPUs
///   with AVX512_BF16 (``isSupported``). About twice the arithmetic rate; images agree with fp32
///   to 40 dB PSNR or better, and are deterministic across thread counts like fp32's.
public enum Precision: String, Codable, Sendable, CaseIterable {
    case fp32, bf16

    /// Whether this CPU runs the precision (fp32 always; bf16 with AVX-512 and AVX512_BF16).
    public var isSupported: Bool {
        switch self {
        case .fp32: true
        case .bf16: strobe_bf16_supported() != 0
        }
    }

    /// Why this CPU cannot run the precision, or nil when it can.
    public var unsupportedReason: String? {
        isSupported ? nil : "this CPU has no AVX512_BF16 instructions (bf16 needs AVX-512 F/BW/VL/DQ and AVX512_BF16)"
    }
}
