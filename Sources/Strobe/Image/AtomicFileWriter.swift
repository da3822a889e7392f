#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Glibc)
let posixRead = Glibc.read
let posixWrite = Glibc.write
#elseif canImport(Musl)
let posixRead = Musl.read
let posixWrite = Musl.write
#elseif canImport(Darwin)
let posixRead = Darwin.read
let posixWrite = Darwin.write
#endif

extension String {
    /// Decodes a NUL-terminated UTF-8 C string held in an array.
    init(cArray: [CChar]) {
        let bytes = cArray.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self = String(decoding: bytes, as: UTF8.self)
    }
}

/// Writes files so that readers see either nothing or the whole file.
///
/// The bytes go to a temporary file in the destination's directory, which is flushed to disk
/// (`fsync`) and then moved into place in one step (`link` when overwriting is not allowed,
/// `rename` when it is). On any failure the temporary file is removed, no file appears at the
/// destination, and an ``ImageError`` says why.
public enum AtomicFileWriter {
    /// Writes `bytes` to `path`; throws ``ImageError/fileExists(path:)`` if `path` exists and
    /// `overwrite` is false.
    public static func write(_ bytes: [UInt8], to path: String, overwrite: Bool = false) throws(ImageError) {
        try write(bytes, to: path, overwrite: overwrite, failAfterBytes: nil)
    }

    /// Test seam: with `failAfterBytes` set, writing fails with ENOSPC once that many bytes
    /// have been written, as a full disk would.
    static func write(_ bytes: [UInt8], to path: String, overwrite: Bool, failAfterBytes: Int?) throws(ImageError) {
        let directory = directoryName(of: path)
        try checkDirectory(directory)
        var info = stat()
        if stat(path, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR { throw .isADirectory(path: path) }
            if !overwrite { throw .fileExists(path: path) }
        }

        var template = Array((directory + "/." + baseName(of: path) + ".XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 {
            let code = errno
            // The directory exists (checked above), so ENOENT here means it refuses new
            // files (as /proc does).
            if code == ENOENT {
                throw .notWritable(path: directory, reason: "the directory does not accept new files (\(ImageError.errnoDescription(code)))")
            }
            throw ImageError.from(errno: code, path: directory, operation: "create temporary file")
        }
        let temporary = String(cArray: template)
        var published = false
        defer {
            if !published { unlink(temporary) }
        }
        do throws(ImageError) {
            try writeAll(bytes, to: fd, path: path, failAfterBytes: failAfterBytes)
            _ = fchmod(fd, 0o644)
            if fsync(fd) != 0 { throw ImageError.from(errno: errno, path: path, operation: "fsync") }
        } catch {
            close(fd)
            throw error
        }
        if close(fd) != 0 { throw ImageError.from(errno: errno, path: path, operation: "close") }

        if overwrite {
            if rename(temporary, path) != 0 { throw ImageError.from(errno: errno, path: path, operation: "rename") }
        } else if link(temporary, path) != 0 {
            let code = errno
            if code == EEXIST { throw .fileExists(path: path) }
            // File systems without hard links: check, then rename (a small race remains).
            guard code == EPERM || code == ENOTSUP || code == EOPNOTSUPP || code == EMLINK else {
                throw ImageError.from(errno: code, path: path, operation: "link")
            }
            if access(path, F_OK) == 0 { throw .fileExists(path: path) }
            if rename(temporary, path) != 0 { throw ImageError.from(errno: errno, path: path, operation: "rename") }
        }
        published = true
        if !overwrite { unlink(temporary) }  // the link left the temporary name behind
        syncDirectory(directory)
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String, failAfterBytes: Int?) throws(ImageError) {
        var offset = 0
        while offset < bytes.count {
            var chunk = bytes.count - offset
            if let limit = failAfterBytes {
                if offset >= limit { throw .diskFull(path: path) }
                chunk = min(chunk, limit - offset)
            }
            let written = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress! + offset, chunk) }
            if written < 0 {
                if errno == EINTR { continue }
                throw ImageError.from(errno: errno, path: path, operation: "write")
            }
            offset += written
        }
    }

    private static func checkDirectory(_ directory: String) throws(ImageError) {
        var info = stat()
        if stat(directory, &info) != 0 {
            throw ImageError.from(errno: errno, path: directory, operation: "stat")
        }
        if (info.st_mode & S_IFMT) != S_IFDIR { throw .notADirectory(path: directory) }
    }

    private static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// The directory part of `path` ("." when there is none).
    static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let head = path[..<slash]
        return head.isEmpty ? "/" : String(head)
    }

    /// The last component of `path`.
    static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
