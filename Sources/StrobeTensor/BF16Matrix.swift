import StrobeKernels
import Synchronization

/// A `K × N` matrix packed once into bf16 panels for ``Ops/linear(_:rows:weight:bias:into:)``'s
/// bf16 path (see the StrobeKernels header `strobe_bf16.h` for the layout).
///
/// Immutable after init, so it may be shared between threads.
public final class BF16Matrix: Sendable {
    /// The inner dimension K and the output columns N.
    public let k: Int, n: Int
    /// The packed elements (bf16 bit patterns).
    let packed: [UInt16]

    /// Packs a weight in PyTorch's layout, `[out, in]`: K = in, N = out, so that the product
    /// is `x · weightᵀ`.
    public convenience init(weight: Tensor) {
        precondition(weight.rank == 2, "BF16Matrix: weight must be [out, in], got \(weight.shape)")
        self.init(weight, transposed: true)
    }

    /// Packs a matrix `[K, N]`, or with `transposed` one stored `[N, K]`.
    public convenience init(_ matrix: Tensor, transposed: Bool) {
        precondition(matrix.rank == 2, "BF16Matrix: need a matrix, got \(matrix.shape)")
        let (rows, columns) = (matrix.shape[0], matrix.shape[1])
        let (k, n) = transposed ? (columns, rows) : (rows, columns)
        self.init(k: k, n: n) { packed in
            matrix.storage.withUnsafeBufferPointer { strobe_bf16_pack($0.baseAddress!, columns, transposed ? 1 : 0, k, n, packed) }
        }
    }

    private init(k: Int, n: Int, fill: (UnsafeMutablePointer<UInt16>) -> Void) {
        self.k = k
        self.n = n
        let count = strobe_bf16_packed_count(k, n)
        packed = [UInt16](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(buffer.baseAddress!)
            initialized = count
        }
    }

    /// Bytes held.
    public var byteCount: Int { packed.count * 2 }

    /// Elements per 32-column panel.
    var panelCount: Int { strobe_bf16_packed_count(k, Int(STROBE_BF16_PANEL)) }
}

/// Rounds like the CPU's bf16 conversion: nearest, ties to even; subnormals to zero.
public func bf16Rounded(_ x: Float) -> Float {
    Float(bitPattern: UInt32(strobe_bf16_round(x)) << 16)
}

/// A ``BF16Matrix`` made on first use and kept: a model packs its weights for bf16 only when a
/// bf16 product first asks for them.
public final class LazyBF16Matrix: Sendable {
    private let value = Mutex<BF16Matrix?>(nil)

    public init() {}

    /// The packed form of `weight` (`[out, in]`), packed at the first call; later calls must
    /// pass the same weight.
    public func packed(_ weight: Tensor) -> BF16Matrix {
        value.withLock { stored in
            if let stored { return stored }
            let made = BF16Matrix(weight: weight)
            stored = made
            return made
        }
    }

    /// Whether the weight has been packed.
    public var isPacked: Bool { value.withLock { $0 != nil } }
}
