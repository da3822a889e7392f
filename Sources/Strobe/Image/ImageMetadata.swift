import Foundation

/// What a generated image records about how it was made, written into its PNG as the
/// AUTOMATIC1111 `parameters` chunk and Strobe's JSON `strobe` chunk.
public struct ImageMetadata: Codable, Sendable, Equatable {
    /// The prompt as given (may be empty).
    public var prompt: String
    /// True when the prompt is empty: the image is unconditional.
    public var unconditional: Bool
    /// This image's own seed (`seed + index` within a batch).
    public var seed: UInt64
    /// The sampler's name (`flash`, `full`).
    public var sampler: String
    /// Steps (network calls).
    public var steps: Int
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// The guidance weight `w` (β = 1/w) the model was run with.
    public var guidance: Double
    /// The model's name (`strobe.model_name`, else the file name without extension).
    public var model: String
    /// SHA-256 of the model's weights file, 64 hex digits.
    public var modelSHA256: String
    /// The producer, `Strobe <version>`.
    public var version: String
    /// The matrix products' number format when not the default fp32 (`"bf16"`); nil for fp32,
    /// whose images are bit-exact.
    public var precision: String?
    /// For an edited image: `modify`, `inpaint` or `reframe`; nil for text to image.
    public var operation: String?
    /// For an edited image: SHA-256 of the input file.
    public var inputSHA256: String?
    /// For an edited image: its settings (`strength`, `anchor`, `mask`, …).
    public var editSettings: [String: String]?

    public init(
        prompt: String, seed: UInt64, sampler: String, steps: Int, width: Int, height: Int,
        guidance: Double, model: String, modelSHA256: String, version: String = "Strobe \(strobeVersion)"
    ) {
        self.prompt = prompt
        self.unconditional = prompt.isEmpty
        self.seed = seed
        self.sampler = sampler
        self.steps = steps
        self.width = width
        self.height = height
        self.guidance = guidance
        self.model = model
        self.modelSHA256 = modelSHA256
        self.version = version
    }

    enum CodingKeys: String, CodingKey {
        case prompt, unconditional, seed, sampler, steps, width, height, guidance, model, version, precision, operation
        case inputSHA256 = "input_sha256", editSettings = "edit"
        case modelSHA256 = "model_sha256"
    }

    /// The short model hash AUTOMATIC1111 shows: the first 10 hex digits of the SHA-256.
    public var shortModelHash: String { String(modelSHA256.prefix(10)) }

    /// The `parameters` chunk's settings:
    /// `<prompt>\nSteps: N, Sampler: X, Seed: S, Size: WxH, Model hash: H, Model: M, Version: V`.
    public var parameters: A1111Parameters {
        A1111Parameters(
            prompt: prompt, steps: steps, sampler: sampler, seed: seed, width: width, height: height,
            model: model, modelHash: shortModelHash, version: version)
    }

    /// Compact JSON with sorted keys (the `strobe` chunk's text).
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// The PNG text chunks: `parameters`, then `strobe`.
    public var textChunks: [PNGTextChunk] {
        [.parameters(parameters), .strobe(json: json())]
    }
}
