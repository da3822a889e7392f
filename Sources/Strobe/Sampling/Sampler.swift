import StrobeTensor

/// One update of a sampler: from time `t` to time `s < t`.
///
/// The pipeline calls the denoiser for velocity `u = velocity(x, t, gap, β)` and sets
/// `x ← x + delta · u`, in Float32 as the reference does.
public struct SamplerStep: Sendable, Equatable {
    /// The time the step starts from (1 is pure noise).
    public let t: Float
    /// The time the step lands on.
    public let s: Float
    /// `Float(s) − Float(t)`, rounded in Float32 (negative).
    public let delta: Float
    /// The gap fed to the network: `t − s` (as `−delta`) for a TVM jump, 0 for the
    /// instantaneous velocity.
    public let gap: Float

    /// A step from `t` to `s`; `jump` selects the TVM gap `−delta` over 0.
    public init(t: Float, s: Float, jump: Bool) {
        self.t = t
        self.s = s
        self.delta = s - t
        self.gap = jump ? -delta : 0
    }
}

/// A sampler: a fixed list of steps from noise (t = 1) to data (t = 0), the same for every
/// image, so it is planned once and shared (`Sendable`).
///
/// Both of Strobe's samplers update `x ← x + delta · u(x, t, gap, β)`; they differ in the grid
/// and the gap. ``run(from:velocity:adjust:afterStep:)`` is that loop.
public protocol Sampler: Sendable {
    /// The name written into image metadata (`flash`, `full`).
    var name: String { get }
    /// Network calls (one per step).
    var steps: Int { get }
    /// The steps in order.
    var schedule: [SamplerStep] { get }
}

extension Sampler {
    /// The schedule both samplers use: `steps` steps on the uniform grid `linspace(1, 0, steps + 1)`,
    /// with the TVM gap when `jump`, checked against `allowed`.
    /// - Throws: ``PipelineError/invalidSteps(sampler:steps:allowed:)`` outside `allowed`.
    static func uniformSchedule(
        _ kind: SamplerKind, steps: Int, allowed: ClosedRange<Int>, jump: Bool
    ) throws(PipelineError) -> [SamplerStep] {
        guard allowed.contains(steps) else {
            throw .invalidSteps(sampler: kind.rawValue, steps: steps, allowed: allowed)
        }
        let grid = TimeGrid.uniform(steps: steps)
        return (0..<steps).map { SamplerStep(t: grid[$0], s: grid[$0 + 1], jump: jump) }
    }

    /// One update `x + delta · u` (Float32: the product is rounded, then the sum).
    public func update(_ x: Tensor, velocity u: Tensor, step: SamplerStep) -> Tensor {
        x + u * step.delta
    }

    /// The sampling loop, the one the engine runs: from `start`, for each step in order,
    /// `x ← adjust(x + delta · velocity(x, step), step)`, then `afterStep(index)` (0-based),
    /// which may report progress, yield, or throw to stop. Returns x₀. `adjust` (default: none)
    /// lets an edit put its known region back after each step.
    public func run<E: Error>(
        from start: Tensor, velocity: (Tensor, SamplerStep) throws(E) -> Tensor,
        adjust: (Tensor, SamplerStep) -> Tensor = { x, _ in x },
        afterStep: (Int) async throws(E) -> Void
    ) async throws(E) -> Tensor {
        var x = start
        for (index, step) in schedule.enumerated() {
            x = adjust(update(x, velocity: try velocity(x, step), step: step), step)
            try await afterStep(index)
        }
        return x
    }
}
