#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything that can go wrong making, encoding, decoding, reading or writing an image.
///
/// Cases from libpng carry libpng's own message; file-system cases carry the path involved.
public enum ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Width and height must each be in 1...2³¹−1.
    case invalidSize(width: Int, height: Int)
    /// The pixel buffer does not have `3 × width × height` (or `expected`) values.
    case pixelCountMismatch(expected: Int, actual: Int)
    /// A tensor that is not `[3, H, W]` or `[1, 3, H, W]`.
    case invalidTensorShape([Int])
    /// A text-chunk key PNG does not allow (1–79 printable Latin-1 characters, no leading,
    /// trailing or doubled spaces).
    case invalidTextKey(key: String, reason: String)
    /// Text PNG cannot store (it contains a NUL character).
    case invalidText(key: String, reason: String)
    /// libpng failed while encoding; its message.
    case encodingFailed(String)
    /// The bytes are not a PNG libpng can read (corrupt, truncated, too large); its message.
    case decodingFailed(String)
    /// An input image (``InputImage``) that cannot be used: not PNG or JPEG, damaged, too large.
    case unusableInput(String)
    /// The directory that should hold the file does not exist.
    case directoryMissing(path: String)
    /// A component of the directory path is a file, not a directory.
    case notADirectory(path: String)
    /// The destination path names a directory.
    case isADirectory(path: String)
    /// The destination exists and overwriting was not allowed.
    case fileExists(path: String)
    /// The directory cannot be written (permissions, read-only file system).
    case notWritable(path: String, reason: String)
    /// The file system ran out of space (ENOSPC or EDQUOT).
    case diskFull(path: String)
    /// The file to read does not exist.
    case fileNotFound(path: String)
    /// Another system call failed.
    case io(path: String, operation: String, code: Int32, reason: String)

    /// A one-line explanation for people.
    public var description: String {
        switch self {
        case let .invalidSize(width, height):
            return "invalid image size \(width)x\(height) (each side must be 1...2147483647)"
        case let .pixelCountMismatch(expected, actual):
            return "pixel buffer has \(actual) values, expected \(expected)"
        case let .invalidTensorShape(shape):
            return "image tensor has shape \(shape), expected [3, H, W] or [1, 3, H, W]"
        case let .invalidTextKey(key, reason):
            return "invalid PNG text key \"\(key)\": \(reason)"
        case let .invalidText(key, reason):
            return "invalid PNG text for key \"\(key)\": \(reason)"
        case let .encodingFailed(message):
            return "PNG encoding failed: \(message)"
        case let .unusableInput(message):
            return message
        case let .decodingFailed(message):
            return "PNG decoding failed: \(message)"
        case let .directoryMissing(path):
            return "directory does not exist: \(path)"
        case let .notADirectory(path):
            return "not a directory: \(path)"
        case let .isADirectory(path):
            return "destination is a directory: \(path)"
        case let .fileExists(path):
            return "file exists (overwrite not allowed): \(path)"
        case let .notWritable(path, reason):
            return "cannot write to \(path): \(reason)"
        case let .diskFull(path):
            return "no space left on device writing \(path)"
        case let .fileNotFound(path):
            return "file not found: \(path)"
        case let .io(path, operation, code, reason):
            return "\(operation) failed for \(path): \(reason) (errno \(code))"
        }
    }

    /// Maps a failed system call's `errno` to the most specific case.
    static func from(errno code: Int32, path: String, operation: String) -> ImageError {
        switch code {
        case ENOENT: return .directoryMissing(path: path)
        case ENOTDIR: return .notADirectory(path: path)
        case EISDIR: return .isADirectory(path: path)
        case EEXIST: return .fileExists(path: path)
        case EACCES, EPERM, EROFS: return .notWritable(path: path, reason: errnoDescription(code))
        case ENOSPC, EDQUOT: return .diskFull(path: path)
        default: return .io(path: path, operation: operation, code: code, reason: errnoDescription(code))
        }
    }

    static func errnoDescription(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }
}
