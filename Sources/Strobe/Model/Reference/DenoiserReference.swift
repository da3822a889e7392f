import StrobeTensor

// The denoiser's reference path: a test oracle, not the path that generates images
// (Denoiser.swift is). Each step is a separate tensor operation, as in the PyTorch reference
// (`strobe_reference.model`, `Denoiser` and `DiTBlock`), so it reads like the mathematics;
// FusedDenoiserTests compare the fused path against it. It lives with the naive twins in spirit:
// slow, obvious, and kept only to check the fast code.
//
// Shape legend
//   B   images                         Bc  prompts in the conditioning (1 or B)
//   C   channels                       H, W  image height and width in pixels
//   p   patch size                     N = (H/p)·(W/p) image tokens
//   P = C·p·p patch features           D   width;  Hh heads of Dh = D/Hh
//   L   text tokens

extension Denoiser {
    /// x̂ computed op by op, each step a separate tensor operation as in the PyTorch reference:
    /// the readable definition that tests compare ``xHat(x:t:gap:beta:conditioning:workspace:)``
    /// against. Not used for generation.
    func referenceXHat(x: Tensor, t: Float, gap: Float, beta: Float, conditioning: TextConditioning) -> Tensor {
        precondition(x.rank == 3 || x.rank == 4, "Denoiser: x must be [C, H, W] or [B, C, H, W], got \(x.shape)")
        let images = x.rank == 4 ? x : x.reshaped([1] + x.shape)                   // [B, C, H, W]
        let (batch, channels, height, width) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        let p = config.patchSize
        precondition(
            channels == config.channels && height % p == 0 && width % p == 0 && height > 0 && width > 0,
            "Denoiser: x \(x.shape) must have \(config.channels) channels and sides that are positive multiples of \(p)")
        precondition(
            conditioning.batch == 1 || conditioning.batch == batch,
            "Denoiser: \(conditioning.batch) prompts for \(batch) images (need 1 or \(batch))")
        precondition(
            conditioning.keys.count == weights.blocks.count && conditioning.pooled.shape.last == config.hiddenSize,
            "Denoiser: the conditioning was prepared by a different model")

        let c = conditioningVector(t: t, gap: gap, beta: beta, pooled: conditioning.pooled)  // [Bc, D]
        let grid = RotaryTable.gridPositions(height: height / p, width: width / p)
        let rotary = RotaryTable(
            rows: grid.rows, columns: grid.columns, headDim: config.headDim, theta: Float(config.ropeTheta))
        var h = weights.patchEmbedding(Ops.patchify(images, patchSize: p))          // [B, N, D]
        h = h + PositionEmbedding.table(
            rows: height / p, columns: width / p, dim: config.hiddenSize, grid: config.positionGrid)  // + [N, D]
        for (index, block) in weights.blocks.enumerated() {
            h = forward(block, h, c: c, rotary: rotary, conditioning: conditioning, index: index)  // [B, N, D]
        }
        let eps = Float(config.normEpsilon)
        let mod = modulation(weights.finalModulation, c, chunks: 2)                 // 2 × [Bc, 1, D]
        let (shift, scale) = (mod[0], mod[1])
        let out = weights.finalLinear(Ops.rmsNorm(h, eps: eps) * (1 + scale) + shift)  // [B, N, P]
        let result = Ops.unpatchify(out, channels: channels, height: height, width: width, patchSize: p)  // [B, C, H, W]
        return x.rank == 4 ? result : result.reshaped(x.shape)
    }

    /// One block:
    ///   x += gate₁ · SelfAttn(rms(x)·(1 + scale₁) + shift₁)
    ///   x += CrossAttn(rms(x), text)
    ///   x += gate₂ · MLP(rms(x)·(1 + scale₂) + shift₂)
    func forward(
        _ block: DenoiserWeights.Block, _ x: Tensor, c: Tensor, rotary: RotaryTable,
        conditioning: TextConditioning, index: Int
    ) -> Tensor {
        let eps = Float(config.normEpsilon)
        let m = modulation(block.modulation, c, chunks: 6)                          // 6 × [Bc, 1, D]
        let (shift1, scale1, gate1, shift2, scale2, gate2) = (m[0], m[1], m[2], m[3], m[4], m[5])
        var x = x                                                                   // [B, N, D]
        let attended = selfAttention(
            block.attention, Ops.rmsNorm(x, eps: eps) * (1 + scale1) + shift1, rotary: rotary)
        x += gate1 * attended                                                       // [B, N, D]
        x += crossAttention(block.cross, Ops.rmsNorm(x, eps: eps), conditioning: conditioning, index: index)
        let h = Ops.rmsNorm(x, eps: eps) * (1 + scale2) + shift2                    // [B, N, D]
        x += gate2 * block.fc2(Ops.gelu(block.fc1(h)))                              // [B, N, M·D] → [B, N, D]
        return x
    }

    /// Self-attention with QK-RMSNorm and 2-D RoPE; `x [B, N, D]` → `[B, N, D]`.
    func selfAttention(_ w: DenoiserWeights.SelfAttention, _ x: Tensor, rotary: RotaryTable) -> Tensor {
        let heads = config.numHeads, eps = Float(config.normEpsilon)
        let qkv = Ops.split(w.qkv(x), parts: 3, axis: -1)                            // 3 × [B, N, D]
        let q = Ops.applyRotary(Self.headNorm(qkv[0], weight: w.queryNorm, heads: heads, eps: eps), rotary, heads: heads)
        let k = Ops.applyRotary(Self.headNorm(qkv[1], weight: w.keyNorm, heads: heads, eps: eps), rotary, heads: heads)
        let out = Ops.attention(q: q, k: k, v: qkv[2], heads: heads)                // [B, N, D], scale 1/√Dh
        return w.projection(out)                                                    // [B, N, D]
    }

    /// Cross-attention of `x [B, N, D]` to the prepared text of block `index` → `[B, N, D]`.
    func crossAttention(
        _ w: DenoiserWeights.CrossAttention, _ x: Tensor, conditioning: TextConditioning, index: Int
    ) -> Tensor {
        let heads = config.numHeads, eps = Float(config.normEpsilon)
        let (batch, tokens, width) = (x.shape[0], x.shape[1], x.shape[2])
        var q = Self.headNorm(w.query(x), weight: w.queryNorm, heads: heads, eps: eps)  // [B, N, D]
        // One prompt for all images: its keys serve every image's queries in one call.
        if conditioning.batch == 1 { q = q.reshaped([1, batch * tokens, width]) }      // [Bc, B·N/Bc, D]
        let out = Ops.attention(
            q: q, k: conditioning.keys[index], v: conditioning.values[index], heads: heads,
            keyMask: conditioning.keyMask)                                             // [Bc, B·N/Bc, D]
        return w.projection(out.reshaped([batch, tokens, width]))                      // [B, N, D]
    }

    /// RMSNorm with `weight [Dh]` over each head of `x [..., Hh·Dh]`.
    static func headNorm(_ x: Tensor, weight: Tensor, heads: Int, eps: Float) -> Tensor {
        let shape = x.shape
        let perHead = x.reshaped(Array(shape.dropLast()) + [heads, shape.last! / heads])  // [..., Hh, Dh]
        return Ops.rmsNorm(perHead, weight: weight, eps: eps).reshaped(shape)
    }
}
