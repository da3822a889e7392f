import Foundation
import StrobeTensor

/// A loaded `strobe-dit` model: its configuration, text encoder and denoiser.
///
/// ```swift
/// let model = try StrobeModel(weights: WeightsFile(path: path))
/// let text = model.encodeText(tokenizer.encode(prompt))          // [L, Dt]
/// let conditioning = model.denoiser.prepare(text: text)           // once per prompt
/// let u = model.denoiser.velocity(x: x, t: t, gap: t - s, beta: 1 / w, conditioning: conditioning)
/// ```
///
/// The value is immutable and `Sendable`; the weights are copied out of the file as fp32.
public struct StrobeModel: Sendable {
    /// The architecture read from the file's `strobe.architecture`.
    public let config: ArchitectureConfig
    /// Token ids → text hidden states.
    public let textEncoder: T5Encoder
    /// (noisy image, times, guidance, text) → clean-image prediction and velocity.
    public let denoiser: Denoiser

    /// Loads a model from a weights file: decodes and checks the architecture, checks that the
    /// file holds exactly its tensors (weights-format.md §6 rule 10; every difference reported in
    /// one error), then reads them.
    ///
    /// - Throws: ``WeightsError`` with ``WeightsProblem/invalidArchitecture(reason:)`` lines for
    ///   an unusable architecture, or missing / unexpected / misshapen tensor problems.
    public init(weights file: WeightsFile) throws(WeightsError) {
        guard let metadata = file.strobe else {
            throw WeightsError(path: file.path, problems: [.missingMetadata(key: StrobeMetadata.Key.architecture)])
        }
        let config: ArchitectureConfig
        do {
            config = try ArchitectureConfig(json: metadata.architectureJSON)
        } catch {
            throw WeightsError(path: file.path, problems: error.problems.map { .invalidArchitecture(reason: $0) })
        }
        let weights = try StrobeDiTCheckpoint.load(file, config: config)
        self.init(config: config, text: weights.text, denoiser: weights.denoiser)
    }

    /// A model from its configuration and typed weights.
    public init(config: ArchitectureConfig, text: T5Weights, denoiser: DenoiserWeights) {
        self.config = config
        self.textEncoder = T5Encoder(config: config.text, weights: text)
        self.denoiser = Denoiser(config: config.denoiser, textWidth: config.text.dModel, weights: denoiser)
    }

    /// Encodes one prompt's token ids (with EOS, as ``Tokenizer/encode(_:addEOS:)`` gives them)
    /// into text hidden states `[L, Dt]`. Limiting prompts to `config.maxPromptTokens` is the
    /// caller's policy.
    public func encodeText(_ ids: [Int32]) -> Tensor {
        textEncoder(ids)
    }
}
