import StrobeBLAS

/// The tensor core's one way into sgemm: results that do not depend on the thread count.
///
/// OpenBLAS's multi-threaded sgemm partitions work by thread count, and its results then differ
/// in the last bits from its single-threaded ones. So OpenBLAS always runs on one thread here,
/// and Strobe parallelises itself: the output is cut into fixed tiles of at most
/// `tileRows × tileColumns` whose boundaries depend only on M and N, each computed by one
/// single-threaded sgemm call, and the tiles are spread over `Parallel.currentThreads` threads.
/// Every output element is then computed by the same call whatever the thread count.
enum Gemm {
    static let maxTile = 256
    static let minTile = 64
    /// Enough tiles to keep two threads busy on the denoiser's products without repacking much.
    static let targetTiles = 4

    /// The tile size for an `m × n` output: start at `maxTile × maxTile` and halve the longer
    /// side (columns first on ties) down to `minTile` until there are `targetTiles` tiles.
    /// A function of the shape alone, never of the thread count.
    static func tileSize(m: Int, n: Int) -> (rows: Int, columns: Int) {
        var rows = maxTile, columns = maxTile
        func tiles() -> Int { ((m + rows - 1) / rows) * ((n + columns - 1) / columns) }
        while tiles() < targetTiles {
            let halveColumns = columns >= rows && columns > minTile && columns / 2 < n
            let halveRows = rows > minTile && rows / 2 < m
            if halveColumns { columns /= 2 } else if halveRows { rows /= 2 } else if columns > minTile && columns / 2 < n { columns /= 2 } else { break }
        }
        return (rows, columns)
    }

    /// Row-major `C[M, N] = alpha·op(A)·op(B) + beta·C`; `op` transposes when asked.
    /// `lda`, `ldb`, `ldc` are row strides in elements of A, B and C as stored.
    static func run(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        BLAS.prepare()
        let (tileRows, tileColumns) = tileSize(m: m, n: n)
        let rowTiles = (m + tileRows - 1) / tileRows
        let columnTiles = (n + tileColumns - 1) / tileColumns
        let (sa, sb, sc) = (UncheckedSendable(a), UncheckedSendable(b), SharedPointer(c))
        // One work item per tile; each tile is about tileRows·tileColumns·K·2 FLOPs.
        Parallel.forEachChunk(count: rowTiles * columnTiles, workPerItem: 2 * tileRows * tileColumns * k) { tiles in
            for tile in tiles {
                let i0 = (tile / columnTiles) * tileRows, j0 = (tile % columnTiles) * tileColumns
                let rows = min(tileRows, m - i0), columns = min(tileColumns, n - j0)
                // A's rows i0..<i0+rows: [M, K] → row offset; Aᵀ stored [K, M] → column offset.
                let aTile = sa.value + (transposeA ? i0 : i0 * lda)
                // B's columns j0..<j0+columns: [K, N] → column offset; Bᵀ stored [N, K] → row offset.
                let bTile = sb.value + (transposeB ? j0 * ldb : j0)
                strobe_sgemm(
                    transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(rows), Int32(columns), Int32(k), alpha,
                    aTile, Int32(lda), bTile, Int32(ldb), beta, sc.base + i0 * ldc + j0, Int32(ldc))
            }
        }
    }
}
