import Foundation
import StrobeTensor

// The denoiser: a pixel-space DiT that predicts the clean image x̂ (x-prediction), conditioned
// on the time t, the gap t − s, the guidance input β and the text (scripts/strobe_model.py,
// `Denoiser`; the math is in that file's docstring and weights-format.md §5.1).
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
    /// workspace (``makeWorkspace(batch:height:width:)``) and pass it to every call instead.
    public func xHat(x: Tensor, t: Float, gap: Float, beta: Float, conditioning: TextConditioning) -> Tensor {
        precondition(x.rank == 3 || x.rank == 4, "Denoiser: x must be [C, H, W] or [B, C, H, W], got \(x.shape)")
        let batch = x.rank == 4 ? x.shape[0] : 1
        let workspace = makeWorkspace(batch: batch, height: x.shape[x.rank - 2], width: x.shape[x.rank - 1])
        return xHat(x: x, t: t, gap: gap, beta: beta, conditioning: conditioning, workspace: workspace)
    }

    /// The op-by-op twin of the fused path: each step a separate tensor operation, as in the
    /// PyTorch reference. Slower; kept as the readable definition that tests compare against.
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
        var h = weights.patchEmbedding(patchify(images))                            // [B, N, D]
        h = h + PositionEmbedding.table(
            rows: height / p, columns: width / p, dim: config.hiddenSize, grid: config.positionGrid)  // + [N, D]
        for (index, block) in weights.blocks.enumerated() {
            h = forward(block, h, c: c, rotary: rotary, conditioning: conditioning, index: index)  // [B, N, D]
        }
        let eps = Float(config.normEpsilon)
        let mod = modulation(weights.finalModulation, c, chunks: 2)                 // 2 × [Bc, 1, D]
        let (shift, scale) = (mod[0], mod[1])
        let out = weights.finalLinear(Ops.rmsNorm(h, eps: eps) * (1 + scale) + shift)  // [B, N, P]
        let result = unpatchify(out, height: height, width: width)                  // [B, C, H, W]
        return x.rank == 4 ? result : result.reshaped(x.shape)
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

    /// ``xHat(x:t:gap:beta:conditioning:)`` for one prompt's text states `[L, Dt]`, prepared on
    /// the spot (a sampler should prepare once and reuse the conditioning instead).
    public func xHat(x: Tensor, t: Float, gap: Float, beta: Float, text: Tensor) -> Tensor {
        xHat(x: x, t: t, gap: gap, beta: beta, conditioning: prepare(text: text))
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

    /// `[B, C, H, W]` → `[B, N, P]` (weights-format.md §5.1 layout).
    func patchify(_ images: Tensor) -> Tensor {
        let batch = images.shape[0], perImage = images.count / batch
        var storage = [Float]()
        storage.reserveCapacity(images.count)
        for b in 0..<batch {
            let image = Tensor(
                shape: Array(images.shape.dropFirst()),
                storage: Array(images.storage[(b * perImage)..<((b + 1) * perImage)]))
            storage += Ops.patchify(image, patchSize: config.patchSize).storage       // [N, P]
        }
        return Tensor(shape: [batch, perImage / config.patchFeatures, config.patchFeatures], storage: storage)
    }

    /// `[B, N, P]` → `[B, C, H, W]`.
    func unpatchify(_ tokens: Tensor, height: Int, width: Int) -> Tensor {
        let batch = tokens.shape[0], perImage = tokens.count / batch
        var storage = [Float]()
        storage.reserveCapacity(tokens.count)
        for b in 0..<batch {
            let image = Tensor(
                shape: Array(tokens.shape.dropFirst()),
                storage: Array(tokens.storage[(b * perImage)..<((b + 1) * perImage)]))  // [N, P]
            storage += Ops.unpatchify(
                image, channels: config.channels, height: height, width: width, patchSize: config.patchSize).storage
        }
        return Tensor(shape: [batch, config.channels, height, width], storage: storage)
    }
}
