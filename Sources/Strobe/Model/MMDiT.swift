import StrobeTensor

// The v2 denoiser `strobe-mmdit`: a DiT on the autoencoder's normalised latents with joint
// text–image attention (two streams, one attention, SD3-style), v1's t / gap / β conditioning
// and a fill input for editing (python/strobe_training/v2/dit.py, `MMDiT`; docs/architecture.md;
// weights-format.md §5.2). Each step is one tensor operation, as in the reference.
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
        let batch = texts.count, length = texts.map { $0.shape[0] }.max()!, dt = textWidth
        var storage = [Float](repeating: 0, count: batch * length * dt)
        var mask = [Bool](repeating: false, count: batch * length)
        var pooledText = [Float](repeating: 0, count: batch * dt)
        for (b, text) in texts.enumerated() {
            let count = text.shape[0]
            storage.replaceSubrange((b * length * dt)..<((b * length + count) * dt), with: text.storage)
            for l in 0..<count { mask[b * length + l] = true }
            for j in 0..<dt {                                                       // sum, then divide
                var sum: Float = 0
                for l in 0..<count { sum += text.storage[l * dt + j] }
                pooledText[b * dt + j] = sum / Float(count)
            }
        }
        let text = Tensor(shape: [batch, length, dt], storage: storage)             // [Bc, L, Dt]
        return JointTextConditioning(
            batch: batch, length: length,
            pooled: weights.textPool(Tensor(shape: [batch, dt], storage: pooledText)),  // [Bc, D]
            context: weights.contextEmbedding(text),                                 // [Bc, L, D]
            keyMask: mask.allSatisfy { $0 } ? nil : mask)
    }

    /// The predicted clean latent ẑ.
    ///
    /// - Parameters:
    ///   - z: the noisy normalised latent `[B, C, h, w]` (or `[C, h, w]`), sides multiples of `p`.
    ///   - t: the time in [0, 1] (1 is pure noise).
    ///   - gap: `t − s` (0 for the instantaneous velocity).
    ///   - beta: the guidance input β = 1/w.
    ///   - conditioning: from ``prepare(texts:)``; one prompt, or one per latent.
    ///   - fill: `[B, C + 1, h, w]` (or `[C + 1, h, w]`): the known latent × keep, then keep (1
    ///     where the content is given); nil, or keep 0 everywhere, is text to image.
    /// - Returns: ẑ shaped as `z`.
    public func xHat(
        z: Tensor, t: Float, gap: Float, beta: Float, conditioning: JointTextConditioning, fill: Tensor? = nil
    ) -> Tensor {
        precondition(z.rank == 3 || z.rank == 4, "MMDiT: z must be [C, h, w] or [B, C, h, w], got \(z.shape)")
        let latents = z.rank == 4 ? z : z.reshaped([1] + z.shape)                   // [B, C, h, w]
        let (batch, channels, h, w) = (latents.shape[0], latents.shape[1], latents.shape[2], latents.shape[3])
        let p = config.patchSize, d = config.hiddenSize
        precondition(channels == config.latentChannels && h > 0 && w > 0 && h % p == 0 && w % p == 0,
                     "MMDiT: z \(z.shape) must have \(config.latentChannels) channels and sides that are multiples of \(p)")
        precondition(conditioning.batch == 1 || conditioning.batch == batch,
                     "MMDiT: \(conditioning.batch) prompts for \(batch) latents (need 1 or \(batch))")
        precondition(conditioning.pooled.shape.last == d, "MMDiT: the conditioning was prepared by a different model")
        let tokens = (h / p) * (w / p), length = conditioning.length

        let c = conditioningVector(t: t, gap: gap, beta: beta, pooled: conditioning.pooled)  // [Bc, D]
        var x = weights.patchEmbedding(Ops.patchify(latents, patchSize: p))         // [B, N, D]
        if let fill, let fillEmbedding = weights.fillEmbedding {
            let fills = fill.rank == 4 ? fill : fill.reshaped([1] + fill.shape)     // [B, C + 1, h, w]
            precondition(fills.shape == [batch, channels + 1, h, w],
                         "MMDiT: fill \(fill.shape) must be [\(batch), \(channels + 1), \(h), \(w)]")
            x += fillEmbedding(Ops.patchify(fills, patchSize: p))                   // + [B, N, D]
        }
        x = x + PositionEmbedding.table(rows: h / p, columns: w / p, dim: d, grid: config.positionGrid)  // + [N, D]
        var y = conditioning.context                                                // [Bc, L, D]
        if conditioning.batch == 1 && batch > 1 {                                   // one text stream per latent
            y = Ops.concat(Array(repeating: y, count: batch), axis: 0)              // [B, L, D]
        }
        var keyMask: [Bool]?                                                        // [B·T]
        if let mask = conditioning.keyMask {
            keyMask = []
            for b in 0..<batch {
                let prompt = conditioning.batch == 1 ? 0 : b
                keyMask! += mask[(prompt * length)..<((prompt + 1) * length)] + Array(repeating: true, count: tokens)
            }
        }
        let grid = RotaryTable.gridPositions(height: h / p, width: w / p)
        let rotary = RotaryTable(rows: grid.rows, columns: grid.columns, headDim: config.headDim,
                                 theta: Float(config.ropeTheta))
        for block in weights.blocks {
            (x, y) = forward(block, x: x, y: y, c: c, keyMask: keyMask, rotary: rotary)
        }
        let mod = modulation(weights.finalModulation, c, chunks: 2)                 // 2 × [Bc, 1, D]
        let out = weights.finalLinear(Ops.rmsNorm(x, eps: eps) * (1 + mod[1]) + mod[0])  // [B, N, P]
        let result = Ops.unpatchify(out, channels: channels, height: h, width: w, patchSize: p)  // [B, C, h, w]
        return z.rank == 4 ? result : result.reshaped(z.shape)
    }

    /// The velocity `u = (z − ẑ) / max(t, t_min)`; arguments as ``xHat(z:t:gap:beta:conditioning:fill:)``.
    public func velocity(
        z: Tensor, t: Float, gap: Float, beta: Float, conditioning: JointTextConditioning, fill: Tensor? = nil
    ) -> Tensor {
        let predicted = xHat(z: z, t: t, gap: gap, beta: beta, conditioning: conditioning, fill: fill)
        return (z - predicted) / max(t, Float(config.tMin))
    }

    private var eps: Float { Float(config.normEpsilon) }

    /// One joint block on the image stream `x [B, N, D]` and text stream `y [B, L, D]`.
    func forward(
        _ block: MMDiTWeights.Block, x: Tensor, y: Tensor, c: Tensor, keyMask: [Bool]?, rotary: RotaryTable
    ) -> (x: Tensor, y: Tensor) {
        let heads = config.numHeads, length = y.shape[1], tokens = x.shape[1]
        let mx = modulation(block.image.modulation, c, chunks: 6)                   // 6 × [Bc, 1, D]
        let hx = Ops.rmsNorm(x, eps: eps) * (1 + mx[1]) + mx[0]                     // [B, N, D]
        let px = Ops.split(block.image.projections(hx), parts: 3, axis: -1)         // 3 × [B, N, D]
        let qx = Ops.applyRotary(headNorm(px[0], block.image.queryNorm!), rotary, heads: heads)
        let kx = Ops.applyRotary(headNorm(px[1], block.image.keyNorm), rotary, heads: heads)

        let text = block.text
        let my = modulation(text.modulation, c, chunks: text.keysAndValuesOnly ? 2 : 6)  // 2 or 6 × [Bc, 1, D]
        let hy = Ops.rmsNorm(y, eps: eps) * (1 + my[1]) + my[0]                     // [B, L, D]
        let py = Ops.split(text.projections(hy), parts: text.keysAndValuesOnly ? 2 : 3, axis: -1)
        let (ky, vy) = text.keysAndValuesOnly ? (py[0], py[1]) : (py[1], py[2])     // [B, L, D]
        let q = text.keysAndValuesOnly
            ? qx                                                                    // [B, N, D]
            : Ops.concat([headNorm(py[0], text.queryNorm!), qx], axis: 1)           // [B, T, D]
        let k = Ops.concat([headNorm(ky, text.keyNorm), kx], axis: 1)               // [B, T, D]
        let v = Ops.concat([vy, px[2]], axis: 1)                                    // [B, T, D]
        let a = Ops.attention(q: q, k: k, v: v, heads: heads, keyMask: keyMask)     // [B, T or N, D]

        let parts = text.keysAndValuesOnly ? [a] : Ops.split(a, sizes: [length, tokens], axis: 1)
        var x = x
        x += mx[2] * block.image.output!(parts.last!)
        x += mx[5] * block.image.fc2!(Ops.gelu(block.image.fc1!(Ops.rmsNorm(x, eps: eps) * (1 + mx[4]) + mx[3])))
        guard !text.keysAndValuesOnly else { return (x, y) }
        var y = y
        y += my[2] * text.output!(parts[0])
        y += my[5] * text.fc2!(Ops.gelu(text.fc1!(Ops.rmsNorm(y, eps: eps) * (1 + my[4]) + my[3])))
        return (x, y)
    }

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
