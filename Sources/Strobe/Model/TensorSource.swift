import StrobeTensor

// The pieces every checkpoint mapping shares: where tensors come from (a recorder of names and
// shapes, or a validated file), and the text encoder's names, which v1 and v2 files have alike.

/// Where a checkpoint mapping (`StrobeDiTCheckpoint.build`, `MMDiTCheckpoint.build`) gets its tensors.
protocol TensorSource {
    func take(_ name: String, _ shape: [Int]) -> Tensor
}

/// Records the names and shapes asked for, handing back empty placeholders.
final class ShapeRecorder: TensorSource {
    private(set) var shapes: [String: [Int]] = [:]

    func take(_ name: String, _ shape: [Int]) -> Tensor {
        precondition(shapes[name] == nil, "checkpoint mapping asks for '\(name)' twice")
        shapes[name] = shape
        return Tensor(shape: [0], storage: [])
    }
}

/// Reads tensors from a file already validated against the same mapping, noting every tensor
/// that holds NaN or infinite values (checked right after the conversion to fp32).
final class FileSource: TensorSource {
    let file: WeightsFile
    private(set) var nonFinite: [WeightsProblem] = []

    init(file: WeightsFile) { self.file = file }

    func take(_ name: String, _ shape: [Int]) -> Tensor {
        guard let tensor = file.tensor(name), tensor.shape == shape else {
            preconditionFailure("validated weights file lacks '\(name)' \(shape)")
        }
        if let (count, first) = NonFiniteScan.find(tensor.storage) {
            nonFinite.append(.nonFiniteValues(tensor: name, count: count, first: first))
        }
        return tensor
    }
}

extension TensorSource {
    /// A linear layer `name.weight [out, in]` (and `name.bias [out]` when `bias`).
    func linear(_ name: String, _ out: Int, _ inFeatures: Int, bias: Bool = true) -> LinearWeights {
        LinearWeights(weight: take(name + ".weight", [out, inFeatures]), bias: bias ? take(name + ".bias", [out]) : nil)
    }

    /// A scalar embedder `name.fc1 [width, frequencies]`, `name.fc2 [width, width]` (both with bias).
    func scalarEmbedder(_ name: String, width: Int, frequencies: Int) -> DenoiserWeights.ScalarEmbedder {
        .init(fc1: linear(name + ".fc1", width, frequencies), fc2: linear(name + ".fc2", width, width))
    }

    /// The T5-style text encoder's tensors (`text_encoder.…`, weights-format.md §5.1).
    func textEncoder(_ t: TextEncoderConfig) -> T5Weights {
        let dt = t.dModel, inner = t.numHeads * t.dKV
        return T5Weights(
            embedding: take("text_encoder.embed.weight", [t.vocabSize, dt]),
            relativeBias: take("text_encoder.relative_bias.weight", [t.relativeAttentionNumBuckets, t.numHeads]),
            blocks: (0..<t.numLayers).map { i in
                let p = "text_encoder.blocks.\(i)."
                return T5Weights.Block(
                    attentionNorm: take(p + "attn_norm.weight", [dt]),
                    query: linear(p + "attn.q", inner, dt, bias: false),
                    key: linear(p + "attn.k", inner, dt, bias: false),
                    value: linear(p + "attn.v", inner, dt, bias: false),
                    output: linear(p + "attn.o", dt, inner, bias: false),
                    feedForwardNorm: take(p + "ff_norm.weight", [dt]),
                    gate: linear(p + "wi_0", t.dFF, dt, bias: false),
                    up: linear(p + "wi_1", t.dFF, dt, bias: false),
                    down: linear(p + "wo", dt, t.dFF, bias: false))
            },
            finalNorm: take("text_encoder.final_norm.weight", [dt]))
    }
}
