/// The flash (TVM) sampler: `K` jumps on the uniform grid `linspace(1, 0, K + 1)`, each with
/// gap `t − s`, so the network predicts the average velocity over the whole jump (docs/architecture.md, "Sampler mathematics").
/// One network call per step; guidance is baked into the model through β.
public struct FlashSampler: Sampler {
    /// The step counts the flash sampler accepts.
    public static let stepRange = 1...10
    /// The step count used when neither the caller nor the model says otherwise.
    public static let defaultSteps = 4

    public var name: String { SamplerKind.flash.rawValue }
    public let steps: Int
    public let schedule: [SamplerStep]

    /// A flash sampler with `steps` jumps.
    /// - Throws: ``PipelineError/invalidSteps(sampler:steps:allowed:)`` outside ``stepRange``.
    public init(steps: Int) throws(PipelineError) {
        self.steps = steps
        self.schedule = try Self.uniformSchedule(.flash, steps: steps, allowed: Self.stepRange, jump: true)
    }
}
