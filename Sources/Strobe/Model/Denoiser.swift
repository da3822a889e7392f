import Foundation
import StrobeTensor

// The denoiser: a pixel-space DiT that predicts the clean image x̂ (x-prediction), conditioned
// on the time t, the gap t − s, the guidance input β and the text (the PyTorch reference's
// `Denoiser` in strobe_reference.model; docs/architecture.md, "Sampler mathematics";
// weights-format.md §5.1). This file holds the path that generates images: a forward pass
// planned into a DenoiserWorkspace's buffers, with fused element-wise kernels (norm +
// modulation, head norm + RoPE, gated residual adds) and attention read straight from the fused
// qkv rows. Reference/DenoiserReference.swift computes the same op by op, as a test oracle.
//
// Shape legend
//   B   images in the call             Bc  prompts in the conditioning (1 or B)
//   C   channels                       H, W  image height and width in pixels
//   p   patch size                     N = (H/p)·(W/p) image tokens
//   P = C·p·p patch features           D   width;  Hh heads of Dh = D/Hh
//   L   text tokens                    Dt  text width
//   E   sinusoid size of a scalar embedding

/// The `strobe-dit` denoiser. Stateless and `Sendable`: one value can serve concurrent calls.
///
/// A sampler prepares the text once (``prepare(text:)``) and then calls ``velocity(x:t:gap:beta:conditioning:)``
/// (or ``xHat(x:t:gap:beta:conditioning:)``) at each step.
public struct Denoiser: Sendable {
    /// The denoiser's hyperparameters.
    public let config: DenoiserConfig
    /// Width `Dt` of the text hidden states it attends to.
    public let textWidth: Int
    /// The denoiser's parameters.
    public let weights: DenoiserWeights

    /// A denoiser from its configuration and weights (see ``StrobeDiTCheckpoint``).
    public init(config: DenoiserConfig, textWidth: Int, weights: DenoiserWeights) {
        self.config = config
        self.textWidth = textWidth
        self.weights = weights
    }

    /// The predicted clean image x̂ for the noisy image `x` at time `t`.
    ///
    /// - Parameters:
    ///   - x: `[C, H, W]` or `[B, C, H, W]`, with `H` and `W` multiples of the patch size.
    ///   - t: the time in [0, 1] (1 is pure noise), fed in raw.
    ///   - gap: `t − s`, the length of the jump (0 for the instantaneous velocity).
    ///   - beta: the guidance input β = 1/w.
    ///   - conditioning: from ``prepare(text:)``; one prompt, or one per image.
    /// - Returns: x̂ with the shape of `x`.
    ///
    /// Runs the fused path in a workspace made for this call; a sampling loop should make one
    /// workspace (``makeWorkspace(batch:height:width:precision:)``) and pass it to every call instead.
    public func xHat(x: Tensor, t: Float, gap: Float, beta: Float, conditioning: TextConditioning) -> Tensor {
        precondition(x.rank == 3 || x.rank == 4, "Denoiser: x must be [C, H, W] or [B, C, H, W], got \(x.shape)")
        let batch = x.rank == 4 ? x.shape[0] : 1
        let workspace = makeWorkspace(batch: batch, height: x.shape[x.rank - 2], width: x.shape[x.rank - 1])
        return xHat(x: x, t: t, gap: gap, beta: beta, conditioning: conditioning, workspace: workspace)
    }

    /// The velocity `u = (x − x̂) / max(t, t_min)` (`w·F` of the TVM update): one jump from
    /// `t` to `s` is `x_s = x + (s − t)·u` with `gap = t − s` and `beta = 1/w`.
    ///
    /// Arguments as ``xHat(x:t:gap:beta:conditioning:)``; returns a tensor shaped as `x`.
    public func velocity(x: Tensor, t: Float, gap: Float, beta: Float, conditioning: TextConditioning) -> Tensor {
        let predicted = xHat(x: x, t: t, gap: gap, beta: beta, conditioning: conditioning)
        return (x - predicted) / max(t, Float(config.tMin))
    }

    /// ``velocity(x:t:gap:beta:conditioning:)`` computed in `workspace` (made for `x`'s batch and size).
    public func velocity(
        x: Tensor, t: Float, gap: Float, beta: Float, conditioning: TextConditioning, workspace: DenoiserWorkspace
    ) -> Tensor {
        let predicted = xHat(x: x, t: t, gap: gap, beta: beta, conditioning: conditioning, workspace: workspace)
        return (x - predicted) / max(t, Float(config.tMin))
    }

    /// ``velocity(x:t:gap:beta:conditioning:)`` for one prompt's text states `[L, Dt]`, prepared
    /// on the spot.
    public func velocity(x: Tensor, t: Float, gap: Float, beta: Float, text: Tensor) -> Tensor {
        velocity(x: x, t: t, gap: gap, beta: beta, conditioning: prepare(text: text))
    }

    /// `c = emb_t(t) + emb_gap(gap) + emb_β(β) + pooled text`, `[Bc, D]`.
    func conditioningVector(t: Float, gap: Float, beta: Float, pooled: Tensor) -> Tensor {
        let time = embed(t, weights.timeEmbedder)                                   // [1, D]
        let jump = embed(gap, weights.gapEmbedder)                                  // [1, D]
        let guidance = embed(beta, weights.guidanceEmbedder)                        // [1, D]
        return time + jump + guidance + pooled                                      // [Bc, D]
    }

    /// A scalar through its embedder: sinusoids → fc1 → SiLU → fc2, `[1, D]`.
    func embed(_ value: Float, _ embedder: DenoiserWeights.ScalarEmbedder) -> Tensor {
        let e = Self.sinusoids(value, size: config.frequencyEmbeddingSize, maxPeriod: config.maxPeriod)  // [1, E]
        return embedder.fc2(Ops.silu(embedder.fc1(e)))                              // [1, D]
    }

    /// `[cos(x·fᵢ), sin(x·fᵢ)]`, `fᵢ = maxPeriod^(−i/(E/2))`, computed in Float64 and rounded,
    /// `[1, E]`.
    static func sinusoids(_ value: Float, size: Int, maxPeriod: Double) -> Tensor {
        let half = size / 2
        var out = [Float](repeating: 0, count: size)
        for i in 0..<half {
            let frequency = Foundation.exp(-Foundation.log(maxPeriod) * Double(i) / Double(half))
            let angle = Double(value) * frequency
            out[i] = Float(Foundation.cos(angle))
            out[half + i] = Float(Foundation.sin(angle))
        }
        return Tensor(shape: [1, size], storage: out)
    }

    /// `Linear(SiLU(c))` cut into `chunks` vectors, each RMS-normalised without weight:
    /// `chunks × [Bc, 1, D]`.
    func modulation(_ linear: LinearWeights, _ c: Tensor, chunks: Int) -> [Tensor] {
        let batch = c.shape[0], width = config.hiddenSize
        let m = linear(Ops.silu(c)).reshaped([batch, chunks, width])                // [Bc, chunks, D]
        return Ops.split(Ops.rmsNorm(m, eps: Float(config.normEpsilon)), parts: chunks, axis: 1)
    }
}

// MARK: - The forward pass, in a workspace

extension Denoiser {
    /// A workspace for calls on `batch` images of `height × width` pixels, whose matrix
    /// products run in `precision` (bf16 needs `Precision.isSupported`).
    public func makeWorkspace(batch: Int, height: Int, width: Int, precision: Precision = .fp32) -> DenoiserWorkspace {
        precondition(precision.isSupported, "Denoiser: \(precision.rawValue) is not supported on this CPU")
        return DenoiserWorkspace(config: config, batch: batch, height: height, width: width, precision: precision)
    }

    /// x̂ computed in `workspace`'s buffers (see ``xHat(x:t:gap:beta:conditioning:)``).
    ///
    /// - Parameters:
    ///   - x: `[B, C, H, W]` (or `[C, H, W]` when the workspace holds one image), the batch and
    ///     size the workspace was made for.
    ///   - t: the time in [0, 1] (1 is pure noise).
    ///   - gap: `t − s`, the length of the jump (0 for the instantaneous velocity).
    ///   - beta: the guidance input β = 1/w.
    ///   - conditioning: from ``prepare(text:)``; one prompt, or one per image.
    ///   - ws: buffers made by ``makeWorkspace(batch:height:width:precision:)`` for this batch and size.
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
            ws.patchLayout.patchify(px.baseAddress!, into: ws.patches.base)            // [B·N, P]
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
            ws.patchLayout.unpatchify(ws.patches.base, into: po.baseAddress!)          // [B, C, H, W]
        }
        return out
    }

    /// One DiT block on the workspace's residual stream:
    ///   x += gate₁ · SelfAttn(rms(x)·(1 + scale₁) + shift₁)
    ///   x += CrossAttn(rms(x), text)
    ///   x += gate₂ · MLP(rms(x)·(1 + scale₂) + shift₂)
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
}
