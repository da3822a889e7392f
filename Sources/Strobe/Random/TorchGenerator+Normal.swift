import StrobeTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Normal (Gaussian) draws, following PyTorch's `normal_kernel` for float tensors.
extension TorchGenerator {
    /// `torch.manual_seed(seed); torch.randn(count)` in float32.
    public static func normal(seed: UInt64, count: Int, kernel: NormalKernel = .vectorized) -> [Float] {
        var generator = TorchGenerator(seed: seed, kernel: kernel)
        return generator.randn(count: count)
    }

    /// The next `torch.randn(shape)` as a tensor (row-major, like torch's contiguous layout).
    public mutating func randn(shape: [Int]) -> Tensor {
        precondition(shape.allSatisfy { $0 >= 0 }, "shape must be non-negative, got \(shape)")
        let count = shape.reduce(1, *)
        return Tensor(shape: shape, storage: randn(count: count))
    }

    /// The next `torch.randn(count)`: standard normal float32 values.
    ///
    /// With 16 or more values PyTorch fills the buffer with 24-bit uniforms, then turns each
    /// block of 16 into normals (the first 8 give the radii, the last 8 the angles); when
    /// `count` is not a multiple of 16 it draws 16 fresh uniforms for the last 16 slots and
    /// transforms those. With fewer than 16 values it uses the double-precision scalar path.
    public mutating func randn(count: Int) -> [Float] {
        precondition(count >= 0, "count must be non-negative, got \(count)")
        guard count >= 16 else {
            return (0..<count).map { _ in Float(normalDouble()) }
        }
        var data = [Float](repeating: 0, count: count)
        data.withUnsafeMutableBufferPointer { buffer in
            for i in 0..<count { buffer[i] = uniformFloat() }
            // Blocks are independent: transform them on several threads (same values).
            let shared = UncheckedBuffer(buffer), kernel = self.kernel
            Parallel.forEachChunk(count: count / 16, workPerItem: 16 * 40) { blocks in
                for block in blocks { Self.boxMuller16(shared.buffer, at: block * 16, kernel: kernel) }
            }
            if count % 16 != 0 {
                for i in (count - 16)..<count { buffer[i] = uniformFloat() }
                Self.boxMuller16(buffer, at: count - 16, kernel: kernel)
            }
        }
        return data
    }

    /// One draw of PyTorch's `at::normal_distribution<double>` (mean 0, std 1).
    ///
    /// Draws two 53-bit uniforms, returns `r·cos θ` and keeps `r·sin θ` for the next call.
    public mutating func normalDouble() -> Double {
        if let cached = cachedNormal {
            cachedNormal = nil
            return cached
        }
        let u1 = uniformDouble()
        let u2 = uniformDouble()
        let radius = (-2.0 * log1p(-u2)).squareRoot()
        let theta = 2.0 * Double.pi * u1
        cachedNormal = radius * sin(theta)
        return radius * cos(theta)
    }

    /// Box–Muller in place on `buffer[start..<start+16]` holding uniforms in [0, 1).
    private static func boxMuller16(_ buffer: UnsafeMutableBufferPointer<Float>, at start: Int, kernel: NormalKernel) {
        switch kernel {
        case .vectorized:
            for j in start..<(start + 8) {
                let u1 = 1 - buffer[j]
                let u2 = buffer[j + 8]
                let radius = (Float(-2) * CephesMath.log(u1)).squareRoot()
                let theta = CephesMath.twoPi * u2
                let (s, c) = CephesMath.sincos(theta)
                buffer[j] = Float(0).addingProduct(radius * c, 1)
                buffer[j + 8] = Float(0).addingProduct(radius * s, 1)
            }
        case .scalar:
            for j in start..<(start + 8) {
                let u1 = 1 - buffer[j]
                let u2 = buffer[j + 8]
                let radius = (Float(-2) * logf(u1)).squareRoot()
                let theta = Float(2.0 * Double.pi * Double(u2))
                buffer[j] = Float(0).addingProduct(radius * cosf(theta), 1)
                buffer[j + 8] = Float(0).addingProduct(radius * sinf(theta), 1)
            }
        }
    }
}

/// A buffer that parallel chunks write at disjoint blocks.
private struct UncheckedBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Float>
    init(_ buffer: UnsafeMutableBufferPointer<Float>) { self.buffer = buffer }
}
