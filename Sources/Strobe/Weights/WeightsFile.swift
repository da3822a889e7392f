import Foundation
import StrobeTensor

/// A validated weights file (weights-format.md), memory-mapped read-only.
///
/// Opening checks the container and, unless asked not to, Strobe's metadata; every problem is
/// collected into one ``WeightsError``. Tensors are converted to fp32 when read. The object is
/// immutable and can be shared between tasks.
public final class WeightsFile: Sendable {
    /// The path the file was opened from.
    public let path: String
    /// Tensors by name.
    public let tensors: [String: TensorInfo]
    /// The raw `__metadata__` map.
    public let metadata: [String: String]
    /// Strobe's parsed metadata; `nil` only when opened with `requireStrobeMetadata: false`
    /// and the file has none.
    public let strobe: StrobeMetadata?

    private let file: MappedFile
    private let dataOffset: Int

    /// Maps and validates the file at `path`.
    /// - Parameters:
    ///   - path: the safetensors file.
    ///   - requireStrobeMetadata: when `false`, a plain safetensors file (without Strobe's keys)
    ///     is accepted, for tools that read other checkpoints.
    public init(path: String, requireStrobeMetadata: Bool = true) throws(WeightsError) {
        let file = try MappedFile(path: path)
        let header: SafetensorsHeader
        switch SafetensorsHeader.parse(file.bytes) {
        case .success(let value): header = value
        case .failure(let list): throw WeightsError(path: path, problems: list.problems)
        }
        var strobe: StrobeMetadata?
        if requireStrobeMetadata || header.metadata.keys.contains(where: { $0.hasPrefix("strobe.") }) {
            switch StrobeMetadata.parse(header.metadata) {
            case .success(let value): strobe = value
            case .failure(let list): throw WeightsError(path: path, problems: list.problems)
            }
        }
        self.path = path
        self.file = file
        self.tensors = header.tensors
        self.metadata = header.metadata
        self.dataOffset = header.dataOffset
        self.strobe = strobe
    }

    /// The tensor `name` converted to fp32, or `nil` if the file has no such tensor.
    ///
    /// The mapped pages of its bytes are released afterwards (they are read again from the file
    /// if asked for again), so converting a whole model never holds it twice in memory.
    public func tensor(_ name: String) -> Tensor? {
        guard let info = tensors[name] else { return nil }
        let range = (dataOffset + info.byteRange.lowerBound)..<(dataOffset + info.byteRange.upperBound)
        let raw = UnsafeRawBufferPointer(rebasing: file.bytes[range])
        let tensor = Tensor(shape: info.shape, storage: WeightsDType.decode(raw, as: info.dtype))
        file.releasePages(in: range)
        return tensor
    }

    /// Checks that the file holds exactly `expected` tensors with those shapes (rule 10), and
    /// throws every difference in one error.
    public func validate(expected: [String: [Int]]) throws(WeightsError) {
        var problems: [WeightsProblem] = []
        for name in expected.keys.sorted() {
            guard let info = tensors[name] else {
                problems.append(.missingTensor(name))
                continue
            }
            if info.shape != expected[name]! {
                problems.append(.shapeMismatch(tensor: name, expected: expected[name]!, actual: info.shape))
            }
        }
        for name in tensors.keys.sorted() where expected[name] == nil {
            problems.append(.unexpectedTensor(name))
        }
        if !problems.isEmpty { throw WeightsError(path: path, problems: problems) }
    }
}
