#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension PNGCodec {
    /// Encodes `image` and writes it atomically to `path` (see ``AtomicFileWriter``).
    /// Pass `text: []` to write no metadata.
    public static func write(_ image: RGBImage, to path: String, text: [PNGTextChunk] = [],
                             overwrite: Bool = false,
                             compressionLevel: Int = defaultCompressionLevel) throws(ImageError) {
        let bytes = try encode(image, text: text, compressionLevel: compressionLevel)
        try AtomicFileWriter.write(bytes, to: path, overwrite: overwrite)
    }

    /// Reads and decodes the PNG file at `path`.
    public static func read(from path: String, maxPixels: Int = defaultMaxPixels) throws(ImageError) -> PNGFile {
        try decode(readFile(path), maxPixels: maxPixels)
    }

    /// The whole contents of the file at `path`.
    static func readFile(_ path: String) throws(ImageError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            let code = errno
            if code == ENOENT { throw .fileNotFound(path: path) }
            throw ImageError.from(errno: code, path: path, operation: "open")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                let code = errno
                if code == EISDIR { throw .isADirectory(path: path) }
                throw ImageError.from(errno: code, path: path, operation: "read")
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }
}
