import StrobeTensor

// The v2 denoiser `strobe-mmdit`: a DiT on the autoencoder's normalised latents with joint
// text–image attention (two streams, one attention, SD3-style), v1's t / gap / β conditioning
// and a fill input for editing (python/strobe_training/v2/dit.py, `MMDiT`; docs/architecture.md;
// weights-format.md §5.2). This file holds the model, its prompt preparation and the pieces both
// forward paths share; MMDiT+Workspace.swift is the path that generates (planned buffers, fused
// kernels), Reference/MMDiTReference.swift the same op by op, as a test oracle.
//
// Shape legend
//   B   latents in the call            Bc  prompts in the conditioning (1 or B)
//   C   latent channels                h, w  latent height and width (image sides / 16)
//   p   latent patch                   N = (h/p)·(w/p) image tokens
//   P = C·p·p patch features           Pf = (C + 1)·p·p fill patch features
//   D   width; Hh heads of Dh = D/Hh   L   text tokens (padded);  T = L + N joint tokens
//   Dt  text width
//
//   c = emb_t(t) + emb_gap(t − s) + emb_β(β) + text_pool(mean text)                      [Bc, D]
//   x = patch_embed(patchify(z)) + fill_embed(patchify(fill)) + positions                [B, N, D]
//   y = context_embed(text)                                                              [B, L, D]
//   block: q, k, v = [text stream's ; image stream's] (per-head RMSNorm on q, k; 2-D RoPE on
//          the image's); a = softmax(q kᵀ/√Dh + padding mask) v; each stream adds its gated
//          projection and MLP. The last block's text stream gives keys and values only.
//   ẑ = unpatchify(final_linear(rms(x)·(1 + scale) + shift));  u = (z − ẑ) / max(t, t_min)

/// The text-dependent part of an MMDiT call, computed once per prompt (or batch of prompts) by
/// ``MMDiT/prepare(texts:)``: the projected pooled text and the text stream's input. (The text
/// stream itself changes with the time, so it cannot be prepared further.)
public struct JointTextConditioning: Sendable {
    /// Number of prompts `Bc`; a call's batch must be `Bc`, or any size when `Bc` is 1.
    public let batch: Int
    /// Text tokens per prompt `L` (with padding).
    public let length: Int
    /// `text_pool(mean of each prompt's tokens)`, `[Bc, D]`.
    let pooled: Tensor
    /// `context_embed(text)`, `[Bc, L, D]`.
    let context: Tensor
    /// `[Bc·L]`, `false` for padding; nil when no prompt is padded.
    let keyMask: [Bool]?

    /// Floats held (for a cache's accounting).
    var floatCount: Int { pooled.count + context.count }
}

/// The `strobe-mmdit` denoiser. Stateless and `Sendable`: one value can serve concurrent calls.
public struct MMDiT: Sendable {
    /// The denoiser's hyperparameters.
    public let config: MMDiTConfig
    /// Width `Dt` of the text hidden states.
    public let textWidth: Int
    /// The parameters.
    public let weights: MMDiTWeights

    /// A denoiser from its configuration and weights (see ``MMDiTCheckpoint``).
    public init(config: MMDiTConfig, textWidth: Int, weights: MMDiTWeights) {
        self.config = config
        self.textWidth = textWidth
        self.weights = weights
    }

    /// Prepares the conditioning for one prompt's text hidden states `[L, Dt]`.
    public func prepare(text: Tensor) -> JointTextConditioning {
        prepare(texts: [text])
    }

    /// Prepares the conditioning for prompts `[Lᵢ, Dt]` each: shorter prompts are padded, and
    /// their padding is left out of the pooled text and masked out of attention.
    public func prepare(texts: [Tensor]) -> JointTextConditioning {
        precondition(!texts.isEmpty, "MMDiT.prepare: no prompts")
        for text in texts {
            precondition(text.rank == 2 && text.shape[1] == textWidth && text.shape[0] >= 1,
                         "MMDiT.prepare: text must be [L ≥ 1, \(textWidth)], got \(text.shape)")
        }
        let (text, meanText, mask) = PaddedTexts.make(texts, width: textWidth)     // [Bc, L, Dt], [Bc, Dt]
        return JointTextConditioning(
            batch: texts.count, length: text.shape[1],
            pooled: weights.textPool(meanText),                                      // [Bc, D]
            context: weights.contextEmbedding(text),                                 // [Bc, L, D]
            keyMask: mask.allSatisfy { $0 } ? nil : mask)
    }

    /// RMSNorm epsilon as a Float.
    var eps: Float { Float(config.normEpsilon) }

    /// `c = emb_t(t) + emb_gap(gap) + emb_β(β) + pooled`, `[Bc, D]`.
    func conditioningVector(t: Float, gap: Float, beta: Float, pooled: Tensor) -> Tensor {
        func embed(_ value: Float, _ embedder: DenoiserWeights.ScalarEmbedder) -> Tensor {
            let e = Denoiser.sinusoids(value, size: config.frequencyEmbeddingSize, maxPeriod: config.maxPeriod)  // [1, E]
            return embedder.fc2(Ops.silu(embedder.fc1(e)))                          // [1, D]
        }
        return embed(t, weights.timeEmbedder) + embed(gap, weights.gapEmbedder)
            + embed(beta, weights.guidanceEmbedder) + pooled                        // [Bc, D]
    }

    /// `Linear(SiLU(c))` cut into `chunks` vectors, each RMS-normalised without weight: `chunks × [Bc, 1, D]`.
    func modulation(_ linear: LinearWeights, _ c: Tensor, chunks: Int) -> [Tensor] {
        let m = linear(Ops.silu(c)).reshaped([c.shape[0], chunks, config.hiddenSize])  // [Bc, chunks, D]
        return Ops.split(Ops.rmsNorm(m, eps: eps), parts: chunks, axis: 1)
    }

    /// RMSNorm with `weight [Dh]` over each head of `t [..., Hh·Dh]`.
    func headNorm(_ t: Tensor, _ weight: Tensor) -> Tensor {
        Denoiser.headNorm(t, weight: weight, heads: config.numHeads, eps: eps)
    }
}
