import Foundation

extension Naive {
    /// Twin of `Ops.permute`: output element at multi-index `i` is input element `j` with
    /// `j[axes[n]] = i[n]`.
    public static func permute(_ x: Tensor, _ axes: [Int]) -> Tensor {
        let shape = axes.map { x.shape[$0] }
        var out = Tensor(shape: shape)
        for flat in 0..<out.count {
            let index = multiIndex(flat, shape)
            var source = [Int](repeating: 0, count: x.rank)
            for (n, axis) in axes.enumerated() { source[axis] = index[n] }
            out.storage[flat] = x.storage[offset(source, x.shape)]
        }
        return out
    }

    /// Twin of `Ops.concat`.
    public static func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
        let ax = axis < 0 ? axis + tensors[0].rank : axis
        var shape = tensors[0].shape
        shape[ax] = tensors.reduce(0) { $0 + $1.shape[ax] }
        var out = Tensor(shape: shape)
        for flat in 0..<out.count {
            var index = multiIndex(flat, shape)
            var t = 0
            while index[ax] >= tensors[t].shape[ax] {
                index[ax] -= tensors[t].shape[ax]
                t += 1
            }
            out.storage[flat] = tensors[t].storage[offset(index, tensors[t].shape)]
        }
        return out
    }

    /// Twin of `Ops.split(_:sizes:axis:)`.
    public static func split(_ x: Tensor, sizes: [Int], axis: Int) -> [Tensor] {
        let ax = axis < 0 ? axis + x.rank : axis
        var start = 0
        return sizes.map { size in
            var shape = x.shape
            shape[ax] = size
            var piece = Tensor(shape: shape)
            for flat in 0..<piece.count {
                var index = multiIndex(flat, shape)
                index[ax] += start
                piece.storage[flat] = x.storage[offset(index, x.shape)]
            }
            start += size
            return piece
        }
    }

    /// Twin of `Ops.embedding`.
    public static func embedding(_ ids: [Int], table: Tensor) -> Tensor {
        let dim = table.shape[1]
        var out = Tensor(shape: [ids.count, dim])
        for (i, id) in ids.enumerated() {
            for d in 0..<dim { out.storage[i * dim + d] = table.storage[id * dim + d] }
        }
        return out
    }

    /// Twin of `Ops.patchify`: `tokens[ph·(W/p) + pw, c·p·p + py·p + px] = image[c, ph·p + py, pw·p + px]`.
    public static func patchify(_ image: Tensor, patchSize p: Int) -> Tensor {
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        var out = Tensor(shape: [(h / p) * (w / p), c * p * p])
        for ch in 0..<c {
            for y in 0..<h {
                for x in 0..<w {
                    let token = (y / p) * (w / p) + x / p
                    let feature = ch * p * p + (y % p) * p + x % p
                    out.storage[token * c * p * p + feature] = image.storage[(ch * h + y) * w + x]
                }
            }
        }
        return out
    }

    /// Twin of `Ops.unpatchify`.
    public static func unpatchify(
        _ tokens: Tensor, channels c: Int, height h: Int, width w: Int, patchSize p: Int
    ) -> Tensor {
        var out = Tensor(shape: [c, h, w])
        for ch in 0..<c {
            for y in 0..<h {
                for x in 0..<w {
                    let token = (y / p) * (w / p) + x / p
                    let feature = ch * p * p + (y % p) * p + x % p
                    out.storage[(ch * h + y) * w + x] = tokens.storage[token * c * p * p + feature]
                }
            }
        }
        return out
    }

    /// Twin of `Ops.rope`: each pair `(x[2i], x[2i+1])` of each head rotated by
    /// `pos · theta^(−2i/Dh)`, angles in Float64.
    public static func rope(_ x: Tensor, positions: [Float], heads: Int, theta: Float = 10_000) -> Tensor {
        let width = x.shape[x.rank - 1], headDim = width / heads
        return rotate(x, heads: heads) { l, i in
            Double(positions[l]) * Foundation.pow(Double(theta), -Double(2 * i) / Double(headDim))
        }
    }

    /// Twin of `Ops.rope2D`: pairs `i < Dh/4` rotated by `row · theta^(−2i/(Dh/2))`, pairs
    /// `Dh/4 + i` by `column · theta^(−2i/(Dh/2))`.
    public static func rope2D(
        _ x: Tensor, rows: [Float], columns: [Float], heads: Int, theta: Float = 10_000
    ) -> Tensor {
        let headDim = x.shape[x.rank - 1] / heads, quarter = headDim / 4
        return rotate(x, heads: heads) { l, i in
            let (pos, j) = i < quarter ? (rows[l], i) : (columns[l], i - quarter)
            return Double(pos) * Foundation.pow(Double(theta), -Double(2 * j) / Double(headDim / 2))
        }
    }

    /// Rotates pair `i` of every head of token `l` by `angle(l, i)`.
    static func rotate(_ x: Tensor, heads: Int, angle: (Int, Int) -> Double) -> Tensor {
        let length = x.shape[x.rank - 2], width = x.shape[x.rank - 1], headDim = width / heads
        var out = x
        for r in 0..<(x.count / width) {
            for h in 0..<heads {
                for i in 0..<(headDim / 2) {
                    let a = angle(r % length, i)
                    let c = Float(Foundation.cos(a)), s = Float(Foundation.sin(a))
                    let at = r * width + h * headDim + 2 * i
                    let x0 = Double(x.storage[at]), x1 = Double(x.storage[at + 1])
                    out.storage[at] = Float(Double(c) * x0 - Double(s) * x1)
                    out.storage[at + 1] = Float(Double(s) * x0 + Double(c) * x1)
                }
            }
        }
        return out
    }

    static func offset(_ index: [Int], _ shape: [Int]) -> Int {
        zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 }
    }
}
