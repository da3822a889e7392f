import Foundation
import StrobeTensor

/// A loaded `strobe-mmdit` (v2) model: text encoder, latent MMDiT denoiser and the latent
/// autoencoder whose normalised latents it samples (weights-format.md §5.2).
///
/// ```swift
/// let model = try LatentStrobeModel(weights: WeightsFile(path: path))
/// let conditioning = model.denoiser.prepare(text: model.encodeText(ids))      // once per prompt
/// let u = model.denoiser.velocity(z: z, t: t, gap: t - s, beta: 1 / w, conditioning: conditioning)
/// let image = model.autoencoder.decode(z0)                                    // [1, 3, 16h, 16w]
/// ```
public struct LatentStrobeModel: Sendable {
    /// The architecture read from the file's `strobe.architecture`.
    public let config: LatentArchitectureConfig
    /// Token ids → text hidden states.
    public let textEncoder: T5Encoder
    /// (noisy latent, times, guidance, text, fill) → clean-latent prediction and velocity.
    public let denoiser: MMDiT
    /// Pixels ⇄ normalised latents.
    public let autoencoder: LatentAutoencoder

    /// Loads a v2 model: decodes and checks the architecture, checks that the file holds exactly
    /// its tensors (every difference in one error), then reads them.
    ///
    /// - Throws: ``WeightsError`` naming every problem (architecture, missing, unexpected or
    ///   misshapen tensors, non-finite values).
    public init(weights file: WeightsFile) throws(WeightsError) {
        guard let metadata = file.strobe else {
            throw WeightsError(path: file.path, problems: [.missingMetadata(key: StrobeMetadata.Key.architecture)])
        }
        let config: LatentArchitectureConfig
        do {
            config = try LatentArchitectureConfig(json: metadata.architectureJSON)
        } catch {
            throw WeightsError(path: file.path, problems: error.problems.map { .invalidArchitecture(reason: $0) })
        }
        let weights = try MMDiTCheckpoint.load(file, config: config)
        self.config = config
        textEncoder = T5Encoder(config: config.text, weights: weights.text)
        denoiser = MMDiT(config: config.denoiser, textWidth: config.text.dModel, weights: weights.denoiser)
        autoencoder = LatentAutoencoder(config: config.autoencoder, weights: weights.autoencoder)
    }

    /// Encodes one prompt's token ids (with EOS) into text hidden states `[L, Dt]`.
    public func encodeText(_ ids: [Int32]) -> Tensor {
        textEncoder(ids)
    }
}
