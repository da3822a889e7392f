/// Conversions between fp32 and the 16-bit storage formats F16 (IEEE 754 binary16) and BF16
/// (bfloat16, the top half of an fp32).
///
/// Decoding is exact for every bit pattern: zeros, subnormals, infinities and NaNs (NaN payloads
/// are kept in the high mantissa bits). Encoding rounds to nearest, ties to even, overflows to
/// infinity and turns NaN into a quiet NaN with the same sign.
public enum HalfFloat {
    // MARK: Scalars

    /// The fp32 value of an F16 bit pattern.
    @inlinable
    public static func float(fromF16 bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa · 2^-24, exact in fp32.
            let magnitude = Float(mantissa) * 0x1p-24
            return Float(bitPattern: magnitude.bitPattern | sign)
        }
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    /// The fp32 value of a BF16 bit pattern.
    @inlinable
    public static func float(fromBF16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// The F16 bit pattern nearest to `value` (round to nearest even).
    @inlinable
    public static func f16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x7F_FFFF
        if exponent == 0xFF {  // inf or NaN
            return mantissa == 0
                ? sign | 0x7C00 : sign | 0x7E00 | UInt16(truncatingIfNeeded: mantissa >> 13)
        }
        let halfExponent = exponent - 127 + 15
        if halfExponent >= 0x1F { return sign | 0x7C00 }  // overflow
        if halfExponent <= 0 {
            // Subnormal result (or zero): units of 2^-24.
            if halfExponent < -10 { return sign }  // below half the smallest subnormal
            let full = mantissa | 0x80_0000
            let shift = UInt32(14 - halfExponent)  // 14...24
            var half = full >> shift
            let remainder = full & ((1 << shift) - 1)
            let halfway: UInt32 = 1 << (shift - 1)
            if remainder > halfway || (remainder == halfway && half & 1 == 1) { half += 1 }
            return sign | UInt16(truncatingIfNeeded: half)
        }
        var half = UInt32(halfExponent) << 10 | (mantissa >> 13)
        let remainder = mantissa & 0x1FFF
        if remainder > 0x1000 || (remainder == 0x1000 && half & 1 == 1) {
            half += 1  // a carry into the exponent is correct, up to infinity
        }
        return sign | UInt16(truncatingIfNeeded: half)
    }

    /// The BF16 bit pattern nearest to `value` (round to nearest even).
    @inlinable
    public static func bf16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN {
            return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040  // quiet, same sign
        }
        let rounding = 0x7FFF + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    // MARK: Buffers

    /// Decodes little-endian F16 data (2 bytes per element, any alignment) to fp32.
    public static func decodeF16(littleEndian bytes: UnsafeRawBufferPointer) -> [Float] {
        decode(bytes) { float(fromF16: $0) }
    }

    /// Decodes little-endian BF16 data (2 bytes per element, any alignment) to fp32.
    public static func decodeBF16(littleEndian bytes: UnsafeRawBufferPointer) -> [Float] {
        decode(bytes) { float(fromBF16: $0) }
    }

    /// Decodes F16 bit patterns to fp32.
    public static func decodeF16(_ bits: [UInt16]) -> [Float] { bits.map { float(fromF16: $0) } }

    /// Decodes BF16 bit patterns to fp32.
    public static func decodeBF16(_ bits: [UInt16]) -> [Float] { bits.map { float(fromBF16: $0) } }

    /// Encodes fp32 values as F16 bit patterns (round to nearest even).
    public static func encodeF16(_ values: [Float]) -> [UInt16] { values.map { f16Bits(from: $0) } }

    /// Encodes fp32 values as BF16 bit patterns (round to nearest even).
    public static func encodeBF16(_ values: [Float]) -> [UInt16] { values.map { bf16Bits(from: $0) } }

    /// Encodes fp32 values as little-endian F16 bytes, ready to write to a file.
    public static func encodeF16LittleEndian(_ values: [Float]) -> [UInt8] {
        littleEndianBytes(encodeF16(values))
    }

    /// Encodes fp32 values as little-endian BF16 bytes, ready to write to a file.
    public static func encodeBF16LittleEndian(_ values: [Float]) -> [UInt8] {
        littleEndianBytes(encodeBF16(values))
    }

    private static func decode(
        _ bytes: UnsafeRawBufferPointer, _ convert: (UInt16) -> Float
    ) -> [Float] {
        precondition(bytes.count % 2 == 0, "16-bit data has an odd byte count \(bytes.count)")
        let count = bytes.count / 2
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            for i in 0..<count {
                let raw = bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                out[i] = convert(UInt16(littleEndian: raw))
            }
            initialized = count
        }
    }

    private static func littleEndianBytes(_ bits: [UInt16]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 2 * bits.count)
        for (i, b) in bits.enumerated() {
            bytes[2 * i] = UInt8(truncatingIfNeeded: b)
            bytes[2 * i + 1] = UInt8(truncatingIfNeeded: b >> 8)
        }
        return bytes
    }
}

extension Tensor {
    /// A tensor decoded from little-endian F16 data.
    /// - Precondition: `bytes.count == 2 * shape.product`.
    public init(shape: [Int], f16LittleEndian bytes: UnsafeRawBufferPointer) {
        precondition(
            bytes.count == 2 * shape.reduce(1, *),
            "F16 data of \(bytes.count) bytes does not fit shape \(shape)")
        self.init(shape: shape, storage: HalfFloat.decodeF16(littleEndian: bytes))
    }

    /// A tensor decoded from little-endian BF16 data.
    /// - Precondition: `bytes.count == 2 * shape.product`.
    public init(shape: [Int], bf16LittleEndian bytes: UnsafeRawBufferPointer) {
        precondition(
            bytes.count == 2 * shape.reduce(1, *),
            "BF16 data of \(bytes.count) bytes does not fit shape \(shape)")
        self.init(shape: shape, storage: HalfFloat.decodeBF16(littleEndian: bytes))
    }
}
