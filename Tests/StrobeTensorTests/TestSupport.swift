import StrobeTensor

/// SplitMix64: a tiny seeded generator, so every test sees the same "random" data on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 24) }

    /// Uniform in `range`.
    mutating func uniform(_ range: ClosedRange<Float> = -1...1) -> Float {
        range.lowerBound + (range.upperBound - range.lowerBound) * unit()
    }

    /// A tensor of uniform values.
    mutating func tensor(_ shape: [Int], _ range: ClosedRange<Float> = -1...1) -> Tensor {
        Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in uniform(range) })
    }

    /// One of `choices`.
    mutating func pick<T>(_ choices: [T]) -> T { choices[Int(next() % UInt64(choices.count))] }

    /// An integer in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }
}

/// Awkward sizes: 1, primes, and non-multiples of the vector width.
let awkwardSizes = [1, 2, 3, 7, 13, 16, 31, 33]

/// Largest |a − b| over two tensors of equal shape (infinite if shapes differ; equal values,
/// equal infinities and NaN against NaN count as 0).
func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
    guard a.shape == b.shape else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a.storage, b.storage) {
        if x == y || (x.isNaN && y.isNaN) { continue }
        let d = abs(x - y)
        worst = d.isNaN ? .infinity : max(worst, d)
    }
    return worst
}

/// Largest |x| in a tensor (0 for an empty one).
func maxAbs(_ t: Tensor) -> Float {
    t.storage.reduce(0) { max($0, abs($1)) }
}
