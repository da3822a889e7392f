import StrobeTensor

// Shape legend
//   B   latents in a call      L   text tokens (padded)      N = (h/p)·(w/p) image tokens
//   T = L + N joint rows per latent: its L text rows, then its N image rows
//   D   width                  M   the wider of the two MLP ratios   P, Pf  patch and fill features

/// Buffers and tables for MMDiT calls on `B` latents of `h × w` with a prompt of `L` tokens,
/// planned once per sampling loop and reused by every step (``MMDiT/makeWorkspace(batch:height:width:textLength:precision:)``).
/// Not `Sendable`: it belongs to one sampling loop.
public final class MMDiTWorkspace {
    /// Latents per call `B`, latent height and width, text tokens `L`.
    public let batch: Int, height: Int, width: Int, textLength: Int
    /// Image tokens per latent `N`, and joint rows per latent `T = L + N`.
    public let tokens: Int, joint: Int
    /// The number format of the matrix products of calls in this workspace.
    public let precision: Precision

    /// `[B·T, D]` each: the two streams (per latent, its text rows then its image rows), their
    /// normalised copy, the attention output and a projection.
    let stream: DenoiserWorkspace.Buffer, normed: DenoiserWorkspace.Buffer
    let attended: DenoiserWorkspace.Buffer, projected: DenoiserWorkspace.Buffer
    /// `[B·T, 3D]`: q, k, v of both streams in joint row order.
    let qkv: DenoiserWorkspace.Buffer
    /// `[B·T, M·D]`: the MLP's hidden activations (at least `[L, 2D]`: the last block's text k, v).
    let hidden: DenoiserWorkspace.Buffer
    /// `[B·N, max(P, Pf)]`: patchified input, fill, output.
    let patches: DenoiserWorkspace.Buffer
    /// `[B·T]`: the joint key mask (padding of each latent's prompt false).
    var keyMask: [Bool]
    /// `[N, D]`: the fixed absolute positions.
    let positions: Tensor
    /// The 2-D rotary table of the image token grid.
    let rotary: RotaryTable
    /// `[B, C, h, w]` ⇄ `[B·N, P]`, and the fill's `[B, C + 1, h, w]` ⇄ `[B·N, Pf]`.
    let patchLayout: PatchLayout, fillLayout: PatchLayout
    /// Attention scores of one latent's heads.
    let scores: DenoiserWorkspace.Buffer

    init(config: MMDiTConfig, batch: Int, height: Int, width: Int, textLength: Int, precision: Precision = .fp32) {
        let p = config.patchSize, d = config.hiddenSize
        precondition(batch >= 1 && textLength >= 1 && height >= p && width >= p && height % p == 0 && width % p == 0,
                     "MMDiTWorkspace: \(batch) latents of \(width)x\(height) (multiples of \(p)), \(textLength) text tokens")
        self.batch = batch
        self.height = height
        self.width = width
        self.textLength = textLength
        self.precision = precision
        let rows = height / p, columns = width / p
        tokens = rows * columns
        joint = textLength + tokens
        let n = batch * joint
        stream = .init(count: n * d)
        normed = .init(count: n * d)
        attended = .init(count: n * d)
        projected = .init(count: n * d)
        qkv = .init(count: n * 3 * d)
        // Also the last block's text keys and values, [L, 2D], before they go to their rows.
        hidden = .init(count: max(n * max(config.mlpRatio, config.textMLPRatio) * d, textLength * 2 * d))
        patches = .init(count: batch * tokens * max(config.patchFeatures, config.fillFeatures))
        keyMask = [Bool](repeating: true, count: n)
        positions = PositionEmbedding.table(rows: rows, columns: columns, dim: d, grid: config.positionGrid)
        let grid = RotaryTable.gridPositions(height: rows, width: columns)
        rotary = RotaryTable(rows: grid.rows, columns: grid.columns, headDim: config.headDim, theta: Float(config.ropeTheta))
        patchLayout = PatchLayout(batch: batch, channels: config.latentChannels, height: height, width: width, patchSize: p)
        fillLayout = PatchLayout(batch: batch, channels: config.latentChannels + 1, height: height, width: width, patchSize: p)
        let layout = AttentionLayout(batch: 1, lq: joint, lk: joint, heads: config.numHeads, headDim: config.headDim,
                                     valueDim: config.headDim, qStride: 3 * d, kStride: 3 * d, vStride: 3 * d,
                                     outStride: d, scale: 1)
        scores = .init(count: layout.scoreCount(budget: AttentionLayout.defaultScoreBudget))
    }
}
