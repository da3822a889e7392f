/// Summary statistics of timings.
public enum Statistics {
    /// The median (the mean of the two middle values for an even count); nil when empty.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted(), middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Seconds in a duration.
    public static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }

    /// Milliseconds in a duration.
    public static func milliseconds(_ duration: Duration) -> Double { seconds(duration) * 1e3 }
}
