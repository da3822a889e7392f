import Foundation

/// Default sampler settings stored with a model (`strobe.sampler_defaults`).
public struct SamplerDefaults: Codable, Sendable, Equatable {
    /// Network calls of the flash (TVM) sampler.
    public var flashSteps: Int
    /// Steps of the full reference sampler.
    public var fullSteps: Int
    /// The guidance weight `w` the model was trained with (β = 1/w is fed to the network).
    public var guidance: Double

    public init(flashSteps: Int, fullSteps: Int, guidance: Double) {
        self.flashSteps = flashSteps
        self.fullSteps = fullSteps
        self.guidance = guidance
    }

    enum CodingKeys: String, CodingKey {
        case flashSteps = "flash_steps", fullSteps = "full_steps", guidance
    }
}

/// Strobe's own `__metadata__` keys (weights-format.md §3), parsed and checked.
public struct StrobeMetadata: Sendable, Equatable {
    /// Metadata keys of format v1.
    public enum Key {
        public static let formatVersion = "strobe.format_version"
        public static let architecture = "strobe.architecture"
        public static let samplerDefaults = "strobe.sampler_defaults"
        public static let tokenizer = "strobe.tokenizer"
        public static let modelName = "strobe.model_name"
        public static let description = "strobe.description"
    }

    /// The format versions this reader knows.
    public static let supportedVersions: Set<String> = ["1"]

    /// `strobe.format_version`.
    public let formatVersion: String
    /// `strobe.architecture` as JSON text (decoded by the model family that owns it).
    public let architectureJSON: String
    /// `strobe.sampler_defaults`.
    public let samplerDefaults: SamplerDefaults
    /// The SentencePiece model bytes from `strobe.tokenizer`.
    public let tokenizerModel: Data
    /// `strobe.model_name`, if present.
    public let modelName: String?

    /// Checks rule 9 of weights-format.md, collecting every problem.
    static func parse(_ metadata: [String: String]) -> Result<StrobeMetadata, ProblemList> {
        var problems: [WeightsProblem] = []
        func required(_ key: String) -> String? {
            guard let value = metadata[key] else {
                problems.append(.missingMetadata(key: key))
                return nil
            }
            return value
        }
        let version = required(Key.formatVersion)
        let architecture = required(Key.architecture)
        let sampler = required(Key.samplerDefaults)
        let tokenizer = required(Key.tokenizer)

        if let version, !supportedVersions.contains(version) {
            problems.append(.unsupportedFormatVersion(version))
        }
        if let architecture {
            if case .object? = try? JSONValue.parse(Data(architecture.utf8)) {
            } else {
                problems.append(.invalidMetadataValue(key: Key.architecture, reason: "not a JSON object"))
            }
        }
        var defaults: SamplerDefaults?
        if let sampler {
            do {
                defaults = try JSONDecoder().decode(SamplerDefaults.self, from: Data(sampler.utf8))
            } catch {
                problems.append(.invalidMetadataValue(
                    key: Key.samplerDefaults,
                    reason: "expected {\"flash_steps\": Int, \"full_steps\": Int, \"guidance\": Number}"))
            }
        }
        var tokenizerData: Data?
        if let tokenizer {
            tokenizerData = Data(base64Encoded: tokenizer)
            if tokenizerData == nil || tokenizerData!.isEmpty {
                problems.append(.invalidMetadataValue(key: Key.tokenizer, reason: "not non-empty base64"))
            }
        }
        guard problems.isEmpty, let version, let architecture, let defaults, let tokenizerData else {
            return .failure(ProblemList(problems))
        }
        return .success(StrobeMetadata(
            formatVersion: version, architectureJSON: architecture, samplerDefaults: defaults,
            tokenizerModel: tokenizerData, modelName: metadata[Key.modelName]))
    }
}
