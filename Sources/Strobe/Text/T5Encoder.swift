import Foundation
import StrobeTensor

// The text encoder: T5 v1.1-style, computed as Hugging Face `T5EncoderModel` computes it
// (python/strobe_reference/model.py, `TextEncoder`).
//
// Shape legend
//   L   tokens (with the end-of-sequence token)     Dt  width
//   Ht  heads                                        Dk  head size
//   Df  feed-forward width

/// Token ids → text hidden states, for one prompt.
///
/// Relative position buckets (bidirectional) index a bias shared by every layer; attention is
/// not scaled; norms are RMSNorm with weight; the feed-forward is gated GELU (tanh).
public struct T5Encoder: Sendable {
    /// The encoder's hyperparameters.
    public let config: TextEncoderConfig
    /// The encoder's parameters.
    public let weights: T5Weights

    /// An encoder from its configuration and weights (see ``StrobeDiTCheckpoint``).
    public init(config: TextEncoderConfig, weights: T5Weights) {
        self.config = config
        self.weights = weights
    }

    /// Encodes `ids [L]` (token ids with EOS, unpadded) into hidden states `[L, Dt]`.
    ///
    /// - Precondition: every id is in the vocabulary.
    public func callAsFunction(_ ids: [Int32]) -> Tensor {
        let length = ids.count
        let eps = Float(config.layerNormEpsilon), heads = config.numHeads
        var x = Ops.embedding(ids.map(Int.init), table: weights.embedding)   // [L, Dt]
        let bias = positionBias(length: length)                              // [Ht, L, L]
        for block in weights.blocks {
            let h = Ops.rmsNorm(x, weight: block.attentionNorm, eps: eps)    // [L, Dt]
            let q = block.query(h), k = block.key(h), v = block.value(h)     // [L, Ht·Dk]
            let attended = Ops.attention(q: q, k: k, v: v, heads: heads, scale: 1, bias: bias)  // [L, Ht·Dk]
            x += block.output(attended)                                      // [L, Dt]
            let f = Ops.rmsNorm(x, weight: block.feedForwardNorm, eps: eps)  // [L, Dt]
            x += block.down(Ops.gelu(block.gate(f)) * block.up(f))           // [L, Df] → [L, Dt]
        }
        return Ops.rmsNorm(x, weight: weights.finalNorm, eps: eps)           // [L, Dt]
    }

    /// The attention bias `[Ht, L, L]`: entry `[h, i, j]` is the bias of head `h` for query `i`
    /// and key `j`, looked up by the bucket of `j − i`.
    func positionBias(length: Int) -> Tensor {
        let heads = config.numHeads
        let table = weights.relativeBias.storage                              // [buckets, Ht]
        var bias = [Float](repeating: 0, count: heads * length * length)
        // Buckets depend only on j − i: compute each distance's bucket once.
        let buckets = (0..<max(0, 2 * length - 1)).map {
            Self.relativePositionBucket(
                $0 - (length - 1), buckets: config.relativeAttentionNumBuckets,
                maxDistance: config.relativeAttentionMaxDistance)
        }
        for i in 0..<length {
            for j in 0..<length {
                let bucket = buckets[j - i + length - 1]
                for h in 0..<heads {
                    bias[(h * length + i) * length + j] = table[bucket * heads + h]
                }
            }
        }
        return Tensor(shape: [heads, length, length], storage: bias)
    }

    /// The bidirectional T5 bucket of a relative position `memory − query`.
    ///
    /// Half the buckets hold positive distances; within each half, distances below
    /// `maxExact = buckets/4` get their own bucket and larger ones share logarithmically sized
    /// buckets up to `maxDistance`. The logarithm is taken in Float32 and truncated, as the
    /// reference (and Hugging Face) compute it, so bucket edges fall where theirs do.
    static func relativePositionBucket(_ relative: Int, buckets: Int, maxDistance: Int) -> Int {
        let half = buckets / 2
        let base = relative > 0 ? half : 0
        let n = abs(relative)
        let maxExact = half / 2
        if n < maxExact { return base + n }
        let ratio = Float(n) / Float(maxExact)                                    // fp32, as `n.float() / max_exact`
        let scale = Float(Foundation.log(Double(maxDistance) / Double(maxExact)))  // a Python float, used as fp32
        let large = maxExact + Int(Foundation.log(ratio) / scale * Float(half - maxExact))
        return base + min(large, half - 1)
    }
}
