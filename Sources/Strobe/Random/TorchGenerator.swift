/// A random number generator that reproduces PyTorch's default CPU generator bit for bit.
///
/// `TorchGenerator(seed: s).randn(count: n)` equals
/// `torch.manual_seed(s); torch.randn(n, dtype=torch.float32)` exactly. The generator keeps
/// the same state PyTorch keeps (the Mersenne Twister and the cached second value of the
/// double-precision Box–Muller), so successive calls match successive torch calls too.
///
/// PyTorch's normal kernel for float tensors of 16 or more elements depends on the CPU
/// capability it dispatches to; see ``NormalKernel``.
public struct TorchGenerator: Sendable {
    /// Which of PyTorch's CPU normal kernels to reproduce for tensors of ≥ 16 elements.
    public enum NormalKernel: String, Sendable, Codable, CaseIterable {
        /// PyTorch on x86 with AVX2 or AVX-512 (what `torch.randn` gives on almost every
        /// x86 machine): Box–Muller on 8-wide vectors with Cephes polynomial log/sin/cos.
        case vectorized
        /// PyTorch's portable kernel (`ATEN_CPU_CAPABILITY=default`, and builds without x86
        /// SIMD): the C library's `logf`, `sinf` and `cosf`; exact where the C library is the
        /// one PyTorch used (glibc on Linux).
        case scalar
    }

    /// The Mersenne Twister driving every draw.
    public private(set) var engine: MersenneTwister
    /// The kernel ``randn(count:)`` uses for 16 or more values.
    public var kernel: NormalKernel
    /// PyTorch's `next_double_normal_sample`: the sine half of the last scalar Box–Muller pair.
    var cachedNormal: Double?

    /// A generator in the state `torch.manual_seed(seed)` leaves PyTorch's CPU generator in.
    public init(seed: UInt64, kernel: NormalKernel = .vectorized) {
        self.engine = MersenneTwister(seed: seed)
        self.kernel = kernel
        self.cachedNormal = nil
    }

    /// Reseeds like `torch.manual_seed(seed)`: a fresh engine and no cached normal value.
    public mutating func manualSeed(_ seed: UInt64) {
        engine = MersenneTwister(seed: seed)
        cachedNormal = nil
    }

    /// The seed last given (PyTorch's `initial_seed()`).
    public var initialSeed: UInt64 { engine.seed }

    /// PyTorch's `random()`: the next 32-bit output of the engine.
    public mutating func random() -> UInt32 {
        engine.next32()
    }

    /// PyTorch's `random64()`: two 32-bit outputs, the first one in the high half.
    public mutating func random64() -> UInt64 {
        let high = UInt64(engine.next32())
        let low = UInt64(engine.next32())
        return high << 32 | low
    }

    /// A float uniform in [0, 1) from the low 24 bits of one `random()` (as `torch.rand`).
    public mutating func uniformFloat() -> Float {
        Float(Double(random() & 0x00ff_ffff) * (1.0 / 16_777_216.0))
    }

    /// A double uniform in [0, 1) from the low 53 bits of one `random64()`.
    public mutating func uniformDouble() -> Double {
        Double(random64() & 0x001f_ffff_ffff_ffff) * (1.0 / 9_007_199_254_740_992.0)
    }
}

extension TorchGenerator {
    /// Image `index` of a batch uses seed `base + index` (wrapping at 2⁶⁴).
    public static func batchSeed(base: UInt64, index: Int) -> UInt64 {
        precondition(index >= 0, "batch index must be non-negative, got \(index)")
        return base &+ UInt64(index)
    }

    /// The seeds of a batch of `count` images starting at `base`.
    public static func batchSeeds(base: UInt64, count: Int) -> [UInt64] {
        (0..<count).map { batchSeed(base: base, index: $0) }
    }
}
