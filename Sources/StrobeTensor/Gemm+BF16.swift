import StrobeKernels

extension Gemm {
    /// Row-major `C[M, N] = bf16(A)·B + beta·C` with `B` packed, in fixed tiles spread over
    /// `Parallel.currentThreads` threads (as ``run(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``).
    /// Tile columns are multiples of the 32-column panels; each element's sum runs over K in
    /// order within one kernel call, so no result depends on the tiling or the thread count.
    static func runBF16(
        m: Int, a: UnsafePointer<Float>, lda: Int, b: BF16Matrix, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let (n, k) = (b.n, b.k)
        guard m > 0, n > 0 else { return }
        let panel = Int(STROBE_BF16_PANEL)
        let (tileRows, tileColumns) = tileSize(m: m, n: n, k: k, rowMultiple: Int(STROBE_BF16_ROWS), columnMultiple: panel)
        let rowTiles = (m + tileRows - 1) / tileRows
        let columnTiles = (n + tileColumns - 1) / tileColumns
        let (sa, sc) = (UncheckedSendable(a), SharedPointer(c))
        let panelCount = b.panelCount
        b.packed.withUnsafeBufferPointer { pb in
            let packed = UncheckedSendable(pb.baseAddress!)
            Parallel.forEachChunk(count: rowTiles * columnTiles, workPerItem: tileRows * tileColumns * k) { tiles in
                for tile in tiles {
                    let i0 = (tile / columnTiles) * tileRows, j0 = (tile % columnTiles) * tileColumns
                    let rows = min(tileRows, m - i0), columns = min(tileColumns, n - j0)
                    strobe_bf16_gemm(
                        rows, columns, k, 1, sa.value + i0 * lda, lda, packed.value + (j0 / panel) * panelCount,
                        beta, sc.base + i0 * ldc + j0, ldc)
                }
            }
        }
    }
}
