import Foundation
import StrobeTensor

/// The architecture a weights file declares in `strobe.architecture`: v1's pixel DiT
/// (`strobe-dit`, weights-format.md §5.1) or v2's latent MMDiT (`strobe-mmdit`, §5.2).
public enum ModelArchitecture: Sendable, Equatable {
    /// `strobe-dit`: a DiT on pixels, patch 16, cross-attention to the text.
    case pixel(ArchitectureConfig)
    /// `strobe-mmdit`: an MMDiT on a convolutional autoencoder's latents, joint attention, fill input.
    case latent(LatentArchitectureConfig)

    /// The `family` key of architecture JSON, or nil when there is none to read.
    static func family(ofJSON json: String) -> String? {
        struct Family: Decodable { let family: String }
        return try? JSONDecoder().decode(Family.self, from: Data(json.utf8)).family
    }

    /// The family name.
    public var family: String {
        switch self {
        case .pixel(let config): config.family
        case .latent(let config): config.family
        }
    }

    /// The text encoder's configuration.
    public var text: TextEncoderConfig {
        switch self {
        case .pixel(let config): config.text
        case .latent(let config): config.text
        }
    }

    /// The longest prompt the model was made for, in tokens with the end-of-sequence token.
    public var maxPromptTokens: Int {
        switch self {
        case .pixel(let config): config.maxPromptTokens
        case .latent(let config): config.maxPromptTokens
        }
    }

    /// What image sides must be multiples of: v1's patch (16 pixels), v2's latent patch in
    /// pixels (2 latent cells of 16: 32).
    public var sideMultiple: Int {
        switch self {
        case .pixel(let config): config.denoiser.patchSize
        case .latent(let config): config.latentFactor * config.denoiser.patchSize
        }
    }

    /// The size the model makes for `ratio`: v1 about 256² in area, v2 twice each side (about 512²).
    public func size(of ratio: AspectRatio) -> ImageSize {
        switch self {
        case .pixel: ratio.size(patchSize: sideMultiple)
        case .latent: ratio.size(patchSize: sideMultiple, scale: 2)
        }
    }
}

/// The model an engine runs, by the family its weights file declares.
public enum LoadedModel: Sendable {
    /// A v1 `strobe-dit` model.
    case pixel(StrobeModel)
    /// A v2 `strobe-mmdit` model.
    case latent(LatentStrobeModel)

    /// Loads the model `file` holds, whichever family it is.
    ///
    /// - Throws: ``WeightsError`` naming every problem of the architecture or the tensors.
    public init(weights file: WeightsFile) throws(WeightsError) {
        guard let metadata = file.strobe else {
            throw WeightsError(path: file.path, problems: [.missingMetadata(key: StrobeMetadata.Key.architecture)])
        }
        if ModelArchitecture.family(ofJSON: metadata.architectureJSON) == LatentArchitectureConfig.family {
            self = .latent(try LatentStrobeModel(weights: file))
        } else {
            self = .pixel(try StrobeModel(weights: file))
        }
    }

    /// The model's architecture.
    public var architecture: ModelArchitecture {
        switch self {
        case .pixel(let model): .pixel(model.config)
        case .latent(let model): .latent(model.config)
        }
    }

    /// The v1 model, or nil for a v2 one.
    public var pixel: StrobeModel? {
        if case .pixel(let model) = self { model } else { nil }
    }

    /// The v2 model, or nil for a v1 one.
    public var latent: LatentStrobeModel? {
        if case .latent(let model) = self { model } else { nil }
    }

    /// Encodes one prompt's token ids (with EOS) into text hidden states `[L, Dt]`.
    public func encodeText(_ ids: [Int32]) -> Tensor {
        switch self {
        case .pixel(let model): model.encodeText(ids)
        case .latent(let model): model.encodeText(ids)
        }
    }

    /// The stage that turns the sampler's x₀ into pixels (and pixels into the sampler's space,
    /// for editing).
    public var sampleSpace: any SampleSpace {
        switch self {
        case .pixel(let model): PixelDecoder(channels: model.config.denoiser.channels)
        case .latent(let model): LatentDecoder(autoencoder: model.autoencoder)
        }
    }
}
