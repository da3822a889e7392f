extension Ops {
    /// GELU, tanh approximation (as `torch.nn.functional.gelu(x, approximate="tanh")`):
    /// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`, computed as the equal `x / (1 + e^(−2u))`.
    public static func gelu(_ x: Tensor) -> Tensor {
        var out = x
        out.storage.withUnsafeMutableBufferPointer { po in
            if let base = po.baseAddress { Kernels.gelu(base, count: po.count) }
        }
        return out
    }

    /// SiLU (swish): `x · sigmoid(x) = x / (1 + e^(−x))`.
    public static func silu(_ x: Tensor) -> Tensor {
        elementwise(x, SiLU())
    }

    /// Applies a lane-wise function to every element, in parallel blocks of whole vectors.
    @usableFromInline
    static func elementwise<F: LaneFunction>(_ x: Tensor, _ f: F) -> Tensor {
        let count = x.count
        let block = 1024  // a multiple of the vector width, so blocks never split a vector
        let blocks = (count + block - 1) / block
        let out = x.storage.withUnsafeBufferPointer { px in
            [Float](unsafeUninitializedCapacity: count) { po, initialized in
                if let src = px.baseAddress, let dstBase = po.baseAddress {
                    let dst = SharedPointer(dstBase)
                    Parallel.forEachChunk(count: blocks, workPerItem: 16 * block) { range in
                        let start = range.lowerBound * block
                        let end = min(count, range.upperBound * block)
                        FastMath.map(src + start, dst.base + start, count: end - start, f)
                    }
                }
                initialized = count
            }
        }
        return Tensor(shape: x.shape, storage: out)
    }
}

/// `x / (1 + e^(−x))`.
struct SiLU: LaneFunction {
    @inline(__always) func callAsFunction(_ v: FastMath.V) -> FastMath.V { v / (1 + FastMath.exp(-v)) }
}
