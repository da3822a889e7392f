import Foundation

/// The hyperparameters of the v2 latent autoencoder, as the reference's `AutoencoderConfig`
/// (`python/strobe_training/v2/autoencoder.py`), with the same snake_case keys in JSON.
///
/// The encoder has four levels (at H/2, H/4, H/8, H/16), each a 3×3 stride-2 convolution to its
/// width followed by its residual blocks; the decoder five (at H/16 … H), each above the first
/// starting with a 2× upsampling and a 3×3 convolution. Every key is required and unknown keys
/// are rejected; a broken invariant throws ``ArchitectureError`` naming the values. Values are
/// immutable, so a configuration that exists is valid.
public struct AutoencoderConfig: ArchitectureJSON, Sendable, Equatable {
    /// How the decoder doubles its side between levels.
    public enum Upsample: String, Codable, Sendable, Equatable {
        /// Bilinear, half-pixel centres, edges repeated (`Ops.upsampleBilinear2x`).
        case bilinear
        /// Nearest neighbour (`Ops.upsampleNearest`).
        case nearest
    }

    /// Image pixels per latent pixel along a side.
    public static let factor = 16

    /// Channels `C` of the latent.
    public let latentChannels: Int
    /// Widths of the encoder's four levels (at H/2, H/4, H/8, H/16).
    public let encoderChannels: [Int]
    /// Residual blocks of each encoder level.
    public let encoderBlocks: [Int]
    /// Widths of the decoder's five levels (at H/16, H/8, H/4, H/2, H).
    public let decoderChannels: [Int]
    /// Residual blocks of each decoder level.
    public let decoderBlocks: [Int]
    /// The decoder's 2× upsampling.
    public let upsample: Upsample
    /// Epsilon of every channel RMS norm.
    public let eps: Double

    /// The reference's default configuration (512² ↔ 32×32×16): encoder 32, 64, 128, 192 with
    /// 0, 1, 1, 1 blocks; decoder 192, 128, 64, 32, 16 with 2, 1, 1, 0, 0 blocks; bilinear.
    public static let standard = try! AutoencoderConfig()

    /// Makes a configuration (defaults as the reference's) and checks its invariants.
    public init(
        latentChannels: Int = 16, encoderChannels: [Int] = [32, 64, 128, 192], encoderBlocks: [Int] = [0, 1, 1, 1],
        decoderChannels: [Int] = [192, 128, 64, 32, 16], decoderBlocks: [Int] = [2, 1, 1, 0, 0],
        upsample: Upsample = .bilinear, eps: Double = 1e-6
    ) throws(ArchitectureError) {
        self.latentChannels = latentChannels
        self.encoderChannels = encoderChannels
        self.encoderBlocks = encoderBlocks
        self.decoderChannels = decoderChannels
        self.decoderBlocks = decoderBlocks
        self.upsample = upsample
        self.eps = eps
        if !problems.isEmpty { throw .invalid(problems: problems) }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case latentChannels = "latent_channels", encoderChannels = "encoder_channels"
        case encoderBlocks = "encoder_blocks", decoderChannels = "decoder_channels"
        case decoderBlocks = "decoder_blocks", upsample, eps
    }

    public init(from decoder: any Decoder) throws {
        self = try Unchecked<AutoencoderConfig>(from: decoder).value
        if !problems.isEmpty { throw ArchitectureError.invalid(problems: problems) }
    }

    /// Decodes without checking the invariants.
    init(uncheckedFrom decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        latentChannels = try c.decode(Int.self, forKey: .latentChannels)
        encoderChannels = try c.decode([Int].self, forKey: .encoderChannels)
        encoderBlocks = try c.decode([Int].self, forKey: .encoderBlocks)
        decoderChannels = try c.decode([Int].self, forKey: .decoderChannels)
        decoderBlocks = try c.decode([Int].self, forKey: .decoderBlocks)
        upsample = try c.decode(Upsample.self, forKey: .upsample)
        eps = try c.decode(Double.self, forKey: .eps)
    }

    /// Every broken invariant, one line each with the values.
    var problems: [String] { problems(prefix: "") }

    /// Every broken invariant, keys written with `prefix` (`autoencoder.` inside a v2 configuration).
    func problems(prefix: String) -> [String] {
        var list: [String] = []
        if latentChannels < 1 { list.append("\(prefix)latent_channels \(latentChannels) must be at least 1") }
        func check(_ name: String, _ values: [Int], count: Int, minimum: Int) {
            if values.count != count {
                list.append("\(prefix)\(name) \(values) must have \(count) entries (one per level)")
            } else if values.contains(where: { $0 < minimum }) {
                list.append("\(prefix)\(name) \(values) must all be at least \(minimum)")
            }
        }
        check("encoder_channels", encoderChannels, count: 4, minimum: 1)
        check("encoder_blocks", encoderBlocks, count: 4, minimum: 0)
        check("decoder_channels", decoderChannels, count: 5, minimum: 1)
        check("decoder_blocks", decoderBlocks, count: 5, minimum: 0)
        if !(eps > 0 && eps.isFinite) { list.append("\(prefix)eps \(eps) must be positive and finite") }
        return list
    }
}

extension AutoencoderConfig: UncheckedDecodable {}
