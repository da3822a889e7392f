import StrobeTensor

// The MMDiT's reference path: a test oracle, not the path that generates images
// (MMDiT+Workspace.swift is). Each step is one tensor operation, as in the PyTorch reference
// (`MMDiT` and `JointBlock` in python/strobe_training/v2/dit.py), so it reads like the
// mathematics; MMDiTParityTests compare the fast path against it. Shape legend: MMDiT.swift.

extension MMDiT {
    /// ẑ computed op by op (see ``xHat(z:t:gap:beta:conditioning:fill:)`` for the arguments):
    /// the readable definition the fast path is tested against.
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
    func referenceXHat(
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
}
