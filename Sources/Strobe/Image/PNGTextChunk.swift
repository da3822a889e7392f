/// A PNG text chunk: a keyword and its text.
///
/// Text that Latin-1 can hold is written as `tEXt`; other text as `iTXt` (UTF-8), the way
/// Pillow (and so AUTOMATIC1111) does it. Reading returns `tEXt`, `zTXt` and `iTXt` alike.
public struct PNGTextChunk: Sendable, Equatable, Hashable, Codable {
    /// The keyword: 1–79 printable Latin-1 characters without leading, trailing or double spaces.
    public var key: String
    /// The text; must not contain NUL.
    public var text: String

    /// A chunk with `key` and `text`.
    public init(key: String, text: String) {
        self.key = key
        self.text = text
    }

    /// The `parameters` chunk in AUTOMATIC1111's form, which image browsers and UIs parse.
    public static func parameters(_ parameters: A1111Parameters) -> PNGTextChunk {
        PNGTextChunk(key: "parameters", text: parameters.text)
    }

    /// The `strobe` chunk holding Strobe's own JSON description of the generation.
    public static func strobe(json: String) -> PNGTextChunk {
        PNGTextChunk(key: "strobe", text: json)
    }

    /// The Latin-1 bytes of `text`, or nil when some character is outside Latin-1.
    var latin1Text: [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            guard scalar.value <= 0xff else { return nil }
            bytes.append(UInt8(scalar.value))
        }
        return bytes
    }

    /// Checks the PNG rules for keywords and text.
    func validate() throws(ImageError) {
        let scalars = Array(key.unicodeScalars)
        guard (1...79).contains(scalars.count) else {
            throw .invalidTextKey(key: key, reason: "must be 1 to 79 characters, has \(scalars.count)")
        }
        for s in scalars where !((0x20...0x7e).contains(s.value) || (0xa1...0xff).contains(s.value)) {
            throw .invalidTextKey(key: key, reason: "character U+\(String(s.value, radix: 16, uppercase: true)) is not printable Latin-1")
        }
        if scalars.first == " " || scalars.last == " " || key.contains("  ") {
            throw .invalidTextKey(key: key, reason: "leading, trailing or consecutive spaces")
        }
        if text.unicodeScalars.contains("\u{0}") {
            throw .invalidText(key: key, reason: "contains a NUL character")
        }
    }

    /// Decodes Latin-1 bytes (each byte is the code point of the same value).
    static func latin1String<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var text = ""
        text.unicodeScalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
        return text
    }
}

/// Generation settings rendered in AUTOMATIC1111's `parameters` form:
/// `<prompt>\nSteps: N, Sampler: X, Seed: S, Size: WxH, Model: M, Version: V`, with
/// `Model hash: H, ` before `Model:` when a hash is given.
public struct A1111Parameters: Sendable, Equatable, Codable {
    /// The prompt (may span lines).
    public var prompt: String
    /// Number of sampling steps.
    public var steps: Int
    /// Sampler name.
    public var sampler: String
    /// The seed this image was made with (its own seed within a batch).
    public var seed: UInt64
    /// Image width in pixels.
    public var width: Int
    /// Image height in pixels.
    public var height: Int
    /// Model name.
    public var model: String
    /// A short model hash (AUTOMATIC1111 writes the first 10 hex digits of its SHA-256), if any.
    public var modelHash: String?
    /// Producer version.
    public var version: String

    /// Settings for one image; `version` defaults to Strobe's.
    public init(prompt: String, steps: Int, sampler: String, seed: UInt64, width: Int, height: Int,
                model: String, modelHash: String? = nil, version: String = "Strobe \(strobeVersion)") {
        self.prompt = prompt
        self.steps = steps
        self.sampler = sampler
        self.seed = seed
        self.width = width
        self.height = height
        self.model = model
        self.modelHash = modelHash
        self.version = version
    }

    /// The chunk text.
    public var text: String {
        "\(prompt)\nSteps: \(steps), Sampler: \(sampler), Seed: \(seed), Size: \(width)x\(height), "
            + (modelHash.map { "Model hash: \($0), " } ?? "") + "Model: \(model), Version: \(version)"
    }
}
