import StrobeTensor

// The denoiser's planned, fused forward pass: the same mathematics as the reference path
// (Denoiser.swift, Denoiser+Blocks.swift), computed in the buffers of a `DenoiserWorkspace`
// with fused element-wise kernels (norm + modulation, head norm + RoPE, gated residual adds)
// and attention read straight from the fused qkv rows. Tests compare the two paths.
//
// Shape legend
//   B   images                   Bc  prompts in the conditioning (1 or B)
//   N   image tokens per image   P   patch features    D   width   M   MLP width
//   L   text tokens              Hh  heads of Dh = D/Hh

extension Denoiser {
    /// A workspace for calls on `batch` images of `height × width` pixels, whose matrix
    /// products run in `precision` (bf16 needs ``Precision/isSupported``).
    public func makeWorkspace(batch: Int, height: Int, width: Int, precision: Precision = .fp32) -> DenoiserWorkspace {
        precondition(precision.isSupported, "Denoiser: \(precision.rawValue) is not supported on this CPU")
        return DenoiserWorkspace(config: config, batch: batch, height: height, width: width, precision: precision)
    }

    /// x̂ computed in `workspace`'s buffers (see ``xHat(x:t:gap:beta:conditioning:)``).
    ///
    /// - Parameter x: `[B, C, H, W]` (or `[C, H, W]` when the workspace holds one image), the
    ///   batch and size the workspace was made for.
    public func xHat(
        x: Tensor, t: Float, gap: Float, beta: Float, conditioning: TextConditioning, workspace ws: DenoiserWorkspace
    ) -> Tensor {
        let expected = [ws.batch, config.channels, ws.height, ws.width]
        precondition(
            x.shape == expected || (ws.batch == 1 && x.shape == Array(expected.dropFirst())),
            "Denoiser: x \(x.shape) does not match the workspace's \(expected)")
        precondition(
            conditioning.batch == 1 || conditioning.batch == ws.batch,
            "Denoiser: \(conditioning.batch) prompts for \(ws.batch) images (need 1 or \(ws.batch))")
        precondition(
            conditioning.keys.count == weights.blocks.count && conditioning.pooled.shape.last == config.hiddenSize,
            "Denoiser: the conditioning was prepared by a different model")
        let rows = ws.batch * ws.tokens, d = config.hiddenSize
        let c = conditioningVector(t: t, gap: gap, beta: beta, pooled: conditioning.pooled)  // [Bc, D]

        x.storage.withUnsafeBufferPointer { px in
            patchify(px.baseAddress!, into: ws.patches.base, ws: ws)                    // [B·N, P]
        }
        weights.patchEmbedding.apply(ws.patches.base, rows: rows, precision: ws.precision, into: ws.stream.base)             // [B·N, D]
        ws.positions.storage.withUnsafeBufferPointer { pos in
            for b in 0..<ws.batch {                                                     // + [N, D]
                Kernels.gatedAdd(ws.stream.base + b * ws.tokens * d, pos.baseAddress!, rows: ws.tokens, cols: d, gate: nil)
            }
        }
        for (index, block) in weights.blocks.enumerated() {
            fusedBlock(block, c: c, conditioning: conditioning, index: index, ws: ws)
        }
        let mod = modulation(weights.finalModulation, c, chunks: 2).map(\.storage)      // 2 × [Bc·D]
        modulatedNorm(from: ws.stream, into: ws.normed, shift: mod[0], scale: mod[1], batch: c.shape[0], ws: ws)
        weights.finalLinear.apply(ws.normed.base, rows: rows, precision: ws.precision, into: ws.patches.base)              // [B·N, P]
        var out = Tensor(shape: x.shape)
        out.storage.withUnsafeMutableBufferPointer { po in
            unpatchify(ws.patches.base, into: po.baseAddress!, ws: ws)                   // [B, C, H, W]
        }
        return out
    }

    /// One DiT block on the workspace's residual stream (see ``forward(_:_:c:rotary:conditioning:index:)``).
    func fusedBlock(
        _ block: DenoiserWeights.Block, c: Tensor, conditioning: TextConditioning, index: Int, ws: DenoiserWorkspace
    ) {
        let rows = ws.batch * ws.tokens, d = config.hiddenSize, heads = config.numHeads, dh = config.headDim
        let eps = Float(config.normEpsilon), bc = c.shape[0]
        let m = modulation(block.modulation, c, chunks: 6).map(\.storage)              // 6 × [Bc·D]

        // x += gate₁ · SelfAttn(rms(x)·(1 + scale₁) + shift₁)
        modulatedNorm(from: ws.stream, into: ws.normed, shift: m[0], scale: m[1], batch: bc, ws: ws)
        block.attention.qkv.apply(ws.normed.base, rows: rows, precision: ws.precision, into: ws.qkv.base)                  // [B·N, 3D]
        block.attention.queryNorm.storage.withUnsafeBufferPointer { qn in
            block.attention.keyNorm.storage.withUnsafeBufferPointer { kn in
                Kernels.headNormRotary(ws.qkv.base, stride: 3 * d, rows: rows, heads: heads, headDim: dh,
                                       weight: qn.baseAddress!, eps: eps, table: ws.rotary)
                Kernels.headNormRotary(ws.qkv.base + d, stride: 3 * d, rows: rows, heads: heads, headDim: dh,
                                       weight: kn.baseAddress!, eps: eps, table: ws.rotary)
            }
        }
        var selfLayout = AttentionLayout(
            batch: ws.batch, lq: ws.tokens, lk: ws.tokens, heads: heads, headDim: dh, valueDim: dh,
            qStride: 3 * d, kStride: 3 * d, vStride: 3 * d, outStride: d, scale: 1 / Float(dh).squareRoot())
        selfLayout.precision = ws.precision
        let scratch = ws.scoreScratch(atLeast: selfLayout.scoreCount(budget: DenoiserWorkspace.scoreBudget))
        selfLayout.run(
            q: ws.qkv.base, k: ws.qkv.base + d, v: ws.qkv.base + 2 * d, out: ws.attended.base,
            bias: nil, keyMask: nil, scores: scratch.base, scoreCount: scratch.count)   // [B·N, D]
        block.attention.projection.apply(ws.attended.base, rows: rows, precision: ws.precision, into: ws.projected.base)
        gatedResidual(ws.projected, gate: m[2], batch: bc, ws: ws)

        // x += CrossAttn(rms(x), text)
        Kernels.rmsModulate(ws.stream.base, xStride: d, into: ws.normed.base, outStride: d, rows: rows, cols: d, eps: eps)
        block.cross.query.apply(ws.normed.base, rows: rows, precision: ws.precision, into: ws.qkv.base)                     // [B·N, D]
        block.cross.queryNorm.storage.withUnsafeBufferPointer { qn in
            Kernels.headNormRotary(ws.qkv.base, stride: d, rows: rows, heads: heads, headDim: dh,
                                   weight: qn.baseAddress!, eps: eps, table: nil)
        }
        // One prompt for all images: its keys serve every image's queries in one product.
        let perPrompt = bc == 1 ? rows : ws.tokens
        var crossLayout = AttentionLayout(
            batch: bc, lq: perPrompt, lk: conditioning.length, heads: heads, headDim: dh, valueDim: dh,
            qStride: d, kStride: d, vStride: d, outStride: d, scale: 1 / Float(dh).squareRoot(),
            maskPerBatch: bc > 1)
        crossLayout.precision = ws.precision
        let crossScratch = ws.scoreScratch(atLeast: crossLayout.scoreCount(budget: DenoiserWorkspace.scoreBudget))
        conditioning.keys[index].storage.withUnsafeBufferPointer { pk in
            conditioning.values[index].storage.withUnsafeBufferPointer { pv in
                let run = { (mask: UnsafePointer<Bool>?) in
                    crossLayout.run(
                        q: ws.qkv.base, k: pk.baseAddress!, v: pv.baseAddress!, out: ws.attended.base, bias: nil,
                        keyMask: mask, scores: crossScratch.base, scoreCount: crossScratch.count)  // [B·N, D]
                }
                if let mask = conditioning.keyMask {
                    mask.withUnsafeBufferPointer { run($0.baseAddress!) }
                } else {
                    run(nil)
                }
            }
        }
        block.cross.projection.apply(ws.attended.base, rows: rows, precision: ws.precision, into: ws.projected.base)
        Kernels.gatedAdd(ws.stream.base, ws.projected.base, rows: rows, cols: d, gate: nil)

        // x += gate₂ · MLP(rms(x)·(1 + scale₂) + shift₂)
        modulatedNorm(from: ws.stream, into: ws.normed, shift: m[3], scale: m[4], batch: bc, ws: ws)
        block.fc1.apply(ws.normed.base, rows: rows, precision: ws.precision, into: ws.hidden.base)                                                // [B·N, M]
        Kernels.gelu(ws.hidden.base, count: rows * config.mlpRatio * d)
        block.fc2.apply(ws.hidden.base, rows: rows, precision: ws.precision, into: ws.projected.base)                                             // [B·N, D]
        gatedResidual(ws.projected, gate: m[5], batch: bc, ws: ws)
    }

    /// `into = rms(from)·(1 + scale) + shift`, with image b using row b of `scale`, `shift` `[Bc·D]`.
    private func modulatedNorm(
        from: DenoiserWorkspace.Buffer, into: DenoiserWorkspace.Buffer, shift: [Float], scale: [Float], batch bc: Int,
        ws: DenoiserWorkspace
    ) {
        let d = config.hiddenSize, eps = Float(config.normEpsilon)
        forEachPrompt(bc, ws: ws) { firstRow, rowCount, vector in
            scale.withUnsafeBufferPointer { ps in
                shift.withUnsafeBufferPointer { pb in
                    Kernels.rmsModulate(
                        from.base + firstRow * d, xStride: d, into: into.base + firstRow * d, outStride: d,
                        rows: rowCount, cols: d, scale: ps.baseAddress! + vector * d,
                        shift: pb.baseAddress! + vector * d, eps: eps)
                }
            }
        }
    }

    /// `stream += gate · y`, with image b using row b of `gate [Bc·D]`.
    private func gatedResidual(_ y: DenoiserWorkspace.Buffer, gate: [Float], batch bc: Int, ws: DenoiserWorkspace) {
        let d = config.hiddenSize
        forEachPrompt(bc, ws: ws) { firstRow, rowCount, vector in
            gate.withUnsafeBufferPointer { pg in
                Kernels.gatedAdd(ws.stream.base + firstRow * d, y.base + firstRow * d, rows: rowCount, cols: d,
                                 gate: pg.baseAddress! + vector * d)
            }
        }
    }

    /// Calls `body(first row, row count, conditioning row)`: once for all rows with one prompt,
    /// else once per image.
    private func forEachPrompt(_ bc: Int, ws: DenoiserWorkspace, _ body: (Int, Int, Int) -> Void) {
        if bc == 1 {
            body(0, ws.batch * ws.tokens, 0)
        } else {
            for b in 0..<ws.batch { body(b * ws.tokens, ws.tokens, b) }
        }
    }

    /// `[B, C, H, W]` → `[B·N, P]` (layout of ``Ops/patchify(_:patchSize:)``).
    private func patchify(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, ws: DenoiserWorkspace) {
        copyPatches(ws: ws) { imageIndex, patchIndex, count in
            out.advanced(by: patchIndex).update(from: x + imageIndex, count: count)
        }
    }

    /// `[B·N, P]` → `[B, C, H, W]`.
    private func unpatchify(_ tokens: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, ws: DenoiserWorkspace) {
        copyPatches(ws: ws) { imageIndex, patchIndex, count in
            out.advanced(by: imageIndex).update(from: tokens + patchIndex, count: count)
        }
    }

    /// Visits every patch row segment: `copy(offset in the images, offset in the tokens, p)`.
    private func copyPatches(ws: DenoiserWorkspace, _ copy: (Int, Int, Int) -> Void) {
        let p = config.patchSize, channels = config.channels
        let (h, w) = (ws.height, ws.width), columns = w / p, features = config.patchFeatures
        for b in 0..<ws.batch {
            for ph in 0..<(h / p) {
                for pw in 0..<columns {
                    let token = b * ws.tokens + ph * columns + pw
                    for ch in 0..<channels {
                        for py in 0..<p {
                            let image = ((b * channels + ch) * h + ph * p + py) * w + pw * p
                            copy(image, token * features + (ch * p + py) * p, p)
                        }
                    }
                }
            }
        }
    }
}
