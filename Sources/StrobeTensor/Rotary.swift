import Foundation

/// Rotary position embeddings (RoPE), in the convention of FLUX's `rope`/`apply_rope`.
///
/// Convention, per head of size `Dh` (even):
/// - the head vector is cut into `Dh/2` adjacent pairs `(x[2i], x[2i+1])`, i = 0 ..< Dh/2
///   (torch: `x.reshape(..., Dh/2, 2)`, i.e. `view_as_complex` pairs, not the "rotate half" split);
/// - pair `i` is rotated by angle `a = pos · ω_i`:
///   `x'[2i] = cos a · x[2i] − sin a · x[2i+1]`, `x'[2i+1] = sin a · x[2i] + cos a · x[2i+1]`;
/// - 1-D: `ω_i = theta^(−2i/Dh)`, for i = 0 ..< Dh/2, with the token's position `pos`;
/// - 2-D: the first half of the head (pairs i < Dh/4, dims 0 ..< Dh/2) is rotated by the token's
///   row with `ω_i = theta^(−2i/(Dh/2))`, the second half (pairs Dh/4 + i, dims Dh/2 ..< Dh) by its
///   column with the same `ω_i` — FLUX's `EmbedND` with `axes_dim = [Dh/2, Dh/2]`.
/// - Angles, cosines and sines are computed in Float64 and rounded to Float32 (as FLUX does).
///
/// Every head of a token gets the same rotation. Position 0 is the identity.
public struct RotaryTable: Sendable, Equatable {
    /// Number of positions (tokens) `L`.
    public let length: Int
    /// Head size `Dh`.
    public let headDim: Int
    /// `cos` of each angle, `[L, Dh/2]`.
    public let cos: [Float]
    /// `sin` of each angle, `[L, Dh/2]`.
    public let sin: [Float]

    /// Angles for 1-D positions.
    public init(positions: [Float], headDim: Int, theta: Float = 10_000) {
        precondition(headDim > 0 && headDim % 2 == 0, "RotaryTable: head size \(headDim) must be even")
        let half = headDim / 2
        let omega = (0..<half).map { Self.frequency($0, dim: headDim, theta: theta) }
        self.init(length: positions.count, headDim: headDim) { l, i in Double(positions[l]) * omega[i] }
    }

    /// Angles for 2-D positions: token `l` sits at (`rows[l]`, `columns[l]`).
    public init(rows: [Float], columns: [Float], headDim: Int, theta: Float = 10_000) {
        precondition(headDim > 0 && headDim % 4 == 0, "RotaryTable: 2-D head size \(headDim) must be a multiple of 4")
        precondition(rows.count == columns.count, "RotaryTable: \(rows.count) rows but \(columns.count) columns")
        let quarter = headDim / 4
        let omega = (0..<quarter).map { Self.frequency($0, dim: headDim / 2, theta: theta) }
        self.init(length: rows.count, headDim: headDim) { l, i in
            i < quarter ? Double(rows[l]) * omega[i] : Double(columns[l]) * omega[i - quarter]
        }
    }

    /// Row-major (row, column) positions of a `height × width` token grid, for the 2-D table.
    public static func gridPositions(height: Int, width: Int) -> (rows: [Float], columns: [Float]) {
        let rows = (0..<(height * width)).map { Float($0 / width) }
        let columns = (0..<(height * width)).map { Float($0 % width) }
        return (rows, columns)
    }

    /// `ω_i = theta^(−2i/dim)` in Float64.
    static func frequency(_ i: Int, dim: Int, theta: Float) -> Double {
        1 / Foundation.pow(Double(theta), Double(2 * i) / Double(dim))
    }

    private init(length: Int, headDim: Int, angle: (Int, Int) -> Double) {
        let half = headDim / 2
        var c = [Float](repeating: 0, count: length * half), s = c
        for l in 0..<length {
            for i in 0..<half {
                let a = angle(l, i)
                c[l * half + i] = Float(Foundation.cos(a))
                s[l * half + i] = Float(Foundation.sin(a))
            }
        }
        self.length = length
        self.headDim = headDim
        self.cos = c
        self.sin = s
    }
}

extension Ops {
    /// Rotates every head of `x [..., L, H·Dh]` by `table` (see `RotaryTable` for the
    /// convention); leading axes (a batch) share the table.
    public static func applyRotary(_ x: Tensor, _ table: RotaryTable, heads: Int) -> Tensor {
        precondition(x.rank >= 2, "applyRotary: x must be [..., L, H*Dh], got \(x.shape)")
        let length = x.shape[x.rank - 2], width = x.shape[x.rank - 1]
        precondition(
            length == table.length && width == heads * table.headDim,
            "applyRotary: x \(x.shape) does not match \(heads) heads × \(table.headDim) over \(table.length) positions")
        let half = table.headDim / 2, headDim = table.headDim
        let rows = length == 0 ? 0 : x.count / width
        var out = x
        out.storage.withUnsafeMutableBufferPointer { po in
            table.cos.withUnsafeBufferPointer { pc in
                table.sin.withUnsafeBufferPointer { ps in
                    guard let base = po.baseAddress else { return }
                    let dst = SharedPointer(base), cosines = pc.baseAddress!, sines = ps.baseAddress!
                    Parallel.forEachChunk(count: rows, workPerItem: 3 * width) { range in
                        for r in range {
                            let c = cosines + (r % length) * half, s = sines + (r % length) * half
                            for h in 0..<heads {
                                let v = dst.base + r * width + h * headDim
                                for i in 0..<half {
                                    let x0 = v[2 * i], x1 = v[2 * i + 1]
                                    v[2 * i] = c[i] * x0 - s[i] * x1
                                    v[2 * i + 1] = s[i] * x0 + c[i] * x1
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// 1-D RoPE of `x [..., L, H·Dh]` at `positions [L]` (see `RotaryTable`).
    public static func rope(_ x: Tensor, positions: [Float], heads: Int, theta: Float = 10_000) -> Tensor {
        precondition(heads > 0 && x.rank >= 1 && x.shape[x.rank - 1] % heads == 0, "rope: \(x.shape) does not split into \(heads) heads")
        let table = RotaryTable(positions: positions, headDim: x.shape[x.rank - 1] / heads, theta: theta)
        return applyRotary(x, table, heads: heads)
    }

    /// 2-D RoPE of `x [..., L, H·Dh]` at per-token `rows [L]`, `columns [L]` (see `RotaryTable`).
    public static func rope2D(
        _ x: Tensor, rows: [Float], columns: [Float], heads: Int, theta: Float = 10_000
    ) -> Tensor {
        precondition(heads > 0 && x.rank >= 1 && x.shape[x.rank - 1] % heads == 0, "rope2D: \(x.shape) does not split into \(heads) heads")
        let table = RotaryTable(rows: rows, columns: columns, headDim: x.shape[x.rank - 1] / heads, theta: theta)
        return applyRotary(x, table, heads: heads)
    }
}
