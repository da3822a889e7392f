import StrobeTensor

// Shape legend
//   B   images in a call        N = (H/p)·(W/p) image tokens     P = C·p·p patch features
//   D   width                   M   MLP width                     Hh  heads

/// Buffers and tables for denoiser calls on batches of `B` images of `H × W`, planned once per
/// (model, size, batch) and reused by every call of a sampling loop, which then allocates
/// nothing larger than a few conditioning vectors.
///
/// A workspace belongs to one sampling loop at a time: it is not `Sendable`. Make one with
/// ``Denoiser/makeWorkspace(batch:height:width:precision:)``.
public final class DenoiserWorkspace {
    /// Images per call `B`, and their height and width in pixels.
    public let batch: Int, height: Int, width: Int
    /// Image tokens per image `N`.
    public let tokens: Int
    /// The number format of the matrix products of calls in this workspace.
    public let precision: Precision

    /// `[B·N, P]`: the patchified input, later the output patches.
    let patches: Buffer
    /// `[B·N, D]` each: the residual stream, its normalised copy, attention output, a projection.
    let stream: Buffer, normed: Buffer, attended: Buffer, projected: Buffer
    /// `[B·N, 3·D]`: fused q, k, v (cross-attention uses the first D columns for its queries).
    let qkv: Buffer
    /// `[B·N, M]`: the MLP's hidden activations.
    let hidden: Buffer
    /// `[N, D]`: the fixed absolute positions.
    let positions: Tensor
    /// The 2-D rotary table of the token grid.
    let rotary: RotaryTable
    /// Attention scores, grown on demand (cross-attention's size depends on the prompt).
    private var scores: Buffer

    /// `[B, C, H, W]` ⇄ `[B·N, P]` for this batch and size.
    let patchLayout: PatchLayout

    /// The most attention scores held at once (16 MiB), but always at least one head's.
    static let scoreBudget = AttentionLayout.defaultScoreBudget

    init(config: DenoiserConfig, batch: Int, height: Int, width: Int, precision: Precision = .fp32) {
        let p = config.patchSize
        precondition(
            batch >= 1 && height >= p && width >= p && height % p == 0 && width % p == 0,
            "DenoiserWorkspace: \(batch) images of \(width)x\(height) (sides must be positive multiples of \(p))")
        self.batch = batch
        self.precision = precision
        self.height = height
        self.width = width
        let rows = height / p, columns = width / p
        tokens = rows * columns
        patchLayout = PatchLayout(batch: batch, channels: config.channels, height: height, width: width, patchSize: p)
        let n = batch * tokens, d = config.hiddenSize
        patches = Buffer(count: n * config.patchFeatures)
        stream = Buffer(count: n * d)
        normed = Buffer(count: n * d)
        attended = Buffer(count: n * d)
        projected = Buffer(count: n * d)
        qkv = Buffer(count: n * 3 * d)
        hidden = Buffer(count: n * config.mlpRatio * d)
        positions = PositionEmbedding.table(rows: rows, columns: columns, dim: d, grid: config.positionGrid)
        let grid = RotaryTable.gridPositions(height: rows, width: columns)
        rotary = RotaryTable(rows: grid.rows, columns: grid.columns, headDim: config.headDim, theta: Float(config.ropeTheta))
        let selfAttention = min(config.numHeads, max(1, Self.scoreBudget / (tokens * tokens))) * tokens * tokens
        scores = Buffer(count: selfAttention)
    }

    /// Scratch for at least `count` scores (reallocated only when a longer prompt needs more).
    func scoreScratch(atLeast count: Int) -> Buffer {
        if scores.count < count { scores = Buffer(count: count) }
        return scores
    }

    /// An owned, uninitialised-then-zeroed float buffer.
    final class Buffer {
        let base: UnsafeMutablePointer<Float>
        let count: Int

        init(count: Int) {
            self.count = count
            base = .allocate(capacity: max(1, count))
            base.initialize(repeating: 0, count: max(1, count))
        }

        deinit { base.deallocate() }
    }
}
