import StrobeTensor
import Testing

@Suite("F16 and BF16 conversion")
struct HalfFloatTests {
    @Test("F16 decoding of known bit patterns is exact")
    func f16KnownPatterns() {
        let cases: [(UInt16, Float)] = [
            (0x3C00, 1.0), (0xBC00, -1.0), (0xC000, -2.0), (0x7BFF, 65504.0), (0x3555, 0.333_251_95),
            (0x0001, 0x1p-24), (0x03FF, 1023 * 0x1p-24), (0x0400, 0x1p-14), (0x0000, 0.0),
            (0x7C00, .infinity), (0xFC00, -.infinity), (0x8001, -0x1p-24),
        ]
        for (bits, value) in cases {
            #expect(HalfFloat.float(fromF16: bits) == value, "0x\(String(bits, radix: 16))")
        }
        #expect(HalfFloat.float(fromF16: 0x8000).bitPattern == 0x8000_0000)  // -0
        #expect(HalfFloat.float(fromF16: 0x7E00).isNaN)
        #expect(HalfFloat.float(fromF16: 0xFE01).isNaN)
    }

    @Test("BF16 decoding of known bit patterns is exact")
    func bf16KnownPatterns() {
        let cases: [(UInt16, Float)] = [
            (0x3F80, 1.0), (0xBF80, -1.0), (0x4000, 2.0), (0x3E80, 0.25), (0x4049, 3.140625),
            (0x7F7F, Float(bitPattern: 0x7F7F_0000)), (0x0001, Float(bitPattern: 0x0001_0000)),
            (0x7F80, .infinity), (0xFF80, -.infinity), (0x0000, 0),
        ]
        for (bits, value) in cases {
            #expect(HalfFloat.float(fromBF16: bits) == value, "0x\(String(bits, radix: 16))")
        }
        #expect(HalfFloat.float(fromBF16: 0x7FC0).isNaN)
    }

    @Test("F16 encoding rounds to nearest even and overflows to infinity")
    func f16Encoding() {
        let cases: [(Float, UInt16)] = [
            (1.0, 0x3C00), (-2.0, 0xC000), (65504, 0x7BFF), (65519, 0x7BFF), (65520, 0x7C00),
            (1e6, 0x7C00), (-1e6, 0xFC00), (.infinity, 0x7C00), (0x1p-24, 0x0001),
            (0x1p-25, 0x0000),  // exactly half the smallest subnormal: tie to even (0)
            (0x1.8p-25, 0x0001), (0x1.8p-24, 0x0002),  // 1.5 units: tie to even (2)
            (0x1p-26, 0x0000), (0x1p-14, 0x0400), (1 + 0x1p-11, 0x3C00), (1 + 0x1.8p-10, 0x3C02),
            (1 + 0x1p-10 + 0x1p-11, 0x3C02), (-0.0, 0x8000), (0x1.ffcp-15, 0x0400),
        ]
        for (value, bits) in cases {
            let got = HalfFloat.f16Bits(from: value)
            #expect(got == bits, "\(value) -> 0x\(String(got, radix: 16)), expected 0x\(String(bits, radix: 16))")
        }
        let nan = HalfFloat.f16Bits(from: .nan)
        #expect(nan & 0x7C00 == 0x7C00 && nan & 0x3FF != 0)
    }

    @Test("BF16 encoding rounds to nearest even")
    func bf16Encoding() {
        #expect(HalfFloat.bf16Bits(from: 1.0) == 0x3F80)
        #expect(HalfFloat.bf16Bits(from: Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie -> even
        #expect(HalfFloat.bf16Bits(from: Float(bitPattern: 0x3F81_8000)) == 0x3F82)  // tie -> even
        #expect(HalfFloat.bf16Bits(from: Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(HalfFloat.bf16Bits(from: .greatestFiniteMagnitude) == 0x7F80)  // rounds up to inf
        #expect(HalfFloat.bf16Bits(from: -.infinity) == 0xFF80)
        let nan = HalfFloat.bf16Bits(from: -.nan)
        #expect(nan & 0x7F80 == 0x7F80 && nan & 0x7F != 0 && nan & 0x8000 != 0)
    }

    @Test("every F16 and BF16 bit pattern round-trips")
    func exhaustiveRoundTrip() {
        var failures: [String] = []
        for raw in 0...UInt16.max {
            let f = HalfFloat.float(fromF16: raw)
            let back = HalfFloat.f16Bits(from: f)
            if f.isNaN ? back & 0x7C00 != 0x7C00 || back & 0x3FF == 0 : back != raw {
                failures.append("F16 0x\(String(raw, radix: 16)) -> \(f) -> 0x\(String(back, radix: 16))")
            }
            let g = HalfFloat.float(fromBF16: raw)
            let backBF = HalfFloat.bf16Bits(from: g)
            if !g.isNaN && backBF != raw {
                failures.append("BF16 0x\(String(raw, radix: 16)) -> \(g) -> 0x\(String(backBF, radix: 16))")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
    }

    #if !(os(macOS) && arch(x86_64))
    @Test("F16 conversion agrees with Swift's Float16, both ways")
    func agreesWithFloat16() {
        var failures: [String] = []
        for raw in 0...UInt16.max where !Float16(bitPattern: raw).isNaN {
            if HalfFloat.float(fromF16: raw) != Float(Float16(bitPattern: raw)) {
                failures.append("decode 0x\(String(raw, radix: 16))")
            }
        }
        var rng = SplitMix64(seed: 16)
        for i in 0..<40_000 {
            // Random bit patterns cover every exponent; the second half sits near F16's range.
            let bits = UInt32(truncatingIfNeeded: rng.next())
            let value = i % 2 == 0
                ? Float(bitPattern: bits)
                : Float(bitPattern: (bits & 0x807F_FFFF) | (UInt32(96 + bits % 50) << 23))
            if value.isNaN { continue }
            let got = HalfFloat.f16Bits(from: value), expected = Float16(value).bitPattern
            if got != expected {
                failures.append("encode \(value): 0x\(String(got, radix: 16)) vs 0x\(String(expected, radix: 16))")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
    }
    #endif

    @Test("little-endian buffers decode and encode, at any alignment")
    func buffers() {
        let bytes: [UInt8] = [0xAA, 0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00]
        let f16 = bytes.withUnsafeBytes {
            HalfFloat.decodeF16(littleEndian: UnsafeRawBufferPointer(rebasing: $0[1..<7]))
        }
        #expect(f16 == [1.0, -2.0, 0x1p-24])
        let bf16 = [UInt8]([0x80, 0x3F, 0x00, 0xC0]).withUnsafeBytes { HalfFloat.decodeBF16(littleEndian: $0) }
        #expect(bf16 == [1.0, -2.0])
        let values: [Float] = [1, -2, 0.5, 65504, 0x1p-24]
        let encoded = HalfFloat.encodeF16LittleEndian(values)
        #expect(Array(encoded.prefix(4)) == [0x00, 0x3C, 0x00, 0xC0])
        #expect(encoded.withUnsafeBytes { HalfFloat.decodeF16(littleEndian: $0) } == values)
        #expect(HalfFloat.encodeBF16LittleEndian([1, -2]) == [0x80, 0x3F, 0x00, 0xC0])
        let t = encoded.withUnsafeBytes { Tensor(shape: [5], f16LittleEndian: $0) }
        #expect(t.storage == values)
        let u = HalfFloat.encodeBF16LittleEndian([1, 3]).withUnsafeBytes { Tensor(shape: [2, 1], bf16LittleEndian: $0) }
        #expect(u.storage == [1, 3])
        #expect(HalfFloat.decodeBF16(HalfFloat.encodeBF16([1, 3])) == [1, 3])
        #expect(HalfFloat.decodeF16(HalfFloat.encodeF16([0.25, -65504])) == [0.25, -65504])
    }
}
