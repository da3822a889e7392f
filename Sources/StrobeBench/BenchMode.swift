import Foundation
import Strobe

/// A sampler and step count that `strobe bench` measures, named `<sampler>_<steps>`
/// (`flash_4`, `full_100`).
public struct BenchMode: Hashable, Sendable, CustomStringConvertible {
    /// The sampler.
    public let sampler: SamplerKind
    /// Steps (network calls per image).
    public let steps: Int

    public init(_ sampler: SamplerKind, steps: Int) {
        self.sampler = sampler
        self.steps = steps
    }

    /// Parses `<sampler>_<steps>` (`flash_4`, `full_100`); nil for anything else, or for a step
    /// count outside the sampler's range.
    public init?(parsing text: String) {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, let sampler = SamplerKind(rawValue: String(parts[0])),
              let steps = Int(parts[1]), sampler.stepRange.contains(steps) else { return nil }
        self.init(sampler, steps: steps)
    }

    /// `<sampler>_<steps>`: the mode's key in the report.
    public var name: String { "\(sampler.rawValue)_\(steps)" }
    public var description: String { name }

    /// What `strobe bench` measures by default: flash at 1, 2, 4 and 8 steps, full at 100.
    public static let standard: [BenchMode] = [
        BenchMode(.flash, steps: 1), BenchMode(.flash, steps: 2), BenchMode(.flash, steps: 4),
        BenchMode(.flash, steps: 8), BenchMode(.full, steps: 100),
    ]

    /// The mode whose throughput (images per second at count 1 and 4) is reported: the engine's
    /// default, flash 4.
    public static let throughput = BenchMode(.flash, steps: 4)

    /// Parses a comma-separated list (`flash_4,full_100`), keeping the given order and dropping
    /// repeats.
    /// - Throws: ``BenchError/invalidMode(_:)`` naming the first entry that is not a mode.
    public static func list(parsing text: String) throws(BenchError) -> [BenchMode] {
        var modes: [BenchMode] = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            guard let mode = BenchMode(parsing: entry) else { throw .invalidMode(entry) }
            if !modes.contains(mode) { modes.append(mode) }
        }
        if modes.isEmpty { throw .invalidMode(text) }
        return modes
    }
}
