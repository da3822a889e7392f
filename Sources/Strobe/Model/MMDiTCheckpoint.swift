import StrobeTensor

/// The one mapping place between a `strobe-mmdit` (v2) file's tensor names (weights-format.md
/// §5.2) and the typed weights: the text encoder (`text_encoder.…`, as v1), the denoiser
/// (`denoiser.…`, the reference `MMDiT`'s parameter names) and the autoencoder (`autoencoder.…`,
/// ``AutoencoderCheckpoint``).
public enum MMDiTCheckpoint {
    /// Every tensor a v2 file of `config` holds, with its shape.
    public static func expectedTensorShapes(for config: LatentArchitectureConfig) -> [String: [Int]] {
        let recorder = ShapeRecorder()
        _ = build(config, from: recorder)
        return recorder.shapes.merging(
            AutoencoderCheckpoint.expectedTensorShapes(for: config.autoencoder), uniquingKeysWith: { a, _ in a })
    }

    /// Checks that `file` holds exactly the tensors of `config` (every difference in one error),
    /// then reads them; every tensor with NaN or infinite values is named in one error.
    public static func load(
        _ file: WeightsFile, config: LatentArchitectureConfig
    ) throws(WeightsError) -> (text: T5Weights, denoiser: MMDiTWeights, autoencoder: AutoencoderWeights) {
        try file.validate(expected: expectedTensorShapes(for: config))
        let source = FileSource(file: file)
        let (text, denoiser) = build(config, from: source)
        var problems = source.nonFinite
        var autoencoder: AutoencoderWeights?
        do {
            autoencoder = try AutoencoderCheckpoint.load(file, config: config.autoencoder)
        } catch {
            problems += error.problems
        }
        guard let autoencoder, problems.isEmpty else { throw WeightsError(path: file.path, problems: problems) }
        return (text, denoiser, autoencoder)
    }

    /// Asks `source` for the text encoder's and the denoiser's tensors and assembles them.
    static func build(
        _ config: LatentArchitectureConfig, from source: some TensorSource
    ) -> (text: T5Weights, denoiser: MMDiTWeights) {
        let text = source.textEncoder(config.text)
        let d = config.denoiser, dt = config.text.dModel
        let width = d.hiddenSize, dh = d.headDim
        func linear(_ name: String, _ out: Int, _ inFeatures: Int, bias: Bool = true) -> LinearWeights {
            source.linear(name, out, inFeatures, bias: bias)
        }
        func embedder(_ name: String) -> DenoiserWeights.ScalarEmbedder {
            source.scalarEmbedder(name, width: width, frequencies: d.frequencyEmbeddingSize)
        }
        func stream(_ p: String, mlpRatio: Int, keysAndValuesOnly: Bool) -> MMDiTWeights.Stream {
            if keysAndValuesOnly {
                return .init(
                    modulation: linear(p + "mod", 2 * width, width), projections: linear(p + "kv", 2 * width, width),
                    queryNorm: nil, keyNorm: source.take(p + "k_norm.weight", [dh]), output: nil, fc1: nil, fc2: nil)
            }
            return .init(
                modulation: linear(p + "mod", 6 * width, width), projections: linear(p + "qkv", 3 * width, width),
                queryNorm: source.take(p + "q_norm.weight", [dh]), keyNorm: source.take(p + "k_norm.weight", [dh]),
                output: linear(p + "proj", width, width),
                fc1: linear(p + "fc1", mlpRatio * width, width), fc2: linear(p + "fc2", width, mlpRatio * width))
        }
        let denoiser = MMDiTWeights(
            patchEmbedding: linear("denoiser.patch_embed", width, d.patchFeatures),
            fillEmbedding: d.fill ? linear("denoiser.fill_embed", width, d.fillFeatures, bias: false) : nil,
            contextEmbedding: linear("denoiser.context_embed", width, dt),
            timeEmbedder: embedder("denoiser.t_embed"),
            gapEmbedder: embedder("denoiser.gap_embed"),
            guidanceEmbedder: embedder("denoiser.guidance_embed"),
            textPool: linear("denoiser.text_pool", width, dt),
            blocks: (0..<d.depth).map { j in
                let p = "denoiser.blocks.\(j)."
                return MMDiTWeights.Block(
                    image: stream(p + "img.", mlpRatio: d.mlpRatio, keysAndValuesOnly: false),
                    text: stream(p + "txt.", mlpRatio: d.textMLPRatio, keysAndValuesOnly: j == d.depth - 1))
            },
            finalModulation: linear("denoiser.final_mod", 2 * width, width),
            finalLinear: linear("denoiser.final_linear", d.patchFeatures, width))
        return (text, denoiser)
    }
}
