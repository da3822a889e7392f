/// The full reference sampler: Euler on the instantaneous velocity `u(x, t)` (gap 0) over `N`
/// uniform steps (docs/architecture.md, "Sampler mathematics"). Same weights and code path as flash; about 100 calls.
///
/// With a small `N` it is the naive few-step baseline that shows what TVM buys.
public struct FullSampler: Sampler {
    /// The step counts the full sampler accepts.
    public static let stepRange = 1...1000
    /// The step count used when neither the caller nor the model says otherwise.
    public static let defaultSteps = 100

    public var name: String { SamplerKind.full.rawValue }
    public let steps: Int
    public let schedule: [SamplerStep]

    /// A full sampler with `steps` Euler steps.
    /// - Throws: ``PipelineError/invalidSteps(sampler:steps:allowed:)`` outside ``stepRange``.
    public init(steps: Int) throws(PipelineError) {
        self.steps = steps
        self.schedule = try Self.uniformSchedule(.full, steps: steps, allowed: Self.stepRange, jump: false)
    }
}
