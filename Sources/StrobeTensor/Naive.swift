import Foundation

/// Naive twins of `Ops`: the same signatures, written as plain loops straight from the
/// definitions (sums in Float64), with no BLAS, vectorisation or threads.
///
/// They are the reference the tests compare the fast ops against; they are slow.
public enum Naive {
    // MARK: Matrix products

    /// Twin of `Ops.matmul`.
    public static func matmul(
        _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false
    ) -> Tensor {
        let p = MatmulPlan(a.shape, b.shape, transposeA: transposeA, transposeB: transposeB)
        var out = Tensor(shape: p.outShape)
        for batch in 0..<p.batch {
            let offA = p.batchedA ? batch * p.m * p.k : 0
            let offB = p.batchedB ? batch * p.k * p.n : 0
            for i in 0..<p.m {
                for j in 0..<p.n {
                    var sum = 0.0
                    for l in 0..<p.k {
                        let x = a.storage[offA + (transposeA ? l * p.m + i : i * p.k + l)]
                        let y = b.storage[offB + (transposeB ? j * p.k + l : l * p.n + j)]
                        sum += Double(x) * Double(y)
                    }
                    out.storage[(batch * p.m + i) * p.n + j] = Float(sum)
                }
            }
        }
        return out
    }

    /// Twin of the bf16 products (`Ops.matmul(_:_:transposeA:transposeB:precision:)` and
    /// `Ops.linear` with a packed weight): both operands rounded with ``bf16Rounded(_:)``, then
    /// multiplied and summed in double.
    public static func bf16Matmul(_ a: Tensor, _ b: Tensor, transposeB: Bool = false) -> Tensor {
        matmul(Tensor(shape: a.shape, storage: a.storage.map(bf16Rounded)),
               Tensor(shape: b.shape, storage: b.storage.map(bf16Rounded)), transposeB: transposeB)
    }

    /// Twin of the bf16 conversion: round to nearest, ties to even, on the bit pattern;
    /// subnormals become zero of their sign; NaN stays NaN.
    public static func bf16Rounded(_ x: Float) -> Float {
        if x.isNaN { return .nan }
        if x.isSubnormal { return x.sign == .minus ? -0.0 : 0 }
        let bits = x.bitPattern
        let lower = bits & 0xFFFF, upper = bits >> 16
        let roundUp = lower > 0x8000 || (lower == 0x8000 && upper & 1 == 1)
        return Float(bitPattern: (upper &+ (roundUp ? 1 : 0)) << 16)
    }

    /// Twin of `Ops.linear`.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
        let outF = weight.shape[0], inF = weight.shape[1]
        precondition(x.shape.last == inF, "linear: input \(x.shape) vs weight \(weight.shape)")
        let rows = x.count / inF
        var shape = x.shape
        shape[shape.count - 1] = outF
        var out = Tensor(shape: shape)
        for r in 0..<rows {
            for o in 0..<outF {
                var sum = Double(bias?.storage[o] ?? 0)
                for i in 0..<inF {
                    sum += Double(x.storage[r * inF + i]) * Double(weight.storage[o * inF + i])
                }
                out.storage[r * outF + o] = Float(sum)
            }
        }
        return out
    }

    // MARK: Normalisation and activations

    /// Twin of `Ops.softmax` (all `-inf` rows give zeros).
    public static func softmax(_ x: Tensor) -> Tensor {
        var out = x
        let cols = x.shape.last!
        for r in 0..<(cols == 0 ? 0 : x.count / cols) {
            var m = -Double.infinity
            for j in 0..<cols { m = max(m, Double(x.storage[r * cols + j])) }
            var sum = 0.0
            for j in 0..<cols { sum += m == -.infinity ? 0 : Foundation.exp(Double(x.storage[r * cols + j]) - m) }
            for j in 0..<cols {
                let e = m == -.infinity ? 0 : Foundation.exp(Double(x.storage[r * cols + j]) - m)
                out.storage[r * cols + j] = sum == 0 ? 0 : Float(e / sum)
            }
        }
        return out
    }

    /// Twin of `Ops.layerNorm`.
    public static func layerNorm(
        _ x: Tensor, weight: Tensor? = nil, bias: Tensor? = nil, eps: Float = 1e-5
    ) -> Tensor {
        var out = x
        let cols = x.shape.last!
        for r in 0..<(cols == 0 ? 0 : x.count / cols) {
            var mean = 0.0
            for j in 0..<cols { mean += Double(x.storage[r * cols + j]) }
            mean /= Double(cols)
            var variance = 0.0
            for j in 0..<cols {
                let d = Double(x.storage[r * cols + j]) - mean
                variance += d * d
            }
            variance /= Double(cols)
            let inv = 1 / (variance + Double(eps)).squareRoot()
            for j in 0..<cols {
                let y = (Double(x.storage[r * cols + j]) - mean) * inv
                out.storage[r * cols + j] =
                    Float(y * Double(weight?.storage[j] ?? 1) + Double(bias?.storage[j] ?? 0))
            }
        }
        return out
    }

    /// Twin of `Ops.rmsNorm`.
    public static func rmsNorm(_ x: Tensor, weight: Tensor? = nil, eps: Float = 1e-6) -> Tensor {
        var out = x
        let cols = x.shape.last!
        for r in 0..<(cols == 0 ? 0 : x.count / cols) {
            var squares = 0.0
            for j in 0..<cols { squares += Double(x.storage[r * cols + j]) * Double(x.storage[r * cols + j]) }
            let inv = 1 / (squares / Double(cols) + Double(eps)).squareRoot()
            for j in 0..<cols {
                out.storage[r * cols + j] = Float(Double(x.storage[r * cols + j]) * inv * Double(weight?.storage[j] ?? 1))
            }
        }
        return out
    }

    /// Twin of `Ops.gelu`: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` in Float64.
    public static func gelu(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape, storage: x.storage.map { f in
            let v = Double(f)
            return Float(0.5 * v * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))))
        })
    }

    /// Twin of `Ops.silu`: `x · sigmoid(x)` in Float64.
    public static func silu(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape, storage: x.storage.map { f in Float(Double(f) / (1 + Foundation.exp(-Double(f)))) })
    }

    // MARK: Broadcast arithmetic

    /// Twin of `Ops.add`.
    public static func add(_ a: Tensor, _ b: Tensor) -> Tensor { broadcast(a, b, +) }
    /// Twin of `Ops.sub`.
    public static func sub(_ a: Tensor, _ b: Tensor) -> Tensor { broadcast(a, b, -) }
    /// Twin of `Ops.mul`.
    public static func mul(_ a: Tensor, _ b: Tensor) -> Tensor { broadcast(a, b, *) }
    /// Twin of `Ops.div`.
    public static func div(_ a: Tensor, _ b: Tensor) -> Tensor { broadcast(a, b, /) }

    /// Element-wise `f` with NumPy broadcasting, by explicit multi-indices.
    static func broadcast(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let shape = Ops.broadcastShape(a.shape, b.shape)
        var out = Tensor(shape: shape)
        for flat in 0..<out.count {
            let index = multiIndex(flat, shape)
            out.storage[flat] = f(a.storage[sourceOffset(index, a.shape)], b.storage[sourceOffset(index, b.shape)])
        }
        return out
    }

    /// Row-major multi-index of a flat offset.
    static func multiIndex(_ flat: Int, _ shape: [Int]) -> [Int] {
        var index = [Int](repeating: 0, count: shape.count), rest = flat
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return index
    }

    /// Offset in a tensor of `shape` of the element broadcast to an output multi-index.
    static func sourceOffset(_ index: [Int], _ shape: [Int]) -> Int {
        let lead = index.count - shape.count
        var offset = 0
        for (axis, size) in shape.enumerated() {
            offset = offset * size + (size == 1 ? 0 : index[lead + axis])
        }
        return offset
    }

    // MARK: Attention

    /// Twin of `Ops.attention`: per batch, head and query, scores, softmax and weighted sum
    /// in Float64.
    public static func attention(
        q: Tensor, k: Tensor, v: Tensor, heads: Int, scale: Float? = nil,
        bias: Tensor? = nil, keyMask: [Bool]? = nil
    ) -> Tensor {
        let p = AttentionShape(q: q.shape, k: k.shape, v: v.shape, heads: heads)
        let alpha = Double(scale ?? 1 / Float(p.headDim).squareRoot())
        let qw = heads * p.headDim, vw = heads * p.valueDim
        var out = Tensor(shape: p.outShape)
        for b in 0..<p.batch {
            for h in 0..<heads {
                for i in 0..<p.lq {
                    var scores = [Double](repeating: 0, count: p.lk)
                    for j in 0..<p.lk {
                        var dot = 0.0
                        for d in 0..<p.headDim {
                            dot += Double(q.storage[(b * p.lq + i) * qw + h * p.headDim + d])
                                * Double(k.storage[(b * p.lk + j) * qw + h * p.headDim + d])
                        }
                        var s = Double(Float(alpha * dot))
                        if let bias {
                            let bb = bias.rank == 4 ? b : 0
                            s += Double(bias.storage[((bb * heads + h) * p.lq + i) * p.lk + j])
                        }
                        if let keyMask, !keyMask[(keyMask.count == p.lk ? 0 : b * p.lk) + j] { s = -.infinity }
                        scores[j] = s
                    }
                    let m = scores.max() ?? -.infinity
                    let weights = scores.map { m == -.infinity ? 0 : Foundation.exp($0 - m) }
                    let total = weights.reduce(0, +)
                    for d in 0..<p.valueDim {
                        var sum = 0.0
                        for j in 0..<p.lk {
                            sum += weights[j] * Double(v.storage[(b * p.lk + j) * vw + h * p.valueDim + d])
                        }
                        out.storage[(b * p.lq + i) * vw + h * p.valueDim + d] = total == 0 ? 0 : Float(sum / total)
                    }
                }
            }
        }
        return out
    }
}
