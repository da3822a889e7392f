import Foundation

/// Facts about a loaded model file: identity (name, SHA-256), architecture, sampler defaults,
/// parameters and storage types.
public struct ModelInfo: Sendable, Equatable {
    /// The path the model was loaded from.
    public let path: String
    /// `strobe.model_name`, else the file name without its extension.
    public let name: String
    /// `strobe.description`, if any.
    public let description: String?
    /// SHA-256 of the whole weights file, 64 lowercase hex digits (computed once at load).
    public let sha256: String
    /// Size of the weights file in bytes.
    public let fileSize: Int
    /// The architecture.
    public let architecture: ModelArchitecture
    /// The sampler defaults the model ships with.
    public let samplerDefaults: SamplerDefaults
    /// Total number of parameters (elements of every tensor).
    public let parameterCount: Int
    /// Number of tensors by storage type (`F32`, `F16`, `BF16`).
    public let tensorsByDType: [String: Int]
    /// Parameters by storage type.
    public let parametersByDType: [String: Int]
    /// Pieces in the tokenizer's vocabulary.
    public let vocabularySize: Int

    /// The first 10 hex digits of ``sha256`` (AUTOMATIC1111's short hash).
    public var shortHash: String { String(sha256.prefix(10)) }

    init(file: WeightsFile, metadata: StrobeMetadata, architecture: ModelArchitecture, sha256: String,
         vocabularySize: Int) {
        path = file.path
        let stem = URL(fileURLWithPath: file.path).deletingPathExtension().lastPathComponent
        name = metadata.modelName.flatMap { $0.isEmpty ? nil : $0 } ?? stem
        description = file.metadata[StrobeMetadata.Key.description]
        self.sha256 = sha256
        fileSize = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        self.architecture = architecture
        samplerDefaults = metadata.samplerDefaults
        parameterCount = file.tensors.values.reduce(0) { $0 + $1.count }
        var tensors: [String: Int] = [:], parameters: [String: Int] = [:]
        for info in file.tensors.values {
            tensors[info.dtype.rawValue, default: 0] += 1
            parameters[info.dtype.rawValue, default: 0] += info.count
        }
        tensorsByDType = tensors
        parametersByDType = parameters
        self.vocabularySize = vocabularySize
    }
}
