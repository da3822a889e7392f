import StrobeTensor

// Shape legend
//   Bc  prompts in the conditioning     L   text tokens (the longest prompt's, others padded)
//   Dt  text width                      D   denoiser width

/// The text-dependent part of the denoiser, computed once per prompt (or batch of prompts)
/// by ``Denoiser/prepare(text:)`` and reused by every sampler step: the projected pooled text
/// and each block's cross-attention keys and values.
public struct TextConditioning: Sendable {
    /// Number of prompts `Bc`; a denoiser call's batch must be `Bc`, or any size when `Bc` is 1.
    public let batch: Int
    /// Text tokens per prompt `L` (with padding).
    public let length: Int
    /// `text_pool(mean of each prompt's tokens)`, `[Bc, D]`.
    let pooled: Tensor
    /// Per block: RMS-normalised (per head) cross-attention keys `[Bc, L, D]`.
    let keys: [Tensor]
    /// Per block: cross-attention values `[Bc, L, D]`.
    let values: [Tensor]
    /// `[Bc·L]`, `false` for padding; nil when no prompt is padded.
    let keyMask: [Bool]?
}

extension Denoiser {
    /// Prepares the conditioning for one prompt's text hidden states `[L, Dt]`.
    public func prepare(text: Tensor) -> TextConditioning {
        prepare(texts: [text])
    }

    /// Prepares the conditioning for a batch of prompts, each `[Lᵢ, Dt]`: shorter prompts are
    /// padded and their padding is masked out of the pooled text and of cross-attention.
    public func prepare(texts: [Tensor]) -> TextConditioning {
        precondition(!texts.isEmpty, "Denoiser.prepare: no prompts")
        for text in texts {
            precondition(
                text.rank == 2 && text.shape[1] == textWidth && text.shape[0] >= 1,
                "Denoiser.prepare: text must be [L ≥ 1, \(textWidth)], got \(text.shape)")
        }
        let heads = config.numHeads, eps = Float(config.normEpsilon)
        let (text, meanText, mask) = PaddedTexts.make(texts, width: textWidth)     // [Bc, L, Dt], [Bc, Dt]
        let batch = texts.count, length = text.shape[1]
        let pooled = weights.textPool(meanText)                                    // [Bc, D]
        var keys: [Tensor] = [], values: [Tensor] = []
        for block in weights.blocks {
            let kv = Ops.split(block.cross.keyValue(text), parts: 2, axis: -1)    // 2 × [Bc, L, D]
            keys.append(Self.headNorm(kv[0], weight: block.cross.keyNorm, heads: heads, eps: eps))
            values.append(kv[1])
        }
        return TextConditioning(
            batch: batch, length: length, pooled: pooled, keys: keys, values: values,
            keyMask: mask.allSatisfy { $0 } ? nil : mask)
    }
}

/// Prompts' text states `[Lᵢ, Dt]` padded to one batch, as both denoiser families prepare them.
enum PaddedTexts {
    /// (`[Bc, L, Dt]` padded with zeros, each prompt's mean over its own tokens `[Bc, Dt]` (sum,
    /// then divide, as the reference), `[Bc·L]` key mask, `false` for padding).
    static func make(_ texts: [Tensor], width: Int) -> (text: Tensor, mean: Tensor, mask: [Bool]) {
        let batch = texts.count, length = texts.map { $0.shape[0] }.max()!
        var storage = [Float](repeating: 0, count: batch * length * width)
        var mask = [Bool](repeating: false, count: batch * length)
        var mean = [Float](repeating: 0, count: batch * width)
        for (b, text) in texts.enumerated() {
            let count = text.shape[0]
            storage.replaceSubrange((b * length * width)..<((b * length + count) * width), with: text.storage)
            for l in 0..<count { mask[b * length + l] = true }
            for j in 0..<width {
                var sum: Float = 0
                for l in 0..<count { sum += text.storage[l * width + j] }
                mean[b * width + j] = sum / Float(count)
            }
        }
        return (Tensor(shape: [batch, length, width], storage: storage), Tensor(shape: [batch, width], storage: mean), mask)
    }
}
