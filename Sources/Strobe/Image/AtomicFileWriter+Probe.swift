#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension AtomicFileWriter {
    /// Checks, before any work, that a file can be written at `path` the way
    /// ``write(_:to:overwrite:)`` will: its directory exists, is a directory and really accepts
    /// a new file (a temporary file is created there and removed at once), and `path` is not a
    /// directory, nor an existing file unless `overwrite`.
    ///
    /// Creating a file is the only honest test: permission bits do not bind root, and read-only
    /// mounts or pseudo file systems (`/proc`) refuse files whatever `access(2)` says. A full
    /// disk is not detected (an empty file still fits); writing then fails cleanly.
    public static func checkWritable(_ path: String, overwrite: Bool) throws(ImageError) {
        let directory = directoryName(of: path)
        var info = stat()
        guard stat(directory, &info) == 0 else {
            throw ImageError.from(errno: errno, path: directory, operation: "stat")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw .notADirectory(path: directory) }
        if stat(path, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR { throw .isADirectory(path: path) }
            if !overwrite { throw .fileExists(path: path) }
        }
        var template = Array((directory + "/.strobe-probe-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT {
                let reason = "the directory does not accept new files (\(ImageError.errnoDescription(code)))"
                throw .notWritable(path: directory, reason: reason)
            }
            throw ImageError.from(errno: code, path: directory, operation: "create a file")
        }
        close(fd)
        unlink(String(cArray: template))
    }
}
