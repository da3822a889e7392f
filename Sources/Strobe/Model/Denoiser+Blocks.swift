import StrobeTensor

// One DiT block of the denoiser and its parts (scripts/strobe_model.py, `DiTBlock`).
//
// Shape legend
//   B   images                         Bc  prompts in the conditioning (1 or B)
//   N   image tokens                   D   width;  Hh heads of Dh = D/Hh
//   L   text tokens

extension Denoiser {
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

    /// `Linear(SiLU(c))` cut into `chunks` vectors, each RMS-normalised without weight:
    /// `chunks × [Bc, 1, D]`.
    func modulation(_ linear: LinearWeights, _ c: Tensor, chunks: Int) -> [Tensor] {
        let batch = c.shape[0], width = config.hiddenSize
        let m = linear(Ops.silu(c)).reshaped([batch, chunks, width])                // [Bc, chunks, D]
        return Ops.split(Ops.rmsNorm(m, eps: Float(config.normEpsilon)), parts: chunks, axis: 1)
    }

    /// RMSNorm with `weight [Dh]` over each head of `x [..., Hh·Dh]`.
    static func headNorm(_ x: Tensor, weight: Tensor, heads: Int, eps: Float) -> Tensor {
        let shape = x.shape
        let perHead = x.reshaped(Array(shape.dropLast()) + [heads, shape.last! / heads])  // [..., Hh, Dh]
        return Ops.rmsNorm(perHead, weight: weight, eps: eps).reshaped(shape)
    }
}
