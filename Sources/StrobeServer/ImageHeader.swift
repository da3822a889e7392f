/// The pixel size an uploaded PNG or JPEG declares, read from its header before anything is
/// decoded, so that a small file declaring a huge image (a decompression bomb) is refused
/// without allocating for it.
struct ImageHeader: Equatable, Sendable {
    let format: String
    let width: Int
    let height: Int

    /// Reads the header; nil when the bytes are neither a PNG nor a JPEG with a frame header.
    static func read(_ bytes: [UInt8]) -> ImageHeader? {
        png(bytes) ?? jpeg(bytes)
    }

    private static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// PNG: the signature, then the IHDR chunk with width and height as big-endian 32-bit words.
    private static func png(_ b: [UInt8]) -> ImageHeader? {
        guard b.count >= 24, Array(b[0..<8]) == pngSignature, Array(b[12..<16]) == Array("IHDR".utf8) else { return nil }
        func word(_ at: Int) -> Int { b[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return ImageHeader(format: "png", width: word(16), height: word(20))
    }

    /// JPEG: walks the marker segments to the first start-of-frame (SOF0–SOF15 but DHT, JPG
    /// and DAC), whose body holds precision, height and width.
    private static func jpeg(_ b: [UInt8]) -> ImageHeader? {
        guard b.count >= 4, b[0] == 0xFF, b[1] == 0xD8 else { return nil }
        var at = 2
        while at + 4 <= b.count {
            guard b[at] == 0xFF else { return nil }
            let marker = b[at + 1]
            if marker == 0xFF { at += 1; continue }                       // fill byte
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { at += 2; continue }
            let length = Int(b[at + 2]) << 8 | Int(b[at + 3])
            guard length >= 2 else { return nil }
            if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                guard at + 9 <= b.count else { return nil }
                let height = Int(b[at + 5]) << 8 | Int(b[at + 6])
                let width = Int(b[at + 7]) << 8 | Int(b[at + 8])
                return ImageHeader(format: "jpeg", width: width, height: height)
            }
            if marker == 0xDA || marker == 0xD9 { return nil }             // scan data before any frame
            at += 2 + length
        }
        return nil
    }
}
