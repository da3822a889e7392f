/// A contiguous, row-major fp32 tensor.
///
/// Storage is a Swift array, so a `Tensor` is a value: copies are cheap until written
/// (copy-on-write) and a tensor can be sent between tasks.
public struct Tensor: Sendable, Equatable {
    /// Sizes of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// Elements in row-major order; `storage.count == shape.product`.
    public var storage: [Float]

    /// Creates a tensor from a shape and its elements.
    /// - Precondition: `storage.count` equals the product of `shape`.
    public init(shape: [Int], storage: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(
            shape.reduce(1, *) == storage.count,
            "shape \(shape) holds \(shape.reduce(1, *)) elements, storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    /// A tensor filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(shape: shape, storage: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A rank-0 tensor holding one value.
    public init(scalar value: Float) {
        self.init(shape: [], storage: [value])
    }

    /// Number of elements.
    public var count: Int { storage.count }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// Row-major strides, in elements, of each dimension.
    public var strides: [Int] { Tensor.strides(of: shape) }

    /// Row-major strides of a shape.
    public static func strides(of shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = step
            step *= shape[axis]
        }
        return strides
    }

    /// The same elements seen with another shape of equal element count.
    ///
    /// One dimension may be `-1`: it is inferred from the element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let unknown = newShape.indices.filter { newShape[$0] == -1 }
        precondition(unknown.count <= 1, "reshape \(shape) -> \(newShape): more than one -1")
        guard let axis = unknown.first else {
            return Tensor(shape: newShape, storage: storage)
        }
        let known = newShape.enumerated().reduce(1) { $1.offset == axis ? $0 : $0 * $1.element }
        precondition(
            known > 0 && count % known == 0,
            "reshape \(shape) -> \(newShape): \(count) elements do not divide into \(known)")
        var resolved = newShape
        resolved[axis] = count / known
        return Tensor(shape: resolved, storage: storage)
    }

    /// The element at a full multi-index (for tests and small lookups; not for hot loops).
    public subscript(_ index: Int...) -> Float {
        get { storage[offset(of: index)] }
        set { storage[offset(of: index)] = newValue }
    }

    private func offset(of index: [Int]) -> Int {
        precondition(index.count == rank, "index \(index) has \(index.count) axes, tensor \(shape)")
        var offset = 0
        for (axis, i) in index.enumerated() {
            precondition(i >= 0 && i < shape[axis], "index \(index) out of range for shape \(shape)")
            offset = offset * shape[axis] + i
        }
        return offset
    }
}

extension Tensor {
    /// Normalises a possibly negative axis (`-1` = last) and checks it is in range.
    @usableFromInline
    func resolvedAxis(_ axis: Int, function: String = #function) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        precondition(
            resolved >= 0 && resolved < rank, "\(function): axis \(axis) out of range for shape \(shape)")
        return resolved
    }
}
