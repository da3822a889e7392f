import PNGShim
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// PNG encoding and decoding in memory, through libpng.
///
/// Output is deterministic: the same pixels, text and compression level give the same bytes
/// (no time chunk is written).
public enum PNGCodec {
    /// zlib level 4: on generated 256×256 images about 3× faster to encode than zlib's default
    /// level 6 (5.7 vs 16.6 ms) for files about 3 % larger.
    public static let defaultCompressionLevel = 4
    /// Decoding refuses images with more pixels than this (guards against hostile headers).
    public static let defaultMaxPixels = 1 << 28

    /// Encodes `image` as an 8-bit RGB PNG with `text` chunks in order (pass `[]` for no metadata).
    public static func encode(_ image: RGBImage, text: [PNGTextChunk] = [],
                              compressionLevel: Int = defaultCompressionLevel) throws(ImageError) -> [UInt8] {
        try encode(rgb8: image.rgb8(), width: image.width, height: image.height, text: text,
                   compressionLevel: compressionLevel)
    }

    /// Encodes interleaved 8-bit RGB (`height × width × 3` bytes) as a PNG.
    public static func encode(rgb8: [UInt8], width: Int, height: Int, text: [PNGTextChunk] = [],
                              compressionLevel: Int = defaultCompressionLevel) throws(ImageError) -> [UInt8] {
        try RGBImage.checkSize(width: width, height: height)
        guard rgb8.count == 3 * width * height else {
            throw .pixelCountMismatch(expected: 3 * width * height, actual: rgb8.count)
        }
        for chunk in text { try chunk.validate() }
        // NUL-terminated key and text bytes, kept alive for the C call.
        let keys: [[CChar]] = text.map { chunk in chunk.latin1Key.map { CChar(bitPattern: $0) } + [0] }
        let encoded: [(bytes: [CChar], utf8: Bool)] = text.map { chunk in
            if let latin1 = chunk.latin1Text { return (latin1.map { CChar(bitPattern: $0) } + [0], false) }
            return (chunk.text.utf8.map { CChar(bitPattern: $0) } + [0], true)
        }
        let level = Int32(min(max(compressionLevel, 0), 9))
        var message = [CChar](repeating: 0, count: 512)
        var buffer: OpaquePointer?
        let status = withCStringArrays(keys) { keyPointers in
            withCStringArrays(encoded.map(\.bytes)) { textPointers in
                var chunks = (0..<text.count).map { i in
                    strobe_png_text(key: keyPointers[i], text: textPointers[i],
                                    text_length: encoded[i].bytes.count - 1, utf8: encoded[i].utf8 ? 1 : 0)
                }
                return rgb8.withUnsafeBufferPointer { pixels in
                    chunks.withUnsafeMutableBufferPointer { chunkBuffer in
                        strobe_png_encode_rgb8(pixels.baseAddress, UInt32(width), UInt32(height),
                                               chunkBuffer.baseAddress, chunkBuffer.count, level,
                                               &buffer, &message, message.count)
                    }
                }
            }
        }
        guard status == STROBE_PNG_OK, let buffer else {
            throw .encodingFailed(String(cArray: message))
        }
        defer { strobe_png_buffer_free(buffer) }
        let size = strobe_png_buffer_size(buffer)
        return Array(UnsafeBufferPointer(start: strobe_png_buffer_data(buffer), count: size))
    }

    /// Decodes PNG bytes of any colour type, bit depth or interlacing into RGB floats (and the
    /// alpha plane, when there is one).
    public static func decode(_ bytes: [UInt8], maxPixels: Int = defaultMaxPixels) throws(ImageError) -> PNGFile {
        var message = [CChar](repeating: 0, count: 512)
        var handle: OpaquePointer?
        let status = bytes.withUnsafeBufferPointer { data in
            strobe_png_decode(data.baseAddress, data.count, UInt64(max(maxPixels, 0)), &handle, &message, message.count)
        }
        guard status == STROBE_PNG_OK, let handle else {
            throw .decodingFailed(String(cArray: message))
        }
        defer { strobe_png_image_free(handle) }
        let width = Int(strobe_png_image_width(handle))
        let height = Int(strobe_png_image_height(handle))
        let planeSize = width * height
        var planes = [Float](repeating: 0, count: 3 * planeSize)
        let samples = strobe_png_image_rgb(handle)!
        let wide = strobe_png_image_sample_bits(handle) == 16
        let alpha = strobe_png_image_alpha(handle).map { plane in
            (0..<planeSize).map { i in
                wide ? Float(UInt16(plane[2 * i]) << 8 | UInt16(plane[2 * i + 1])) / 65535 : Float(plane[i]) / 255
            }
        }
        if wide {
            for i in 0..<planeSize {
                for c in 0..<3 {
                    let k = 2 * (3 * i + c)
                    let value = UInt16(samples[k]) << 8 | UInt16(samples[k + 1])  // big-endian
                    planes[c * planeSize + i] = Float(value) / 65535
                }
            }
        } else {
            for i in 0..<planeSize {
                for c in 0..<3 { planes[c * planeSize + i] = Float(samples[3 * i + c]) / 255 }
            }
        }
        var text: [PNGTextChunk] = []
        for i in 0..<strobe_png_image_text_count(handle) {
            var length = 0
            let key = PNGTextChunk.latin1String(UnsafeBufferPointer(
                start: UnsafeRawPointer(strobe_png_image_text_key(handle, i)!).assumingMemoryBound(to: UInt8.self),
                count: strlen(strobe_png_image_text_key(handle, i)!)))
            let raw = UnsafeRawPointer(strobe_png_image_text(handle, i, &length)!).assumingMemoryBound(to: UInt8.self)
            let bytes = UnsafeBufferPointer(start: raw, count: length)
            let value = strobe_png_image_text_is_utf8(handle, i) != 0
                ? String(decoding: bytes, as: UTF8.self) : PNGTextChunk.latin1String(bytes)
            text.append(PNGTextChunk(key: key, text: value))
        }
        let image: RGBImage
        do {
            image = try RGBImage(width: width, height: height, pixels: planes)
        } catch {
            throw .decodingFailed("decoded image has an unusable size \(width)x\(height)")
        }
        return PNGFile(
            image: image, text: text,
            sourceBitDepth: Int(strobe_png_image_source_bit_depth(handle)),
            sourceColorType: PNGColorType(rawValue: Int(strobe_png_image_source_color_type(handle))) ?? .rgb,
            interlaced: strobe_png_image_source_interlaced(handle) != 0, alpha: alpha)
    }
}

extension PNGTextChunk {
    /// The key's Latin-1 bytes (valid after `validate()`).
    var latin1Key: [UInt8] { key.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) } }
}

/// Calls `body` with pointers to the first element of each array, all alive during the call.
private func withCStringArrays<R>(_ arrays: [[CChar]], _ body: ([UnsafePointer<CChar>]) -> R) -> R {
    func recurse(_ index: Int, _ pointers: [UnsafePointer<CChar>]) -> R {
        if index == arrays.count { return body(pointers) }
        return arrays[index].withUnsafeBufferPointer { recurse(index + 1, pointers + [$0.baseAddress!]) }
    }
    return recurse(0, [])
}
