import Foundation
import Testing
@testable import Strobe

/// What each fixture from `python/strobe_tools/make_png_fixtures.py` must decode to.
struct PNGFixtureExpectation: Decodable {
    var width: Int
    var height: Int
    var max_value: Int
    var color_type: Int
    var bit_depth: Int
    var interlaced: Bool
    var rgb: [Int]
    var text: [[String]]

    static let all: [String: PNGFixtureExpectation] = {
        let url = Bundle.module.url(forResource: "Fixtures/png/expected", withExtension: "json")!
        return try! JSONDecoder().decode([String: PNGFixtureExpectation].self, from: Data(contentsOf: url))
    }()
}

func pngFixture(_ name: String) throws -> [UInt8] {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/png/" + name, withExtension: nil))
    return [UInt8](try Data(contentsOf: url))
}

/// A fresh empty directory under the system temporary directory.
func makeScratchDirectory() throws -> String { try TemporaryFile.directory().path }

func directoryEntries(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}

/// A small image with varied samples, some outside [0, 1].
func sampleImage(width: Int = 13, height: Int = 6) throws -> RGBImage {
    let pixels = (0..<(3 * width * height)).map { i in Float((i * 7919) % 271) / 256 - 0.02 }
    return try RGBImage(width: width, height: height, pixels: pixels)
}

/// The chunk types in PNG bytes, in order.
func chunkTypes(_ bytes: [UInt8]) -> [String] {
    var types: [String] = []
    var offset = 8
    while offset + 8 <= bytes.count {
        let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
        types.append(String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self))
        offset += 12 + length
    }
    return types
}

@Suite("PNG decoding")
struct PNGDecodingTests {
    @Test("fixture decodes to the expected RGB and text", arguments: PNGFixtureExpectation.all.keys.sorted())
    func fixture(_ name: String) throws {
        let want = try #require(PNGFixtureExpectation.all[name])
        let file = try PNGCodec.decode(try pngFixture(name))
        #expect(file.image.width == want.width && file.image.height == want.height)
        #expect(file.sourceColorType.rawValue == want.color_type)
        #expect(file.sourceBitDepth == want.bit_depth)
        #expect(file.interlaced == want.interlaced)
        let planeSize = want.width * want.height
        var mismatches = 0
        for i in 0..<planeSize {
            for c in 0..<3 where file.image.pixels[c * planeSize + i] != Float(want.rgb[3 * i + c]) / Float(want.max_value) {
                mismatches += 1
            }
        }
        #expect(mismatches == 0, "\(name): \(mismatches) samples differ")
        #expect(file.text.map { [$0.key, $0.text] } == want.text)
    }

    @Test("corrupt fixture gives a decoding error with libpng's message",
          arguments: ["corrupt_truncated.png", "corrupt_crc.png", "corrupt_zlib.png", "corrupt_signature.png"])
    func corruptFixture(_ name: String) throws {
        let bytes = try pngFixture(name)
        #expect {
            try PNGCodec.decode(bytes)
        } throws: { error in
            guard case let ImageError.decodingFailed(message) = error else { return false }
            return !message.isEmpty
        }
    }

    @Test("every truncation of a valid PNG is an error, never a crash")
    func truncations() throws {
        let bytes = try pngFixture("rgb8.png")
        var failures = 0
        for length in 0..<bytes.count {
            do {
                _ = try PNGCodec.decode(Array(bytes.prefix(length)))
            } catch {
                failures += 1
            }
        }
        #expect(failures == bytes.count)
    }

    @Test("images larger than maxPixels are refused")
    func pixelLimit() throws {
        #expect(throws: ImageError.self) { try PNGCodec.decode(try pngFixture("rgb8.png"), maxPixels: 10) }
    }

    @Test("reading a missing file or a directory throws")
    func readErrors() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: ImageError.fileNotFound(path: dir + "/none.png")) { try PNGCodec.read(from: dir + "/none.png") }
        #expect(throws: ImageError.isADirectory(path: dir)) { try PNGCodec.read(from: dir) }
    }
}

@Suite("PNG encoding")
struct PNGEncodingTests {
    let parameters = A1111Parameters(prompt: "a lighthouse at dusk\nsecond line", steps: 4, sampler: "tvm",
                                     seed: 18_446_744_073_709_551_615, width: 13, height: 6, model: "strobe-tiny",
                                     version: "Strobe 0.1.0")

    @Test("A1111 parameters text")
    func a1111Text() {
        #expect(parameters.text == "a lighthouse at dusk\nsecond line\nSteps: 4, Sampler: tvm, "
            + "Seed: 18446744073709551615, Size: 13x6, Model: strobe-tiny, Version: Strobe 0.1.0")
    }

    @Test("round trip keeps pixels (quantised) and metadata in order")
    func roundTrip() throws {
        let image = try sampleImage()
        let text: [PNGTextChunk] = [.parameters(parameters), .strobe(json: #"{"prompt":"café ☕ 猫","seed":1}"#),
                                    PNGTextChunk(key: "Comment", text: "naïve Latin-1")]
        let bytes = try PNGCodec.encode(image, text: text)
        #expect(chunkTypes(bytes) == ["IHDR", "tEXt", "iTXt", "tEXt", "IDAT", "IEND"])
        let file = try PNGCodec.decode(bytes)
        #expect(file.text == text)
        #expect(file.text(forKey: "parameters") == parameters.text)
        #expect(file.sourceColorType == .rgb && file.sourceBitDepth == 8 && !file.interlaced)
        let expected = try RGBImage(width: image.width, height: image.height, rgb8: image.rgb8())
        #expect(file.image == expected)
    }

    @Test("no metadata writes no text chunks; encoding is deterministic")
    func noMetadata() throws {
        let image = try sampleImage()
        let bytes = try PNGCodec.encode(image, text: [])
        #expect(chunkTypes(bytes) == ["IHDR", "IDAT", "IEND"])
        #expect(try PNGCodec.encode(image, text: []) == bytes)
        #expect(try PNGCodec.decode(bytes).text.isEmpty)
    }

    @Test("invalid keys and text are rejected before encoding")
    func invalidText() throws {
        let image = try sampleImage()
        for key in ["", String(repeating: "k", count: 80), " lead", "trail ", "two  spaces", "tab\tkey", "日本"] {
            #expect(throws: ImageError.self) { try PNGCodec.encode(image, text: [PNGTextChunk(key: key, text: "x")]) }
        }
        #expect(throws: ImageError.invalidText(key: "k", reason: "contains a NUL character")) {
            try PNGCodec.encode(image, text: [PNGTextChunk(key: "k", text: "a\u{0}b")])
        }
    }

    @Test("encode checks the pixel buffer")
    func encodeChecks() {
        #expect(throws: ImageError.pixelCountMismatch(expected: 6, actual: 5)) {
            try PNGCodec.encode(rgb8: [1, 2, 3, 4, 5], width: 2, height: 1)
        }
        #expect(throws: ImageError.invalidSize(width: 0, height: 1)) { try PNGCodec.encode(rgb8: [], width: 0, height: 1) }
    }
}

@Suite("RGBImage")
struct RGBImageTests {
    @Test("8-bit conversion clamps and rounds half to even")
    func quantize() {
        #expect(RGBImage.quantize(-0.5) == 0)
        #expect(RGBImage.quantize(.nan) == 0)
        #expect(RGBImage.quantize(1.5) == 255)
        #expect(RGBImage.quantize(.infinity) == 255)
        for k in 0...255 { #expect(RGBImage.quantize(Float(k) / 255) == UInt8(k)) }
        var halfwayCases = 0
        for k in 0..<255 {
            let half = Float(k) + 0.5
            let v = half / 255
            guard v * 255 == half else { continue }
            halfwayCases += 1
            #expect(RGBImage.quantize(v) == UInt8(k % 2 == 0 ? k : k + 1), "k = \(k)")
        }
        #expect(halfwayCases > 10)
    }

    @Test("planar layout, tensor conversion and interleaved bytes")
    func layout() throws {
        // 2x1 image: red plane [0, 1], green [0.5, 0], blue [1, 0].
        let image = try RGBImage(width: 2, height: 1, pixels: [0, 1, 0.5, 0, 1, 0])
        #expect(image.rgb8() == [0, 128, 255, 255, 0, 0])
        #expect(image[0, 0, 1] == 1)
        #expect(try RGBImage(tensor: image.tensor) == image)
        #expect(try RGBImage(tensor: Tensor(shape: [1, 3, 1, 2], storage: image.pixels)) == image)
        #expect(throws: ImageError.invalidTensorShape([4, 1, 2])) { try RGBImage(tensor: Tensor(shape: [4, 1, 2])) }
        #expect(throws: ImageError.pixelCountMismatch(expected: 6, actual: 5)) {
            try RGBImage(width: 2, height: 1, pixels: [0, 0, 0, 0, 0])
        }
    }
}

@Suite("Atomic PNG files")
struct AtomicWriteTests {
    @Test("write then read back; no temporary file left")
    func writeRead() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = try sampleImage()
        let path = dir + "/out.png"
        try PNGCodec.write(image, to: path, text: [PNGTextChunk(key: "parameters", text: "p")])
        #expect(directoryEntries(dir) == ["out.png"])
        let file = try PNGCodec.read(from: path)
        #expect(file.image == (try RGBImage(width: image.width, height: image.height, rgb8: image.rgb8())))
        #expect(file.text(forKey: "parameters") == "p")
    }

    @Test("existing file: refused without overwrite (left intact), replaced with it")
    func overwrite() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/out.png"
        try AtomicFileWriter.write([1, 2, 3], to: path)
        #expect(throws: ImageError.fileExists(path: path)) { try AtomicFileWriter.write([4, 5], to: path) }
        #expect(FileManager.default.contents(atPath: path) == Data([1, 2, 3]))
        try AtomicFileWriter.write([4, 5], to: path, overwrite: true)
        #expect(FileManager.default.contents(atPath: path) == Data([4, 5]))
        #expect(directoryEntries(dir) == ["out.png"])
    }

    @Test("missing directory, file as directory, directory as destination")
    func pathErrors() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AtomicFileWriter.write([0], to: dir + "/plain")
        #expect(throws: ImageError.directoryMissing(path: dir + "/missing")) {
            try AtomicFileWriter.write([1], to: dir + "/missing/out.png")
        }
        #expect(throws: ImageError.notADirectory(path: dir + "/plain")) {
            try AtomicFileWriter.write([1], to: dir + "/plain/out.png")
        }
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: false)
        #expect(throws: ImageError.isADirectory(path: dir + "/sub")) {
            try AtomicFileWriter.write([1], to: dir + "/sub", overwrite: true)
        }
        #expect(directoryEntries(dir) == ["plain", "sub"])
        #expect(directoryEntries(dir + "/sub").isEmpty)
    }

    @Test("unwritable directories (even for root)", arguments: ["/proc", "/sys"])
    func unwritable(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else { return }
        let path = directory + "/strobe-test-\(UUID().uuidString).png"
        #expect {
            try AtomicFileWriter.write([1, 2, 3], to: path)
        } throws: { error in
            if case ImageError.notWritable = error { return true }
            return false
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("a full disk mid-write leaves no file and no temporary")
    func diskFull() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bytes = try PNGCodec.encode(try sampleImage())
        for limit in [0, 1, bytes.count / 2, bytes.count - 1] {
            #expect(throws: ImageError.diskFull(path: dir + "/out.png")) {
                try AtomicFileWriter.write(bytes, to: dir + "/out.png", overwrite: false, failAfterBytes: limit)
            }
        }
        #expect(directoryEntries(dir).isEmpty)
        // The same seam with room for every byte succeeds.
        try AtomicFileWriter.write(bytes, to: dir + "/out.png", overwrite: false, failAfterBytes: bytes.count)
        #expect(FileManager.default.contents(atPath: dir + "/out.png") == Data(bytes))
    }

    @Test("a failed overwrite keeps the old file")
    func failedOverwrite() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/out.png"
        try AtomicFileWriter.write([9, 9], to: path)
        #expect(throws: ImageError.diskFull(path: path)) {
            try AtomicFileWriter.write([1, 2, 3, 4], to: path, overwrite: true, failAfterBytes: 2)
        }
        #expect(FileManager.default.contents(atPath: path) == Data([9, 9]))
        #expect(directoryEntries(dir) == ["out.png"])
    }
}
