import StrobeTensor
import Testing

@Suite("Broadcast arithmetic and shape ops")
struct ArithmeticShapeTests {
    static let broadcastPairs: [([Int], [Int])] = [
        ([7, 13], [7, 13]), ([7, 13], [13]), ([7, 13], [1, 13]), ([7, 13], [7, 1]),
        ([3, 5, 7], [3, 1, 1]), ([2, 1, 5], [3, 1]), ([1], [4, 3]), ([], [2, 3]), ([31], [1]),
        ([2, 3, 1, 4], [3, 5, 1]), ([1, 33], [17, 1]),
    ]

    @Test("add/sub/mul/div broadcast like NumPy, exactly as the naive twins")
    func broadcastArithmetic() {
        var rng = SplitMix64(seed: 20)
        for (sa, sb) in Self.broadcastPairs {
            for (x, y) in [(sa, sb), (sb, sa)] {
                let a = rng.tensor(x), b = rng.tensor(y, 0.5...2)
                #expect(Ops.add(a, b) == Naive.add(a, b), "\(x) + \(y)")
                #expect(Ops.sub(a, b) == Naive.sub(a, b), "\(x) - \(y)")
                #expect(Ops.mul(a, b) == Naive.mul(a, b), "\(x) * \(y)")
                #expect(Ops.div(a, b) == Naive.div(a, b), "\(x) / \(y)")
            }
        }
        #expect(Ops.broadcastShape([2, 1, 5], [3, 1]) == [2, 3, 5])
    }

    @Test("operators, scalar ops and adaLN modulation x·(1 + scale) + shift")
    func operatorsAndModulation() {
        var rng = SplitMix64(seed: 21)
        let x = rng.tensor([13, 7]), scale = rng.tensor([7]), shift = rng.tensor([1, 7])
        let modulated = x * (1 + scale) + shift
        var want = Tensor(shape: [13, 7])
        for i in 0..<13 {
            for j in 0..<7 { want[i, j] = x[i, j] * (1 + scale[j]) + shift[0, j] }
        }
        #expect(modulated == want)
        let t = Tensor(shape: [3], storage: [1, 2, 4])
        #expect((t + 1).storage == [2, 3, 5])
        #expect((t - 1).storage == [0, 1, 3])
        #expect((t * 2).storage == [2, 4, 8])
        #expect((t / 2).storage == [0.5, 1, 2])
        #expect((2 - t).storage == [1, 0, -2])
        #expect((8 / t).storage == [8, 4, 2])
        #expect((3 * t).storage == [3, 6, 12])
        #expect((-t).storage == [-1, -2, -4])
        #expect((t - t).storage == [0, 0, 0])
        var acc = t
        acc += Tensor(shape: [1], storage: [1])
        acc *= t
        acc -= t
        #expect(acc.storage == [1, 4, 16])
        // A large tensor exercises the parallel scalar path.
        let big = rng.tensor([300, 301])
        #expect((big * 3).storage == big.storage.map { $0 * 3 })
    }

    @Test("permute matches its naive twin on random ranks and axis orders")
    func permute() {
        var rng = SplitMix64(seed: 22)
        for _ in 0..<30 {
            let rank = rng.int(1...5)
            let shape = (0..<rank).map { _ in rng.pick([1, 2, 3, 5, 7]) }
            var axes = Array(0..<rank)
            axes.shuffle(using: &rng)
            let x = rng.tensor(shape)
            let got = Ops.permute(x, axes)
            #expect(got == Naive.permute(x, axes), "shape \(shape) axes \(axes)")
            var inverse = [Int](repeating: 0, count: rank)
            for (i, a) in axes.enumerated() { inverse[a] = i }
            #expect(got.permuted(inverse) == x)
        }
        let m = Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6])
        #expect(m.permuted([1, 0]).storage == [1, 4, 2, 5, 3, 6])
    }

    @Test("concat and split along any axis match the naive twins and invert each other")
    func concatSplit() {
        var rng = SplitMix64(seed: 23)
        for _ in 0..<20 {
            let rank = rng.int(1...4)
            let base = (0..<rank).map { _ in rng.pick([1, 2, 3, 7]) }
            let axis = rng.int(0...(rank - 1))
            let parts = (0..<rng.int(1...3)).map { _ -> Tensor in
                var s = base
                s[axis] = rng.pick([1, 2, 5])
                return rng.tensor(s)
            }
            let negativeAxis = axis - rank
            let joined = Ops.concat(parts, axis: negativeAxis)
            #expect(joined == Naive.concat(parts, axis: axis), "axis \(axis) of \(parts.map(\.shape))")
            let sizes = parts.map { $0.shape[axis] }
            #expect(Ops.split(joined, sizes: sizes, axis: axis) == parts)
            #expect(Naive.split(joined, sizes: sizes, axis: axis) == parts)
        }
        let x = Tensor(shape: [2, 4], storage: [0, 1, 2, 3, 4, 5, 6, 7])
        let halves = Ops.split(x, parts: 2, axis: 1)
        #expect(halves.map(\.storage) == [[0, 1, 4, 5], [2, 3, 6, 7]])
    }

    @Test("embedding, reshape and element access")
    func embeddingReshape() {
        var rng = SplitMix64(seed: 24)
        let table = rng.tensor([13, 7])
        let ids = [0, 12, 3, 3, 7]
        let rows = Ops.embedding(ids, table: table)
        #expect(rows == Naive.embedding(ids, table: table))
        #expect(rows.shape == [5, 7])
        #expect(Array(rows.storage[7..<14]) == Array(table.storage[84..<91]))
        #expect(Ops.embedding([], table: table).shape == [0, 7])
        let t = Tensor(shape: [2, 3, 4], repeating: 1)
        #expect(t.reshaped([-1, 4]).shape == [6, 4])
        #expect(t.reshaped([2, -1]).shape == [2, 12])
        #expect(t.strides == [12, 4, 1])
        var u = Tensor(shape: [2, 3])
        u[1, 2] = 5
        #expect(u.storage == [0, 0, 0, 0, 0, 5])
        #expect(Tensor(scalar: 3).shape == [])
    }

    @Test("patchify layout, its naive twin, and round trips")
    func patchify() {
        var rng = SplitMix64(seed: 25)
        let image = rng.tensor([3, 4, 6])
        let tokens = Ops.patchify(image, patchSize: 2)
        #expect(tokens.shape == [6, 12])
        // image[c=1, y=3, x=2] is in patch (1, 1) = token 1·3 + 1 = 4, feature 1·4 + 1·2 + 0 = 6.
        #expect(tokens[4, 6] == image[1, 3, 2])
        #expect(tokens == Naive.patchify(image, patchSize: 2))
        for (c, h, w, p) in [(3, 8, 8, 2), (1, 7, 14, 7), (4, 6, 9, 3), (2, 5, 5, 1), (3, 16, 12, 4)] {
            let x = rng.tensor([c, h, w])
            let t = Ops.patchify(x, patchSize: p)
            #expect(t == Naive.patchify(x, patchSize: p), "C=\(c) H=\(h) W=\(w) p=\(p)")
            let back = Ops.unpatchify(t, channels: c, height: h, width: w, patchSize: p)
            #expect(back == x, "unpatchify ∘ patchify, C=\(c) H=\(h) W=\(w) p=\(p)")
            #expect(Naive.unpatchify(t, channels: c, height: h, width: w, patchSize: p) == x)
            let y = rng.tensor(t.shape)
            #expect(Ops.patchify(Ops.unpatchify(y, channels: c, height: h, width: w, patchSize: p), patchSize: p) == y)
        }
    }
}
