import StrobeTensor
import Synchronization
import Testing

@Suite("Thread-count independence")
struct ParallelTests {
    @Test("chunks cover every row exactly once")
    func chunking() {
        for threads in [1, 2, 3, 8] {
            let seen = Mutex([Int](repeating: 0, count: 1001))
            Parallel.withThreads(threads) {
                #expect(Parallel.currentThreads == threads)
                Parallel.forEachChunk(count: 1001, workPerItem: 1000) { range in
                    seen.withLock { counts in for i in range { counts[i] += 1 } }
                }
            }
            #expect(seen.withLock { $0 } == [Int](repeating: 1, count: 1001), "threads \(threads)")
        }
    }

    @Test("parallel ops give identical results with 1 and 2 threads")
    func identicalAcrossThreadCounts() {
        var rng = SplitMix64(seed: 40)
        // Large enough that every op splits its work over two threads.
        let x = rng.tensor([301, 257], -6...6)
        let w = rng.tensor([257]), b = rng.tensor([257])
        let q = rng.tensor([257, 4 * 16]), k = rng.tensor([131, 4 * 16]), v = rng.tensor([131, 4 * 16])
        let bias = rng.tensor([4, 257, 131])
        let table = RotaryTable(positions: (0..<257).map(Float.init), headDim: 16)
        let image = rng.tensor([3, 128, 96])
        func run() -> [Tensor] {
            [
                Ops.softmax(x), Ops.layerNorm(x, weight: w, bias: b), Ops.rmsNorm(x, weight: w),
                Ops.gelu(x), Ops.silu(x), x * (1 + w) + b, x + 0.5, Ops.permute(x, [1, 0]),
                Ops.applyRotary(q, table, heads: 4), Ops.patchify(image, patchSize: 4),
                Ops.attention(q: q, k: k, v: v, heads: 4, bias: bias),
            ]
        }
        let one = Parallel.withThreads(1) { run() }
        let two = Parallel.withThreads(2) { run() }
        for (i, (a, b)) in zip(one, two).enumerated() {
            #expect(a == b, "op \(i): max abs diff \(maxAbsDiff(a, b)) between 1 and 2 threads")
        }
    }
}
