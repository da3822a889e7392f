/// The samplers Strobe offers, by name (`flash`, `full`), as configurations and the command
/// line spell them.
public enum SamplerKind: String, Codable, Sendable, CaseIterable {
    /// ``FlashSampler``: TVM jumps, 1–10 steps (default 4).
    case flash
    /// ``FullSampler``: Euler on the instantaneous velocity, 1–1000 steps (default 100).
    case full

    /// The step counts this sampler accepts.
    public var stepRange: ClosedRange<Int> {
        switch self {
        case .flash: FlashSampler.stepRange
        case .full: FullSampler.stepRange
        }
    }

    /// The model's default step count for this sampler (from its `strobe.sampler_defaults`).
    public func defaultSteps(_ defaults: SamplerDefaults) -> Int {
        switch self {
        case .flash: defaults.flashSteps
        case .full: defaults.fullSteps
        }
    }

    /// The sampler with `steps` steps.
    /// - Throws: ``PipelineError/invalidSteps(sampler:steps:allowed:)`` outside ``stepRange``.
    public func sampler(steps: Int) throws(PipelineError) -> any Sampler {
        switch self {
        case .flash: try FlashSampler(steps: steps)
        case .full: try FullSampler(steps: steps)
        }
    }
}
