import Dispatch
import Strobe
import StrobeTensor

/// sgemm through the tensor core's public matrix-product path (`Ops.linear`, `Ops.matmul`) at
/// given shapes, with the threads in effect: the rate a network made of those products could
/// reach if nothing but its matrix products took time.
public struct SgemmReference: Encodable, Sendable {
    /// One measured shape.
    public struct Shape: Encodable, Sendable {
        /// The product as the denoiser's FLOP count lists it.
        public let product: MatrixProduct
        /// Median time of one unit of work: one linear layer, or one group of per-head products
        /// run side by side.
        public let medianMilliseconds: Double
        /// Timed runs.
        public let runs: Int
        /// FLOPs per second at the median, in GFLOPS.
        public let gflops: Double

        enum CodingKeys: String, CodingKey {
            case name, kind, m, k, n, count, group, flops, runs, medianMilliseconds = "median_ms", gflops
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(product.name, forKey: .name)
            try c.encode(product.kind, forKey: .kind)
            try c.encode(product.m, forKey: .m)
            try c.encode(product.k, forKey: .k)
            try c.encode(product.n, forKey: .n)
            try c.encode(product.count, forKey: .count)
            try c.encode(product.group, forKey: .group)
            try c.encode(product.flops, forKey: .flops)
            try c.encode(runs, forKey: .runs)
            try c.encode(Report.rounded(medianMilliseconds, places: 4), forKey: .medianMilliseconds)
            try c.encode(Report.rounded(gflops, places: 2), forKey: .gflops)
        }
    }

    /// Each shape of the list, in its order.
    public let shapes: [Shape]
    /// The FLOP-weighted rate over the list, GFLOPS: `Σ flopsᵢ / Σ (flopsᵢ / rateᵢ)`, the rate of
    /// running every product of the list as fast as each runs alone.
    public let weightedGFLOPS: Double
    /// `Ops.matmul` at 1024×1024×1024, GFLOPS (median).
    public let square1024GFLOPS: Double

    enum CodingKeys: String, CodingKey {
        case shapes, weightedGFLOPS = "weighted_gflops", square1024GFLOPS = "square_1024_gflops"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Report.rounded(weightedGFLOPS, places: 2), forKey: .weightedGFLOPS)
        try c.encode(Report.rounded(square1024GFLOPS, places: 2), forKey: .square1024GFLOPS)
        try c.encode(shapes, forKey: .shapes)
    }

    /// The FLOP-weighted rate of `flops`/`gflops` pairs: `Σ flopsᵢ / Σ (flopsᵢ / gflopsᵢ)`
    /// (a weighted harmonic mean). Entries without FLOPs are left out; 0 when none remain.
    public static func weightedRate(_ entries: [(flops: Double, gflops: Double)]) -> Double {
        let useful = entries.filter { $0.flops > 0 }
        let time = useful.reduce(0.0) { $0 + $1.flops / $1.gflops }
        guard time > 0 else { return 0 }
        return useful.reduce(0.0) { $0 + $1.flops } / time
    }

    /// Measures every distinct shape of `products` and the 1024³ product.
    ///
    /// Each shape is set up outside the timed part, run `warmup` times, then timed until it has
    /// at least `minRuns` runs and `minSeconds` seconds in all (at most 10,000 runs). A linear
    /// layer runs as `Ops.linear` (with a bias, as the denoiser's layers have); per-head attention
    /// products run as `group` `Ops.matmul` calls spread over the threads, as the engine spreads
    /// an image's heads.
    public static func measure(
        _ products: [MatrixProduct], threads: Int, warmup: Int = 2, minRuns: Int = 5, minSeconds: Double = 0.2,
        precision: Precision = .fp32
    ) -> SgemmReference {
        Parallel.withThreads(threads) {
            var cache: [String: (Double, Int)] = [:]
            var shapes: [Shape] = []
            for product in products {
                let key = "\(product.kind) \(product.m) \(product.k) \(product.n) \(product.group)"
                let (seconds, runs) = cache[key] ?? time(
                    work(for: product, precision: precision), warmup: warmup, minRuns: minRuns, minSeconds: minSeconds)
                cache[key] = (seconds, runs)
                let unitFlops = product.flopsPerProduct * Double(product.kind == .linear ? 1 : product.group)
                shapes.append(Shape(
                    product: product, medianMilliseconds: seconds * 1e3, runs: runs,
                    gflops: unitFlops / seconds / 1e9))
            }
            let a = data([1024, 1024], seed: 1), b = data([1024, 1024], seed: 2)
            let packedSquare = BF16Matrix(weight: b)
            let square1024 = { () -> Float in
                guard precision == .bf16 else { return Ops.matmul(a, b).storage[0] }
                var out = [Float](repeating: 0, count: 1024 * 1024)
                a.storage.withUnsafeBufferPointer { pa in
                    out.withUnsafeMutableBufferPointer { po in
                        Ops.linear(pa.baseAddress!, rows: 1024, weight: b, bias: nil, packed: packedSquare, into: po.baseAddress!)
                    }
                }
                return out[0]
            }
            let (square, _) = time(square1024, warmup: warmup, minRuns: minRuns, minSeconds: minSeconds)
            return SgemmReference(
                shapes: shapes,
                weightedGFLOPS: weightedRate(shapes.map { ($0.product.flops, $0.gflops) }),
                square1024GFLOPS: 2 * 1024 * 1024 * 1024 / square / 1e9)
        }
    }

    /// The timed unit of `product`: returns an element of its result so the work stays.
    static func work(for product: MatrixProduct, precision: Precision = .fp32) -> () -> Float {
        let (m, k, n) = (product.m, product.k, product.n)
        switch product.kind {
        case .linear:
            let x = data([m, k], seed: 3), weight = data([n, k], seed: 4), bias = data([n], seed: 5)
            guard precision == .bf16 else { return { Ops.linear(x, weight: weight, bias: bias).storage[0] } }
            let packed = BF16Matrix(weight: weight)
            return {
                var out = [Float](repeating: 0, count: m * n)
                x.storage.withUnsafeBufferPointer { px in
                    out.withUnsafeMutableBufferPointer { po in
                        Ops.linear(px.baseAddress!, rows: m, weight: weight, bias: bias, packed: packed, into: po.baseAddress!)
                    }
                }
                return out[0]
            }
        case .scores, .values:
            let group = product.group
            let left = (0..<group).map { data([m, k], seed: 6 + UInt64($0)) }
            let right = (0..<group).map { data(product.kind == .scores ? [n, k] : [k, n], seed: 100 + UInt64($0)) }
            let transpose = product.kind == .scores
            return {
                let sums = SumBox(count: group)
                Parallel.forEachChunk(count: group, workPerItem: 2 * m * k * n) { range in
                    for i in range {
                        sums.store(i, Ops.matmul(left[i], right[i], transposeB: transpose, precision: precision).storage[0])
                    }
                }
                return sums.total
            }
        }
    }

    /// Median seconds of `body` and the number of timed runs.
    static func time(_ body: () -> Float, warmup: Int, minRuns: Int, minSeconds: Double) -> (Double, Int) {
        let clock = ContinuousClock()
        var sink: Float = 0
        for _ in 0..<warmup { sink += body() }
        var times: [Double] = []
        var total = 0.0
        while times.count < minRuns || (total < minSeconds && times.count < 10_000) {
            let start = clock.now
            sink += body()
            let t = Statistics.seconds(clock.now - start)
            times.append(t)
            total += t
        }
        blackHole(sink)
        return (Statistics.median(times)!, times.count)
    }

    /// Deterministic pseudo-random values in [−1, 1).
    static func data(_ shape: [Int], seed: UInt64) -> Tensor {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
        return Tensor(shape: shape, storage: values)
    }
}

/// Keeps a value alive so that the optimiser cannot drop the work that made it.
@inline(never)
func blackHole(_ value: Float) {
    if value.isNaN && value.sign == .minus && value.significandBitPattern == 0x12345 { print(value) }
}

/// One float per product of a group, each written by the thread that computed it.
final class SumBox: @unchecked Sendable {
    private let values: UnsafeMutablePointer<Float>
    private let count: Int
    init(count: Int) {
        self.count = count
        values = .allocate(capacity: count)
        values.initialize(repeating: 0, count: count)
    }
    deinit { values.deallocate() }
    /// Each index is written by one thread only.
    func store(_ index: Int, _ value: Float) { values[index] = value }
    var total: Float { (0..<count).reduce(0) { $0 + values[$1] } }
}
