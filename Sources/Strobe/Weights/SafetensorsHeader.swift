import Foundation

/// Where one tensor's bytes lie in a safetensors file, and how to read them.
public struct TensorInfo: Equatable, Sendable {
    /// Element type.
    public let dtype: WeightsDType
    /// Shape, outermost first (`[]` is a scalar).
    public let shape: [Int]
    /// Byte range in the data section.
    public let byteRange: Range<Int>

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
}

/// The parsed and validated safetensors container: the header only, no tensor data.
struct SafetensorsHeader: Equatable, Sendable {
    /// Upper bound on the header length (rule 2 of weights-format.md).
    static let maxHeaderLength: UInt64 = 100 << 20

    /// Tensors by name.
    let tensors: [String: TensorInfo]
    /// `__metadata__`, empty if absent.
    let metadata: [String: String]
    /// Offset of the data section from the start of the file.
    let dataOffset: Int

    /// Parses and validates the container rules (1–8 of weights-format.md) over a whole file's
    /// bytes, collecting every problem.
    static func parse(_ file: UnsafeRawBufferPointer) -> Result<SafetensorsHeader, ProblemList> {
        guard file.count >= 8 else { return .failure(ProblemList([.tooSmall(size: file.count)])) }
        let length = file.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard length >= 2, length <= UInt64(file.count - 8), length <= maxHeaderLength else {
            return .failure(ProblemList([.headerLengthOutOfBounds(length: length, fileSize: file.count)]))
        }
        let headerBytes = Data(file[8..<(8 + Int(length))])
        let json: JSONValue
        do {
            json = try JSONValue.parse(headerBytes)
        } catch {
            return .failure(ProblemList([.invalidHeaderJSON(reason: Self.reason(error))]))
        }
        guard case .object(let entries) = json else {
            return .failure(ProblemList([.invalidHeaderJSON(reason: "the top level is not an object")]))
        }
        let dataOffset = 8 + Int(length)
        let dataSize = file.count - dataOffset

        var problems: [WeightsProblem] = []
        var metadata: [String: String] = [:]
        var tensors: [String: TensorInfo] = [:]
        for name in entries.keys.sorted() {
            let entry = entries[name]!
            if name == "__metadata__" {
                switch parseMetadata(entry) {
                case .success(let value): metadata = value
                case .failure(let problem): problems.append(problem)
                }
                continue
            }
            switch parseEntry(name: name, entry, dataSize: dataSize) {
            case .success(let info): tensors[name] = info
            case .failure(let problem): problems.append(problem)
            }
        }
        problems += overlaps(tensors)
        if !problems.isEmpty { return .failure(ProblemList(problems)) }
        return .success(SafetensorsHeader(tensors: tensors, metadata: metadata, dataOffset: dataOffset))
    }

    private static func parseMetadata(_ value: JSONValue) -> Result<[String: String], WeightsProblem> {
        guard case .object(let object) = value else {
            return .failure(.malformedMetadata(reason: "not an object"))
        }
        var result: [String: String] = [:]
        for (key, value) in object {
            guard case .string(let text) = value else {
                return .failure(.malformedMetadata(reason: "value of '\(key)' is not a string"))
            }
            result[key] = text
        }
        return .success(result)
    }

    private static func parseEntry(
        name: String, _ value: JSONValue, dataSize: Int
    ) -> Result<TensorInfo, WeightsProblem> {
        guard case .object(let fields) = value else {
            return .failure(.malformedEntry(tensor: name, reason: "entry is not an object"))
        }
        let extra = Set(fields.keys).subtracting(["dtype", "shape", "data_offsets"])
        if let key = extra.sorted().first {
            return .failure(.malformedEntry(tensor: name, reason: "unknown field '\(key)'"))
        }
        guard case .string(let dtypeName) = fields["dtype"] else {
            return .failure(.malformedEntry(tensor: name, reason: "'dtype' missing or not a string"))
        }
        guard case .array(let shapeValues) = fields["shape"],
            let shape = nonNegativeInts(shapeValues)
        else {
            return .failure(.malformedEntry(
                tensor: name, reason: "'shape' missing or not an array of non-negative integers"))
        }
        guard case .array(let offsetValues) = fields["data_offsets"],
            let offsets = nonNegativeInts(offsetValues), offsets.count == 2, offsets[0] <= offsets[1]
        else {
            return .failure(.malformedEntry(
                tensor: name, reason: "'data_offsets' missing or not two integers 0 ≤ begin ≤ end"))
        }
        guard let dtype = WeightsDType(rawValue: dtypeName) else {
            return .failure(.unknownDType(tensor: name, dtype: dtypeName))
        }
        let (begin, end) = (offsets[0], offsets[1])
        let (count, overflow) = shape.reduce((1, false)) { acc, d in
            let (p, o) = acc.0.multipliedReportingOverflow(by: d)
            return (p, acc.1 || o)
        }
        let (bytes, overflow2) = count.multipliedReportingOverflow(by: dtype.size)
        if overflow || overflow2 || bytes != end - begin {
            return .failure(.byteSizeMismatch(
                tensor: name, expected: overflow || overflow2 ? Int.max : bytes, actual: end - begin))
        }
        if end > dataSize {
            return .failure(.offsetsOutOfBounds(tensor: name, begin: begin, end: end, dataSize: dataSize))
        }
        return .success(TensorInfo(dtype: dtype, shape: shape, byteRange: begin..<end))
    }

    private static func nonNegativeInts(_ values: [JSONValue]) -> [Int]? {
        var result: [Int] = []
        for value in values {
            guard case .int(let n) = value, n >= 0 else { return nil }
            result.append(n)
        }
        return result
    }

    /// Pairs of tensors whose non-empty byte ranges intersect.
    private static func overlaps(_ tensors: [String: TensorInfo]) -> [WeightsProblem] {
        let ranges = tensors.filter { !$0.value.byteRange.isEmpty }
            .sorted { ($0.value.byteRange.lowerBound, $0.key) < ($1.value.byteRange.lowerBound, $1.key) }
        var problems: [WeightsProblem] = []
        var furthest: (name: String, end: Int)? = nil
        for (name, info) in ranges {
            if let previous = furthest, info.byteRange.lowerBound < previous.end {
                problems.append(.overlappingTensors(previous.name, name))
            }
            if furthest == nil || info.byteRange.upperBound > furthest!.end {
                furthest = (name, info.byteRange.upperBound)
            }
        }
        return problems
    }

    private static func reason(_ error: Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as NSError?)?.localizedDescription
            return underlying.map { "\(context.debugDescription) (\($0))" } ?? context.debugDescription
        }
        return String(describing: error)
    }
}
