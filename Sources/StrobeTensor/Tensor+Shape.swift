extension Ops {
    /// Reorders axes: output axis `i` is input axis `axes[i]` (as `torch.permute`).
    public static func permute(_ x: Tensor, _ axes: [Int]) -> Tensor {
        precondition(
            axes.count == x.rank && Set(axes) == Set(0..<x.rank),
            "permute: \(axes) is not a permutation of the \(x.rank) axes of \(x.shape)")
        let shape = axes.map { x.shape[$0] }
        if axes == Array(0..<x.rank) { return x }
        let inStrides = x.strides
        let src = axes.map { inStrides[$0] }  // input stride of each output axis
        let inner = shape.last!, innerStride = src.last!
        let outer = Array(shape.dropLast())
        let rows = inner == 0 ? 0 : x.count / inner
        let out = x.storage.withUnsafeBufferPointer { px in
            [Float](unsafeUninitializedCapacity: x.count) { po, initialized in
                if let pIn = px.baseAddress, let pOut = po.baseAddress {
                    let dst = SharedPointer(pOut)
                    Parallel.forEachChunk(count: rows, workPerItem: inner) { range in
                        for row in range {
                            var offset = 0, rest = row
                            for axis in stride(from: outer.count - 1, through: 0, by: -1) {
                                offset += (rest % outer[axis]) * src[axis]
                                rest /= outer[axis]
                            }
                            let o = dst.base + row * inner
                            for j in 0..<inner { o[j] = pIn[offset + j * innerStride] }
                        }
                    }
                }
                initialized = x.count
            }
        }
        return Tensor(shape: shape, storage: out)
    }

    /// Joins tensors along `axis` (negative counts from the end); other sizes must agree.
    public static func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concat: no tensors")
        let first = tensors[0]
        let ax = first.resolvedAxis(axis)
        for t in tensors {
            precondition(
                t.rank == first.rank
                    && t.shape.enumerated().allSatisfy { $0.offset == ax || $0.element == first.shape[$0.offset] },
                "concat along axis \(axis): shape \(t.shape) does not match \(first.shape)")
        }
        var shape = first.shape
        shape[ax] = tensors.reduce(0) { $0 + $1.shape[ax] }
        let outer = first.shape[..<ax].reduce(1, *)
        let inner = first.shape[(ax + 1)...].reduce(1, *)
        var out = [Float]()
        out.reserveCapacity(shape.reduce(1, *))
        for o in 0..<outer {
            for t in tensors {
                let block = t.shape[ax] * inner
                out.append(contentsOf: t.storage[(o * block)..<((o + 1) * block)])
            }
        }
        return Tensor(shape: shape, storage: out)
    }

    /// Cuts `x` along `axis` into pieces of the given sizes (which must sum to the axis size).
    public static func split(_ x: Tensor, sizes: [Int], axis: Int) -> [Tensor] {
        let ax = x.resolvedAxis(axis)
        precondition(
            sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == x.shape[ax],
            "split: sizes \(sizes) do not add up to \(x.shape[ax]), axis \(axis) of \(x.shape)")
        let outer = x.shape[..<ax].reduce(1, *)
        let inner = x.shape[(ax + 1)...].reduce(1, *)
        let rowLength = x.shape[ax] * inner
        var start = 0
        return sizes.map { size in
            var storage = [Float]()
            storage.reserveCapacity(outer * size * inner)
            for o in 0..<outer {
                let base = o * rowLength + start * inner
                storage.append(contentsOf: x.storage[base..<(base + size * inner)])
            }
            start += size
            var shape = x.shape
            shape[ax] = size
            return Tensor(shape: shape, storage: storage)
        }
    }

    /// Cuts `x` along `axis` into `parts` equal pieces (as `torch.chunk` when it divides evenly).
    public static func split(_ x: Tensor, parts: Int, axis: Int) -> [Tensor] {
        let ax = x.resolvedAxis(axis)
        precondition(
            parts > 0 && x.shape[ax] % parts == 0,
            "split: axis \(axis) of \(x.shape) (size \(x.shape[ax])) does not split into \(parts) equal parts")
        return split(x, sizes: [Int](repeating: x.shape[ax] / parts, count: parts), axis: axis)
    }

    /// Embedding lookup: row `ids[i]` of `table [V, D]` for each id, giving `[ids.count, D]`.
    public static func embedding(_ ids: [Int], table: Tensor) -> Tensor {
        precondition(table.rank == 2, "embedding: table must be [V, D], got \(table.shape)")
        let vocab = table.shape[0], dim = table.shape[1]
        var out = [Float]()
        out.reserveCapacity(ids.count * dim)
        for (i, id) in ids.enumerated() {
            precondition(id >= 0 && id < vocab, "embedding: id \(id) at position \(i) outside vocabulary of \(vocab)")
            out.append(contentsOf: table.storage[(id * dim)..<((id + 1) * dim)])
        }
        return Tensor(shape: [ids.count, dim], storage: out)
    }
}

extension Tensor {
    /// This tensor with its axes reordered (see `Ops.permute`).
    public func permuted(_ axes: [Int]) -> Tensor { Ops.permute(self, axes) }
}
