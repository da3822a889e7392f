import StrobeTensor

/// Element types of weights format v1.
public enum WeightsDType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        }
    }
}

extension WeightsDType {
    /// Converts little-endian elements of `dtype` to fp32 (exactly: every F16 and BF16 value
    /// is representable in fp32).
    static func decode(_ raw: UnsafeRawBufferPointer, as dtype: WeightsDType) -> [Float] {
        switch dtype {
        case .f32:
            return (0..<(raw.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
            }
        case .f16: return HalfFloat.decodeF16(littleEndian: raw)
        case .bf16: return HalfFloat.decodeBF16(littleEndian: raw)
        }
    }
}
