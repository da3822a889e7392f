/// One thing wrong with a weights file. A file's problems are collected into one ``WeightsError``.
public enum WeightsProblem: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened or mapped (the system's reason).
    case unreadable(reason: String)
    /// The file is shorter than the 8-byte header length.
    case tooSmall(size: Int)
    /// The header length is outside `2 ... fileSize - 8` (or over the 100 MiB cap).
    case headerLengthOutOfBounds(length: UInt64, fileSize: Int)
    /// The header is not UTF-8 JSON with an object at the top level.
    case invalidHeaderJSON(reason: String)
    /// A tensor entry lacks a field or has one of the wrong type.
    case malformedEntry(tensor: String, reason: String)
    /// A dtype string that format v1 does not define.
    case unknownDType(tensor: String, dtype: String)
    /// `end - begin` differs from element count × dtype size.
    case byteSizeMismatch(tensor: String, expected: Int, actual: Int)
    /// A byte range reaches past the data section.
    case offsetsOutOfBounds(tensor: String, begin: Int, end: Int, dataSize: Int)
    /// Two tensors share bytes.
    case overlappingTensors(String, String)
    /// `__metadata__` is not an object of strings.
    case malformedMetadata(reason: String)
    /// A required `__metadata__` key is absent.
    case missingMetadata(key: String)
    /// `strobe.format_version` names a version this reader does not know.
    case unsupportedFormatVersion(String)
    /// A metadata value does not parse (JSON or base64).
    case invalidMetadataValue(key: String, reason: String)
    /// The architecture requires a tensor the file lacks.
    case missingTensor(String)
    /// The file holds a tensor the architecture does not use.
    case unexpectedTensor(String)
    /// A tensor's shape differs from the architecture's.
    case shapeMismatch(tensor: String, expected: [Int], actual: [Int])
    /// The architecture metadata is inconsistent or names an unknown family.
    case invalidArchitecture(reason: String)
    /// A tensor holds NaN or infinite values (`count` of them, the first at flat index `first`).
    case nonFiniteValues(tensor: String, count: Int, first: Int)
    /// The file changed (size, modification time or identity) while it was being loaded, so
    /// what was read may mix two versions.
    case changedWhileLoading(reason: String)

    public var description: String {
        switch self {
        case .unreadable(let reason): return "cannot read the file: \(reason)"
        case .tooSmall(let size):
            return "file is \(size) bytes, smaller than the 8-byte header length field"
        case .headerLengthOutOfBounds(let length, let fileSize):
            return "header length \(length) does not fit in a file of \(fileSize) bytes"
        case .invalidHeaderJSON(let reason): return "header is not a JSON object: \(reason)"
        case .malformedEntry(let tensor, let reason): return "tensor '\(tensor)': \(reason)"
        case .unknownDType(let tensor, let dtype):
            return "tensor '\(tensor)': unknown dtype '\(dtype)' (known: F32, F16, BF16)"
        case .byteSizeMismatch(let tensor, let expected, let actual):
            return "tensor '\(tensor)': \(actual) bytes, but dtype × shape needs \(expected)"
        case .offsetsOutOfBounds(let tensor, let begin, let end, let dataSize):
            return "tensor '\(tensor)': bytes \(begin)..<\(end) reach past the data section (\(dataSize) bytes)"
        case .overlappingTensors(let a, let b): return "tensors '\(a)' and '\(b)' overlap"
        case .malformedMetadata(let reason): return "__metadata__: \(reason)"
        case .missingMetadata(let key): return "missing required metadata '\(key)'"
        case .unsupportedFormatVersion(let version):
            return "format version '\(version)' is not supported (this reader knows 1)"
        case .invalidMetadataValue(let key, let reason): return "metadata '\(key)': \(reason)"
        case .missingTensor(let name): return "missing tensor '\(name)'"
        case .unexpectedTensor(let name): return "unexpected tensor '\(name)'"
        case .shapeMismatch(let tensor, let expected, let actual):
            return "tensor '\(tensor)': shape \(actual), expected \(expected)"
        case .invalidArchitecture(let reason): return "architecture: \(reason)"
        case .nonFiniteValues(let tensor, let count, let first):
            return "tensor '\(tensor)': \(count) value\(count == 1 ? " is" : "s are") NaN or infinite "
                + "(the first at index \(first))"
        case .changedWhileLoading(let reason):
            return "the file changed while it was being loaded (\(reason)); load it again"
        }
    }
}

/// A weights file that cannot be used, with every problem found in it.
public struct WeightsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file's path as given.
    public let path: String
    /// Every problem found, in file order; never empty.
    public let problems: [WeightsProblem]

    public init(path: String, problems: [WeightsProblem]) {
        precondition(!problems.isEmpty, "a WeightsError needs at least one problem")
        self.path = path
        self.problems = problems
    }

    public var description: String {
        let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
        return "invalid weights file \(path) (\(count)):\n"
            + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// Problems collected while checking one part of a file (internal carrier for `Result`).
struct ProblemList: Error {
    let problems: [WeightsProblem]
    init(_ problems: [WeightsProblem]) { self.problems = problems }
}
