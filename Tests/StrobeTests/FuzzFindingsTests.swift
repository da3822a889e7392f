import Foundation
import Testing
@testable import Strobe

/// Inputs the fuzzers (`scripts/fuzz`, FuzzTesting/) found, rebuilt here in small form, each with
/// the behaviour its fix guarantees. The original inputs are in FuzzTesting/corpus/.
@Suite struct FuzzFindingsTests {
    /// `bytes` with `chunk` (raw: length, type, data, CRC as given) inserted after the IHDR chunk.
    static func inserting(_ chunk: [UInt8], afterIHDROf bytes: [UInt8]) -> [UInt8] {
        let end = 8 + 8 + 13 + 4  // signature, IHDR header, IHDR data, CRC
        return Array(bytes[..<end]) + chunk + Array(bytes[end...])
    }

    /// A chunk header declaring `length` bytes of type `type`, followed by `data` only.
    static func header(length: UInt32, type: String, data: [UInt8] = []) -> [UInt8] {
        withUnsafeBytes(of: length.bigEndian) { Array($0) } + Array(type.utf8) + data
    }

    /// png-oom-text-length: a 364-byte PNG whose tEXt chunk declared 184,549,462 bytes. libpng
    /// allocates a chunk's declared length before reading it, so decoding allocated 176 MiB
    /// (any length up to 2 GiB could be declared) before failing. Now the shim checks every
    /// chunk against the input first.
    @Test func chunkLongerThanTheInputIsRefusedBeforeLibpng() throws {
        let valid = try PNGCodec.encode(try sampleImage(width: 3, height: 2))
        let hostile = Self.inserting(
            Self.header(length: 0x0B00_0056, type: "tEXt", data: Array("parameters\0a red fox".utf8)),
            afterIHDROf: valid)
        let remaining = hostile.count - 33 - 12  // after the chunk's header and CRC
        #expect {
            try PNGCodec.decode(hostile)
        } throws: { error in
            guard case ImageError.decodingFailed(let message) = error else { return false }
            return message.contains("the chunk at byte 33 declares 184549462 data bytes, but \(remaining) remain")
        }
    }

    /// The check stops at IEND, as libpng does: bytes after it are not read.
    @Test func bytesAfterIENDAreIgnored() throws {
        let image = try sampleImage(width: 3, height: 2)
        let valid = try PNGCodec.encode(image)
        let decoded = try PNGCodec.decode(valid + Self.header(length: 0x7FFF_FFFF, type: "tEXt"))
        #expect(decoded.image == (try PNGCodec.decode(valid)).image)
    }
}
