import StrobeTensor

// The MMDiT's generating path: the forward pass of MMDiT.swift planned into an MMDiTWorkspace,
// with v1's fused kernels (modulated RMSNorm, head norm + RoPE in place on the q/k rows, GELU,
// gated residual adds) and attention read straight from the q/k/v rows. Per latent the rows are
// its L text rows, then its N image rows, so the joint attention needs no concatenation; each
// stream's weights apply to its own rows. Reference/MMDiTReference.swift computes the same op by
// op. Shape legend: MMDiT.swift and MMDiTWorkspace.swift.

extension MMDiT {
    /// A workspace for calls on `batch` latents of `height × width` cells with a prompt of
    /// `textLength` tokens (``JointTextConditioning/length``), whose matrix products run in
    /// `precision` (bf16 needs `Precision.isSupported`).
    public func makeWorkspace(
        batch: Int, height: Int, width: Int, textLength: Int, precision: Precision = .fp32
    ) -> MMDiTWorkspace {
        precondition(precision.isSupported, "MMDiT: \(precision.rawValue) is not supported on this CPU")
        return MMDiTWorkspace(
            config: config, batch: batch, height: height, width: width, textLength: textLength, precision: precision)
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
    ///
    /// Makes a workspace for this call; a sampling loop should make one
    /// (``makeWorkspace(batch:height:width:textLength:precision:)``) and pass it to every call instead.
    public func xHat(
        z: Tensor, t: Float, gap: Float, beta: Float, conditioning: JointTextConditioning, fill: Tensor? = nil
    ) -> Tensor {
        precondition(z.rank == 3 || z.rank == 4, "MMDiT: z must be [C, h, w] or [B, C, h, w], got \(z.shape)")
        let batch = z.rank == 4 ? z.shape[0] : 1
        let workspace = makeWorkspace(
            batch: batch, height: z.shape[z.rank - 2], width: z.shape[z.rank - 1], textLength: conditioning.length)
        return xHat(z: z, t: t, gap: gap, beta: beta, conditioning: conditioning, fill: fill, workspace: workspace)
    }

    /// The velocity `u = (z − ẑ) / max(t, t_min)`; arguments as ``xHat(z:t:gap:beta:conditioning:fill:)``.
    public func velocity(
        z: Tensor, t: Float, gap: Float, beta: Float, conditioning: JointTextConditioning, fill: Tensor? = nil
    ) -> Tensor {
        let predicted = xHat(z: z, t: t, gap: gap, beta: beta, conditioning: conditioning, fill: fill)
        return (z - predicted) / max(t, Float(config.tMin))
    }

    /// ``velocity(z:t:gap:beta:conditioning:fill:)`` computed in `workspace`.
    public func velocity(
        z: Tensor, t: Float, gap: Float, beta: Float, conditioning: JointTextConditioning, fill: Tensor?,
        workspace: MMDiTWorkspace
    ) -> Tensor {
        let predicted = xHat(z: z, t: t, gap: gap, beta: beta, conditioning: conditioning, fill: fill, workspace: workspace)
        return (z - predicted) / max(t, Float(config.tMin))
    }

    /// ẑ computed in `workspace`'s buffers (made for this batch, size and prompt length); see
    /// ``xHat(z:t:gap:beta:conditioning:fill:)``.
    public func xHat(
        z: Tensor, t: Float, gap: Float, beta: Float, conditioning: JointTextConditioning, fill: Tensor?,
        workspace ws: MMDiTWorkspace
    ) -> Tensor {
        let c = config.latentChannels, d = config.hiddenSize
        let expected = [ws.batch, c, ws.height, ws.width]
        precondition(z.shape == expected || (ws.batch == 1 && z.shape == Array(expected.dropFirst())),
                     "MMDiT: z \(z.shape) does not match the workspace's \(expected)")
        precondition(conditioning.batch == 1 || conditioning.batch == ws.batch,
                     "MMDiT: \(conditioning.batch) prompts for \(ws.batch) latents (need 1 or \(ws.batch))")
        precondition(conditioning.length == ws.textLength && conditioning.pooled.shape.last == d,
                     "MMDiT: the conditioning (\(conditioning.length) tokens) does not match the workspace or the model")
        let (n, l, tj) = (ws.tokens, ws.textLength, ws.joint)
        let cv = conditioningVector(t: t, gap: gap, beta: beta, pooled: conditioning.pooled)  // [Bc, D]
        func prompt(_ b: Int) -> Int { conditioning.batch == 1 ? 0 : b }

        // Image rows: patch embedding, + fill embedding, + positions (the reference's order); text
        // rows: the prepared context.
        z.storage.withUnsafeBufferPointer { pz in ws.patchLayout.patchify(pz.baseAddress!, into: ws.patches.base) }
        for b in 0..<ws.batch {
            weights.patchEmbedding.apply(ws.patches.base + b * n * config.patchFeatures, rows: n, precision: ws.precision,
                                         into: ws.stream.base + (b * tj + l) * d)
        }
        if let fill, let fillEmbedding = weights.fillEmbedding {
            let expectedFill = [ws.batch, c + 1, ws.height, ws.width]
            precondition(fill.shape == expectedFill || (ws.batch == 1 && fill.shape == Array(expectedFill.dropFirst())),
                         "MMDiT: fill \(fill.shape) must be \(expectedFill)")
            fill.storage.withUnsafeBufferPointer { pf in ws.fillLayout.patchify(pf.baseAddress!, into: ws.patches.base) }
            for b in 0..<ws.batch {
                fillEmbedding.apply(ws.patches.base + b * n * config.fillFeatures, rows: n, precision: ws.precision,
                                    into: ws.projected.base)
                Kernels.gatedAdd(ws.stream.base + (b * tj + l) * d, ws.projected.base, rows: n, cols: d, gate: nil)
            }
        }
        for b in 0..<ws.batch {
            ws.positions.storage.withUnsafeBufferPointer { pos in
                Kernels.gatedAdd(ws.stream.base + (b * tj + l) * d, pos.baseAddress!, rows: n, cols: d, gate: nil)
            }
            conditioning.context.storage.withUnsafeBufferPointer { pc in
                (ws.stream.base + b * tj * d).update(from: pc.baseAddress! + prompt(b) * l * d, count: l * d)
            }
            for r in 0..<l { ws.keyMask[b * tj + r] = conditioning.keyMask?[prompt(b) * l + r] ?? true }
        }

        for block in weights.blocks {
            forward(block, c: cv, prompt: prompt, ws: ws)
        }

        let mod = modulation(weights.finalModulation, cv, chunks: 2).map(\.storage)  // 2 × [Bc·D]
        for b in 0..<ws.batch {
            let row = (b * tj + l) * d
            modulate(ws.stream.base + row, into: ws.normed.base + row, rows: n, scale: mod[1], shift: mod[0], prompt: prompt(b))
            weights.finalLinear.apply(ws.normed.base + row, rows: n, precision: ws.precision,
                                      into: ws.patches.base + b * n * config.patchFeatures)  // [N, P]
        }
        var out = Tensor(shape: z.shape)
        out.storage.withUnsafeMutableBufferPointer { po in ws.patchLayout.unpatchify(ws.patches.base, into: po.baseAddress!) }
        return out
    }

    /// One joint block on the workspace's streams.
    private func forward(_ block: MMDiTWeights.Block, c: Tensor, prompt: (Int) -> Int, ws: MMDiTWorkspace) {
        let d = config.hiddenSize, heads = config.numHeads, dh = config.headDim
        let (n, l, tj) = (ws.tokens, ws.textLength, ws.joint)
        let text = block.text, last = text.keysAndValuesOnly
        let mx = modulation(block.image.modulation, c, chunks: 6).map(\.storage)     // 6 × [Bc·D]
        let my = modulation(text.modulation, c, chunks: last ? 2 : 6).map(\.storage)  // 2 or 6 × [Bc·D]

        for b in 0..<ws.batch {
            let textRow = b * tj, imageRow = b * tj + l
            // q, k, v of the text rows (k, v only in the last block), then of the image rows.
            modulate(ws.stream.base + textRow * d, into: ws.normed.base + textRow * d, rows: l,
                     scale: my[1], shift: my[0], prompt: prompt(b))
            if last {
                text.projections.apply(ws.normed.base + textRow * d, rows: l, precision: ws.precision, into: ws.hidden.base)  // [L, 2D]
                for r in 0..<l {
                    (ws.qkv.base + (textRow + r) * 3 * d + d).update(from: ws.hidden.base + r * 2 * d, count: 2 * d)
                }
            } else {
                text.projections.apply(ws.normed.base + textRow * d, rows: l, precision: ws.precision,
                                       into: ws.qkv.base + textRow * 3 * d)           // [L, 3D]
            }
            modulate(ws.stream.base + imageRow * d, into: ws.normed.base + imageRow * d, rows: n,
                     scale: mx[1], shift: mx[0], prompt: prompt(b))
            block.image.projections.apply(ws.normed.base + imageRow * d, rows: n, precision: ws.precision,
                                          into: ws.qkv.base + imageRow * 3 * d)       // [N, 3D]
            // Per-head RMSNorm on q and k; RoPE on the image rows only.
            let imageQKV = ws.qkv.base + imageRow * 3 * d, textQKV = ws.qkv.base + textRow * 3 * d
            withNorm(block.image.queryNorm!) { Kernels.headNormRotary(imageQKV, stride: 3 * d, rows: n, heads: heads, headDim: dh, weight: $0, eps: eps, table: ws.rotary) }
            withNorm(block.image.keyNorm) { Kernels.headNormRotary(imageQKV + d, stride: 3 * d, rows: n, heads: heads, headDim: dh, weight: $0, eps: eps, table: ws.rotary) }
            if let queryNorm = text.queryNorm {
                withNorm(queryNorm) { Kernels.headNormRotary(textQKV, stride: 3 * d, rows: l, heads: heads, headDim: dh, weight: $0, eps: eps, table: nil) }
            }
            withNorm(text.keyNorm) { Kernels.headNormRotary(textQKV + d, stride: 3 * d, rows: l, heads: heads, headDim: dh, weight: $0, eps: eps, table: nil) }

            // Joint attention: all T rows' queries (only the image rows' in the last block).
            let firstQuery = last ? imageRow : textRow
            var layout = AttentionLayout(
                batch: 1, lq: last ? n : tj, lk: tj, heads: heads, headDim: dh, valueDim: dh, qStride: 3 * d,
                kStride: 3 * d, vStride: 3 * d, outStride: d, scale: 1 / Float(dh).squareRoot())
            layout.precision = ws.precision
            let allKeys = ws.keyMask[(b * tj)..<((b + 1) * tj)].allSatisfy { $0 }
            ws.keyMask.withUnsafeBufferPointer { pm in
                layout.run(q: ws.qkv.base + firstQuery * 3 * d, k: textQKV + d, v: textQKV + 2 * d,
                           out: ws.attended.base + firstQuery * d, bias: nil,
                           keyMask: allKeys ? nil : pm.baseAddress! + b * tj, scores: ws.scores.base,
                           scoreCount: ws.scores.count)
            }

            // Each stream: gated output projection, then its gated MLP.
            residual(block.image, rows: imageRow, count: n, m: mx, ratio: config.mlpRatio, prompt: prompt(b), ws: ws)
            if !last {
                residual(text, rows: textRow, count: l, m: my, ratio: config.textMLPRatio, prompt: prompt(b), ws: ws)
            }
        }
    }

    /// `x += gate₁ · proj(a)`, then `x += gate₂ · MLP(rms(x)·(1 + scale₂) + shift₂)` on `count`
    /// rows of one stream from row `rows`, with modulation chunks `m` (6 × `[Bc·D]`).
    private func residual(
        _ stream: MMDiTWeights.Stream, rows first: Int, count: Int, m: [[Float]], ratio: Int, prompt: Int,
        ws: MMDiTWorkspace
    ) {
        let d = config.hiddenSize, x = ws.stream.base + first * d
        stream.output!.apply(ws.attended.base + first * d, rows: count, precision: ws.precision, into: ws.projected.base)
        m[2].withUnsafeBufferPointer { g in Kernels.gatedAdd(x, ws.projected.base, rows: count, cols: d, gate: g.baseAddress! + prompt * d) }
        modulate(x, into: ws.normed.base, rows: count, scale: m[4], shift: m[3], prompt: prompt)
        stream.fc1!.apply(ws.normed.base, rows: count, precision: ws.precision, into: ws.hidden.base)    // [count, M·D]
        Kernels.gelu(ws.hidden.base, count: count * ratio * d)
        stream.fc2!.apply(ws.hidden.base, rows: count, precision: ws.precision, into: ws.projected.base) // [count, D]
        m[5].withUnsafeBufferPointer { g in Kernels.gatedAdd(x, ws.projected.base, rows: count, cols: d, gate: g.baseAddress! + prompt * d) }
    }

    /// `into = rms(from)·(1 + scale) + shift` on `rows` rows, with row `prompt` of `scale`, `shift` `[Bc·D]`.
    private func modulate(
        _ from: UnsafeMutablePointer<Float>, into: UnsafeMutablePointer<Float>, rows: Int, scale: [Float], shift: [Float],
        prompt: Int
    ) {
        let d = config.hiddenSize
        scale.withUnsafeBufferPointer { ps in
            shift.withUnsafeBufferPointer { pb in
                Kernels.rmsModulate(from, xStride: d, into: into, outStride: d, rows: rows, cols: d,
                                    scale: ps.baseAddress! + prompt * d, shift: pb.baseAddress! + prompt * d, eps: eps)
            }
        }
    }

    private func withNorm(_ weight: Tensor, _ body: (UnsafePointer<Float>) -> Void) {
        weight.storage.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
