import Foundation
import ImageInputShim

/// An image a user gives Strobe to modify, inpaint or reframe: PNG of any kind (bit depth,
/// palette, grey, alpha, interlaced, 16-bit) or JPEG (baseline, progressive, grey, CMYK), with
/// its EXIF orientation applied.
public struct InputImage: Sendable {
    /// The most pixels an input may have (64 megapixels). The header is checked before any pixel
    /// is decoded, so a file claiming 50,000 × 50,000 pixels costs nothing.
    public static let maxPixels = 1 << 26

    /// The pixels, upright, in [0, 1].
    public let image: RGBImage
    /// Opacity per pixel in [0, 1] (row-major), or nil when the file has none.
    public let alpha: [Float]?
    /// `"png"` or `"jpeg"`.
    public let format: String
    /// SHA-256 of the file's bytes, 64 hex digits.
    public let sha256: String
    /// The prompt recorded in the file when Strobe made it (its `strobe` or `parameters` text), else nil.
    public let recordedPrompt: String?

    /// An input from pixels already in memory (no file).
    public init(image: RGBImage, alpha: [Float]? = nil, format: String = "png", sha256: String = "", recordedPrompt: String? = nil) {
        self.image = image
        self.alpha = alpha
        self.format = format
        self.sha256 = sha256
        self.recordedPrompt = recordedPrompt
    }

    /// Reads and decodes the file at `path`.
    /// - Throws: ``ImageError/fileNotFound(path:)`` and the errors of ``decode(_:maxPixels:)``.
    public static func read(path: String) throws(ImageError) -> InputImage {
        let bytes = try PNGCodec.readFile(path)
        return try decode(bytes)
    }

    /// Decodes PNG or JPEG bytes, told apart by their signature.
    /// - Throws: ``ImageError/unusableInput(_:)`` for anything else, a damaged or truncated
    ///   file, a zero side, or more than ``maxPixels`` pixels (named with the limit).
    public static func decode(_ bytes: [UInt8], maxPixels: Int = InputImage.maxPixels) throws(ImageError) -> InputImage {
        let digest = SHA256.hash(bytes).hex
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            let file: PNGFile
            do {
                file = try PNGCodec.decode(bytes, maxPixels: maxPixels)
            } catch {
                let reason = error.description.replacingOccurrences(of: "PNG decoding failed: ", with: "")
                throw .unusableInput("not a usable PNG: \(reason)\(limitNote(reason, maxPixels))")
            }
            return InputImage(image: file.image, alpha: file.alpha, format: "png", sha256: digest,
                              recordedPrompt: recordedPrompt(file))
        }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            return try decodeJPEG(bytes, sha256: digest, maxPixels: maxPixels)
        }
        throw .unusableInput("not an image Strobe reads (PNG or JPEG)")
    }

    private static func limitNote(_ message: String, _ limit: Int) -> String {
        message.contains("too many pixels") ? " (the limit is \(limit) pixels)" : ""
    }

    /// The prompt of a Strobe-made PNG: its `strobe` JSON chunk's, else the first line of its
    /// AUTOMATIC1111 `parameters` chunk when the chunk names Strobe as the producer.
    static func recordedPrompt(_ file: PNGFile) -> String? {
        if let json = file.text(forKey: "strobe"), let data = json.data(using: .utf8),
           let metadata = try? JSONDecoder().decode(ImageMetadata.self, from: data) {
            return metadata.prompt
        }
        if let parameters = file.text(forKey: "parameters"), parameters.contains("Version: Strobe"),
           let newline = parameters.lastIndex(of: "\n") {
            return String(parameters[..<newline])
        }
        return nil
    }

    private static func decodeJPEG(_ bytes: [UInt8], sha256: String, maxPixels: Int) throws(ImageError) -> InputImage {
        var message = [CChar](repeating: 0, count: 512)
        var handle: OpaquePointer?
        let status = bytes.withUnsafeBufferPointer { data in
            strobe_jpeg_decode(data.baseAddress, data.count, UInt64(maxPixels), &handle, &message, message.count)
        }
        guard status == Int32(STROBE_IMAGE_OK), let handle else {
            let reason = String(cArray: message)
            if status == Int32(STROBE_IMAGE_TOO_LARGE) {
                throw .unusableInput("JPEG of \(reason) (the limit is \(maxPixels) pixels)")
            }
            throw .unusableInput("not a usable JPEG: \(reason)")
        }
        defer { strobe_jpeg_image_free(handle) }
        let (width, height) = (Int(strobe_jpeg_image_width(handle)), Int(strobe_jpeg_image_height(handle)))
        let rgb = UnsafeBufferPointer(start: strobe_jpeg_image_rgb(handle), count: width * height * 3)
        let plane = width * height
        var planes = [Float](repeating: 0, count: 3 * plane)
        for i in 0..<plane {
            for c in 0..<3 { planes[c * plane + i] = Float(rgb[3 * i + c]) / 255 }
        }
        let stored: RGBImage
        do { stored = try RGBImage(width: width, height: height, pixels: planes) } catch { throw error }
        let upright = stored.oriented(exif: Int(strobe_jpeg_image_orientation(handle)))
        return InputImage(image: upright, format: "jpeg", sha256: sha256)
    }
}
