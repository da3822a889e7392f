/// Element-wise arithmetic with NumPy broadcasting.
///
/// Shapes are aligned at their last axis; each pair of sizes must be equal or one of them 1
/// (or missing), and the result takes the larger. E.g. `[L, D] * [D]`, `[L, D] + [1, D]`,
/// `[C, H, W] * [C, 1, 1]`. adaLN modulation reads `x * (1 + scale) + shift`.
extension Ops {
    /// The broadcast shape of two shapes (NumPy rules).
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
        let rank = max(a.count, b.count)
        var shape = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            precondition(
                da == db || da == 1 || db == 1, "shapes \(a) and \(b) do not broadcast (axis \(i): \(da) vs \(db))")
            shape[i] = da == 1 ? db : da
        }
        return shape
    }

    /// `a + b`, broadcast.
    public static func add(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, .add) }
    /// `a − b`, broadcast.
    public static func sub(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, .sub) }
    /// `a · b`, broadcast.
    public static func mul(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, .mul) }
    /// `a / b`, broadcast.
    public static func div(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, .div) }

    @usableFromInline
    enum BinaryKind: Sendable { case add, sub, mul, div }

    @usableFromInline
    static func binary(_ a: Tensor, _ b: Tensor, _ kind: BinaryKind) -> Tensor {
        switch kind {  // one specialised kernel per operation, so the inner loops vectorise
        case .add: return binary(a, b, AddFunction.self)
        case .sub: return binary(a, b, SubFunction.self)
        case .mul: return binary(a, b, MulFunction.self)
        case .div: return binary(a, b, DivFunction.self)
        }
    }

    private static func binary<F: ScalarFunction>(_ a: Tensor, _ b: Tensor, _: F.Type) -> Tensor {
        let same = a.shape == b.shape
        let shape = same ? a.shape : broadcastShape(a.shape, b.shape)
        let count = shape.reduce(1, *)
        guard count > 0 else { return Tensor(shape: shape, storage: []) }
        // Rows of the output's last axis (the whole tensor when shapes are equal).
        let inner = same ? count : max(1, shape.last ?? 1)
        let rows = count / inner
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        let ia = same ? 1 : sa.last ?? 0, ib = same ? 1 : sb.last ?? 0
        let outer = Array(shape.dropLast())
        let blocks = inner >= 8192 ? (inner + 4095) / 4096 : 1  // long rows split into blocks too
        let storage = a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                [Float](unsafeUninitializedCapacity: count) { po, initialized in
                    let pa = pa.baseAddress!, pb = pb.baseAddress!, dst = SharedPointer(po.baseAddress!)
                    Parallel.forEachChunk(count: rows * blocks, workPerItem: inner / blocks) { range in
                        for piece in range {
                            let row = piece / blocks, block = piece % blocks
                            var offA = 0, offB = 0, rest = row
                            for axis in stride(from: outer.count - 1, through: 0, by: -1) {
                                let i = rest % outer[axis]
                                rest /= outer[axis]
                                offA += i * sa[axis]
                                offB += i * sb[axis]
                            }
                            let start = inner * block / blocks, n = inner * (block + 1) / blocks - start
                            let o = dst.base + row * inner + start
                            let x = pa + offA + start * ia, y = pb + offB + start * ib
                            switch (ia, ib) {
                            case (1, 1): for j in 0..<n { o[j] = F.apply(x[j], y[j]) }
                            case (1, 0): let v = y[0]; for j in 0..<n { o[j] = F.apply(x[j], v) }
                            case (0, 1): let u = x[0]; for j in 0..<n { o[j] = F.apply(u, y[j]) }
                            default: o.update(repeating: F.apply(x[0], y[0]), count: n)
                            }
                        }
                    }
                    initialized = count
                }
            }
        }
        return Tensor(shape: shape, storage: storage)
    }

    /// Strides of `shape` seen as `target` (0 on broadcast axes).
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = Tensor.strides(of: shape)
        let lead = target.count - shape.count
        return target.indices.map { i in
            i < lead || shape[i - lead] == 1 ? 0 : own[i - lead]
        }
    }

    /// A scalar operation on every element: `x ∘ s`, or `s ∘ x` when `scalarFirst`.
    static func scalar(_ a: Tensor, _ s: Float, _ kind: BinaryKind, scalarFirst: Bool) -> Tensor {
        let scalar = Tensor(shape: [], storage: [s])
        return scalarFirst ? binary(scalar, a, kind) : binary(a, scalar, kind)
    }
}

extension Tensor {
    /// Broadcast sum.
    public static func + (a: Tensor, b: Tensor) -> Tensor { Ops.binary(a, b, .add) }
    /// Broadcast difference.
    public static func - (a: Tensor, b: Tensor) -> Tensor { Ops.binary(a, b, .sub) }
    /// Broadcast product.
    public static func * (a: Tensor, b: Tensor) -> Tensor { Ops.binary(a, b, .mul) }
    /// Broadcast quotient.
    public static func / (a: Tensor, b: Tensor) -> Tensor { Ops.binary(a, b, .div) }

    /// Adds a scalar to every element.
    public static func + (a: Tensor, s: Float) -> Tensor { Ops.scalar(a, s, .add, scalarFirst: false) }
    /// Subtracts a scalar from every element.
    public static func - (a: Tensor, s: Float) -> Tensor { Ops.scalar(a, s, .sub, scalarFirst: false) }
    /// Multiplies every element by a scalar.
    public static func * (a: Tensor, s: Float) -> Tensor { Ops.scalar(a, s, .mul, scalarFirst: false) }
    /// Divides every element by a scalar.
    public static func / (a: Tensor, s: Float) -> Tensor { Ops.scalar(a, s, .div, scalarFirst: false) }
    /// `s + a` for every element.
    public static func + (s: Float, a: Tensor) -> Tensor { Ops.scalar(a, s, .add, scalarFirst: true) }
    /// `s − a` for every element.
    public static func - (s: Float, a: Tensor) -> Tensor { Ops.scalar(a, s, .sub, scalarFirst: true) }
    /// `s · a` for every element.
    public static func * (s: Float, a: Tensor) -> Tensor { Ops.scalar(a, s, .mul, scalarFirst: true) }
    /// `s / a` for every element.
    public static func / (s: Float, a: Tensor) -> Tensor { Ops.scalar(a, s, .div, scalarFirst: true) }
    /// Negation.
    public static prefix func - (a: Tensor) -> Tensor { Ops.scalar(a, -1, .mul, scalarFirst: false) }

    /// `a = a + b`; `b` must broadcast to `a`'s shape.
    public static func += (a: inout Tensor, b: Tensor) { a = a.updated(by: b, .add) }
    /// `a = a − b`; `b` must broadcast to `a`'s shape.
    public static func -= (a: inout Tensor, b: Tensor) { a = a.updated(by: b, .sub) }
    /// `a = a · b`; `b` must broadcast to `a`'s shape.
    public static func *= (a: inout Tensor, b: Tensor) { a = a.updated(by: b, .mul) }

    private func updated(by b: Tensor, _ kind: Ops.BinaryKind) -> Tensor {
        let result = Ops.binary(self, b, kind)
        precondition(result.shape == shape, "in-place update of \(shape) by \(b.shape) would change its shape")
        return result
    }
}

/// A scalar binary operation as a type, so that kernels specialise on it.
protocol ScalarFunction {
    static func apply(_ x: Float, _ y: Float) -> Float
}

enum AddFunction: ScalarFunction {
    @inline(__always) static func apply(_ x: Float, _ y: Float) -> Float { x + y }
}

enum SubFunction: ScalarFunction {
    @inline(__always) static func apply(_ x: Float, _ y: Float) -> Float { x - y }
}

enum MulFunction: ScalarFunction {
    @inline(__always) static func apply(_ x: Float, _ y: Float) -> Float { x * y }
}

enum DivFunction: ScalarFunction {
    @inline(__always) static func apply(_ x: Float, _ y: Float) -> Float { x / y }
}
