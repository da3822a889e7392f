import Foundation
import StrobeTensor

/// The denoiser's fixed absolute positions (weights-format.md §5.1), in fractions of the image so
/// that every aspect ratio shares one frame.
///
/// Shapes: `N = rows·columns` tokens, `D = dim` features.
enum PositionEmbedding {
    /// `[N, D]`: token (i, j) has y = (i + ½)·grid/rows and x = (j + ½)·grid/columns; its features
    /// are `[sin(y·ω_k)] ++ [cos(y·ω_k)] ++ [sin(x·ω_k)] ++ [cos(x·ω_k)]` for `k < D/4`,
    /// `ω_k = 10000^(−k/(D/4))`, computed in Double and rounded to Float.
    static func table(rows: Int, columns: Int, dim: Int, grid: Double) -> Tensor {
        precondition(dim % 4 == 0, "position embedding: dim \(dim) must be a multiple of 4")
        let quarter = dim / 4
        let omega = (0..<quarter).map { pow(10_000.0, -Double($0) / Double(quarter)) }
        var storage = [Float](repeating: 0, count: rows * columns * dim)
        for i in 0..<rows {
            let y = (Double(i) + 0.5) * grid / Double(rows)
            for j in 0..<columns {
                let x = (Double(j) + 0.5) * grid / Double(columns)
                let base = (i * columns + j) * dim
                for k in 0..<quarter {
                    storage[base + k] = Float(sin(y * omega[k]))
                    storage[base + quarter + k] = Float(cos(y * omega[k]))
                    storage[base + 2 * quarter + k] = Float(sin(x * omega[k]))
                    storage[base + 3 * quarter + k] = Float(cos(x * omega[k]))
                }
            }
        }
        return Tensor(shape: [rows * columns, dim], storage: storage)
    }
}
