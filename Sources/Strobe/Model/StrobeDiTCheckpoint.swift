import StrobeTensor

/// The one mapping place between a `strobe-dit` checkpoint's tensor names (weights-format.md
/// §5.1) and the typed weight structs the forward code reads.
///
/// Each tensor is named and shaped once, in `build`: the expected name → shape table is what
/// `build` asks for when run against a recorder, so the validation table and the loader cannot
/// drift apart.
public enum StrobeDiTCheckpoint {
    /// Every tensor a checkpoint of `config` holds, with its shape.
    public static func expectedTensorShapes(for config: ArchitectureConfig) -> [String: [Int]] {
        let recorder = ShapeRecorder()
        _ = build(config, from: recorder)
        return recorder.shapes
    }

    /// Checks that `file` holds exactly the tensors of `config` (every difference in one
    /// error), then reads them into typed weights; a tensor with NaN or infinite values is an
    /// error naming it (every such tensor listed).
    public static func load(
        _ file: WeightsFile, config: ArchitectureConfig
    ) throws(WeightsError) -> (text: T5Weights, denoiser: DenoiserWeights) {
        try file.validate(expected: expectedTensorShapes(for: config))
        let source = FileSource(file: file)
        let weights = build(config, from: source)
        if !source.nonFinite.isEmpty { throw WeightsError(path: file.path, problems: source.nonFinite) }
        return weights
    }

    /// Asks `source` for every tensor, by name and shape, and assembles the weights.
    static func build(
        _ config: ArchitectureConfig, from source: some TensorSource
    ) -> (text: T5Weights, denoiser: DenoiserWeights) {
        func tensor(_ name: String, _ shape: [Int]) -> Tensor { source.take(name, shape) }
        func linear(_ name: String, _ out: Int, _ inFeatures: Int) -> LinearWeights {
            source.linear(name, out, inFeatures)
        }

        let text = source.textEncoder(config.text)

        let d = config.denoiser
        let width = d.hiddenSize, dh = d.headDim, mlp = d.mlpRatio * d.hiddenSize, dt = config.text.dModel
        func embedder(_ name: String) -> DenoiserWeights.ScalarEmbedder {
            source.scalarEmbedder(name, width: width, frequencies: d.frequencyEmbeddingSize)
        }
        let denoiser = DenoiserWeights(
            patchEmbedding: linear("denoiser.patch_embed", width, d.patchFeatures),
            timeEmbedder: embedder("denoiser.t_embed"),
            gapEmbedder: embedder("denoiser.gap_embed"),
            guidanceEmbedder: embedder("denoiser.guidance_embed"),
            textPool: linear("denoiser.text_pool", width, dt),
            blocks: (0..<d.depth).map { j in
                let p = "denoiser.blocks.\(j)."
                return DenoiserWeights.Block(
                    modulation: linear(p + "mod", 6 * width, width),
                    attention: .init(
                        qkv: linear(p + "attn.qkv", 3 * width, width),
                        queryNorm: tensor(p + "attn.q_norm.weight", [dh]),
                        keyNorm: tensor(p + "attn.k_norm.weight", [dh]),
                        projection: linear(p + "attn.proj", width, width)),
                    cross: .init(
                        query: linear(p + "cross.q", width, width),
                        keyValue: linear(p + "cross.kv", 2 * width, dt),
                        queryNorm: tensor(p + "cross.q_norm.weight", [dh]),
                        keyNorm: tensor(p + "cross.k_norm.weight", [dh]),
                        projection: linear(p + "cross.proj", width, width)),
                    fc1: linear(p + "fc1", mlp, width),
                    fc2: linear(p + "fc2", width, mlp))
            },
            finalModulation: linear("denoiser.final_mod", 2 * width, width),
            finalLinear: linear("denoiser.final_linear", d.patchFeatures, width))
        return (text, denoiser)
    }
}
