import StrobeBLAS

/// The tensor core's one way into sgemm: results that do not depend on the thread count.
///
/// OpenBLAS's multi-threaded sgemm partitions work by thread count, and its results then differ
/// in the last bits from its single-threaded ones. So OpenBLAS always runs on one thread here,
/// and Strobe parallelises itself: the output is cut into fixed tiles of at most
/// `tileRows × tileColumns` whose boundaries depend only on M, N and K, each computed by one
/// single-threaded sgemm call, and the tiles are spread over `Parallel.currentThreads` threads.
/// Every output element is then computed by the same call whatever the thread count.
enum Gemm {
    /// Tiles per product: 4 (two per thread on two cores), or about one per 256×256 outputs
    /// for large products.
    static func tileCount(m: Int, n: Int) -> Int {
        let large = (m * n + 65_535) / 65_536
        return max(4, (large + 3) / 4 * 4)
    }

    /// The tile size for an `m × n` output with inner dimension `k`: of the ways to cut it into
    /// ``tileCount(m:n:)`` tiles (r row bands × c column bands), the one that packs the least —
    /// each tile packs its rows of A (`m·k·c` floats over all tiles) and its columns of B
    /// (`n·k·r`). Sides are rounded up to multiples of `rowMultiple` and `columnMultiple`. A
    /// function of the shape alone, never of the thread count.
    static func tileSize(
        m: Int, n: Int, k: Int, rowMultiple: Int = 16, columnMultiple: Int = 16
    ) -> (rows: Int, columns: Int) {
        let tiles = tileCount(m: m, n: n)
        var best: (cost: Int, rows: Int, columns: Int)?
        for r in 1...tiles where tiles % r == 0 {
            let c = tiles / r
            guard r == 1 || (m + r - 1) / r >= rowMultiple, c == 1 || (n + c - 1) / c >= columnMultiple else { continue }
            let cost = m * k * c + n * k * r
            let rows = ((m + r - 1) / r + rowMultiple - 1) / rowMultiple * rowMultiple
            let columns = ((n + c - 1) / c + columnMultiple - 1) / columnMultiple * columnMultiple
            if best == nil || cost < best!.cost { best = (cost, rows, columns) }
        }
        return best.map { ($0.rows, $0.columns) } ?? (max(1, m), max(1, n))
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
        let (tileRows, tileColumns) = tileSize(m: m, n: n, k: k)
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
