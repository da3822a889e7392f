/// The sampler time grids (docs/architecture.md, "Sampler mathematics"), as pure functions.
public enum TimeGrid {
    /// `linspace(1, 0, steps + 1)`: `t_i = (steps − i) / steps` computed in Float64 and rounded
    /// to Float32, for `i` in `0...steps` (the reference's `strobe_reference.sampling.time_grid`).
    ///
    /// The first value is exactly 1 and the last exactly 0.
    /// - Precondition: `steps ≥ 1`.
    public static func uniform(steps: Int) -> [Float] {
        precondition(steps >= 1, "TimeGrid.uniform: steps must be at least 1, got \(steps)")
        return (0...steps).map { Float(Double(steps - $0) / Double(steps)) }
    }
}
