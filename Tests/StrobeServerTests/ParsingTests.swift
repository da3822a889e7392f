import Foundation
import Testing
@testable import StrobeServer

/// The server's input parsers: multipart bodies, image headers, typed fields, the key check.
struct ParsingTests {
    static func form(_ boundary: String, _ parts: [(name: String, filename: String?, body: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        for part in parts {
            var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\""
            if let filename = part.filename { head += "; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream" }
            out += Array((head + "\r\n\r\n").utf8) + part.body + Array("\r\n".utf8)
        }
        return out + Array("--\(boundary)--\r\n".utf8)
    }

    @Test func multipartPartsComeBackWithTheirNamesAndBytes() throws {
        let binary: [UInt8] = [0, 13, 10, 45, 45, 255, 13, 10]            // CR LF and dashes inside a file
        let body = Self.form("XyZ", [("prompt", nil, Array("a lake".utf8)), ("image", "a.png", binary)])
        let parts = try Multipart.parse(body, boundary: "XyZ")
        #expect(parts.map(\.name) == ["prompt", "image"])
        #expect(parts[0].body == Array("a lake".utf8))
        #expect(parts[0].filename == nil)
        #expect(parts[1].filename == "a.png")
        #expect(parts[1].body == binary)
    }

    @Test func multipartBoundaryIsReadFromTheContentType() {
        #expect(Multipart.boundary(contentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(Multipart.boundary(contentType: "Multipart/Form-Data; charset=utf-8; boundary=\"q r\"") == "q r")
        #expect(Multipart.boundary(contentType: "application/json") == nil)
        #expect(Multipart.boundary(contentType: "multipart/form-data") == nil)
    }

    @Test(arguments: [
        "no delimiter at all",
        "--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nunterminated",
        "--B\r\nContent-Disposition: form-data\r\n\r\nv\r\n--B--",
        "--Bjunk",
    ])
    func malformedMultipartIsA400(_ text: String) {
        #expect(throws: APIError.self) { try Multipart.parse(Array(text.utf8), boundary: "B") }
        do {
            _ = try Multipart.parse(Array(text.utf8), boundary: "B")
        } catch {
            #expect(error.status == .badRequest)
            #expect(error.code == "invalid_multipart")
        }
    }

    /// A PNG signature and IHDR declaring `width`×`height`, nothing else.
    static func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + be(width) + be(height)
            + [8, 2, 0, 0, 0, 0, 0, 0, 0]
    }

    @Test func pngAndJPEGHeadersGiveTheDeclaredSize() {
        #expect(ImageHeader.read(Self.pngHeader(width: 100_000, height: 70_000)) == ImageHeader(format: "png", width: 100_000, height: 70_000))
        // SOI, an APP0 segment of 16 bytes, then SOF0: length 17, precision 8, height 600, width 800.
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0, 16] + Array(repeating: 0, count: 14)
            + [0xFF, 0xC0, 0, 17, 8, 0x02, 0x58, 0x03, 0x20, 3]
        #expect(ImageHeader.read(jpeg) == ImageHeader(format: "jpeg", width: 800, height: 600))
        #expect(ImageHeader.read(Array("GIF89a....".utf8)) == nil)
        #expect(ImageHeader.read([0xFF, 0xD8, 0xFF, 0xDA, 0, 2]) == nil)          // scan before any frame
        #expect(ImageHeader.read([]) == nil)
    }

    @Test func fieldsAreReadWithStrictTypes() throws {
        let fields = try RequestFields.json(Array(#"{"n": 2, "x": 2.0, "s": "7", "b": true, "big": 18446744073709551615, "z": null}"#.utf8))
        #expect(try fields.int("n") == 2)
        #expect(try fields.int("x") == 2)
        #expect(try fields.seed("s") == 7)
        #expect(try fields.bool("b") == true)
        #expect(try fields.string("z") == nil)
        #expect(throws: APIError.self) { try fields.int("b") }
        #expect(throws: APIError.self) { try fields.string("n") }
        #expect(throws: APIError.self) { try fields.checkKnown(["n", "x"]) }
        let form = RequestFields(values: ["n": .text("3"), "strength": .text("0.5"), "stream": .text("true"), "bad": .text("x")])
        #expect(try form.int("n") == 3)
        #expect(try form.double("strength") == 0.5)
        #expect(try form.bool("stream") == true)
        #expect(throws: APIError.self) { try form.int("bad") }
        for text in ["{", "[1, 2]", "\"a\"", ""] {
            #expect(throws: APIError.self) { try RequestFields.json(Array(text.utf8)) }
        }
    }

    @Test func apiKeysCompareExactly() {
        let key = Array("s3cret-key".utf8)
        #expect(APIKeyMiddleware<TestContext>.constantTimeEqual(key, key))
        #expect(!APIKeyMiddleware<TestContext>.constantTimeEqual(Array("s3cret-kez".utf8), key))
        #expect(!APIKeyMiddleware<TestContext>.constantTimeEqual(Array("s3cret".utf8), key))
        #expect(!APIKeyMiddleware<TestContext>.constantTimeEqual([], key))
        #expect(!APIKeyMiddleware<TestContext>.constantTimeEqual(key + [0], key))
    }
}
