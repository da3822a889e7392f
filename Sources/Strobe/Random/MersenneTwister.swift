/// The 32-bit Mersenne Twister (MT19937) exactly as PyTorch's CPU generator runs it.
///
/// PyTorch seeds the state with the low 32 bits of its 64-bit seed (so seeds `s` and
/// `s + 2³²` give the same stream) using the reference `init_genrand` recurrence.
public struct MersenneTwister: Sendable, Equatable {
    static let n = 624
    static let m = 397
    static let matrixA: UInt32 = 0x9908_b0df
    static let upperMask: UInt32 = 0x8000_0000
    static let lowerMask: UInt32 = 0x7fff_ffff

    /// The 64-bit seed this engine was created with (only its low 32 bits matter).
    public let seed: UInt64
    private var state: [UInt32]
    private var next: Int

    /// Creates an engine in the state `torch.manual_seed(seed)` leaves it in.
    public init(seed: UInt64) {
        self.seed = seed
        var state = [UInt32](repeating: 0, count: Self.n)
        state[0] = UInt32(truncatingIfNeeded: seed)
        for j in 1..<Self.n {
            let previous = state[j - 1]
            state[j] = 1_812_433_253 &* (previous ^ (previous >> 30)) &+ UInt32(j)
        }
        self.state = state
        self.next = Self.n  // forces a twist before the first draw
    }

    /// The next 32-bit output (PyTorch's `random()`).
    public mutating func next32() -> UInt32 {
        if next == Self.n { twist() }
        var y = state[next]
        next += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    private mutating func twist() {
        let n = Self.n, m = Self.m
        state.withUnsafeMutableBufferPointer { s in
            for i in 0..<n {
                let mixed = (s[i] & Self.upperMask) | (s[(i + 1) % n] & Self.lowerMask)
                let twisted = (mixed >> 1) ^ ((s[(i + 1) % n] & 1) != 0 ? Self.matrixA : 0)
                s[i] = s[(i + m) % n] ^ twisted
            }
        }
        next = 0
    }
}
