import Foundation
import Strobe

/// What `strobe bench` measures: a sampler and step count, named `<sampler>_<steps>`
/// (`flash_4`, `full_100`), for text to image or, with a prefix, an edit of a Strobe-made image:
/// `edit_flash_4` modifies it at strength 0.6 (so ⌈0.6 · 4⌉ = 3 calls), `inpaint_flash_4`
/// repaints its upper-right quarter (with the default layout steps: 4 + 3 calls),
/// `reframe_flash_4` extends it from 1:1 to 21:9 (and is compared with text to image at the same size).
public struct BenchMode: Hashable, Sendable, CustomStringConvertible {
    /// What a timed run does.
    public enum Operation: String, Sendable, Hashable {
        case generate, edit, inpaint, reframe
    }

    /// The sampler.
    public let sampler: SamplerKind
    /// Steps of the schedule (an edit runs its part).
    public let steps: Int
    /// Text to image, or an edit.
    public let operation: Operation

    /// The strength of `edit_` modes.
    public static let editStrength = 0.6
    /// The ratio `reframe_` modes extend a 1:1 image to.
    public static let reframeRatio = AspectRatio.landscape21x9

    public init(_ sampler: SamplerKind, steps: Int, operation: Operation = .generate) {
        self.sampler = sampler
        self.steps = steps
        self.operation = operation
    }

    /// Parses `[edit_|inpaint_|reframe_]<sampler>_<steps>` (`flash_4`, `full_100`, `edit_flash_4`); nil
    /// for anything else, or for a step count outside the sampler's range.
    public init?(parsing text: String) {
        var parts = text.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        var operation = Operation.generate
        if parts.count == 3, let op = Operation(rawValue: parts[0]), op != .generate {
            operation = op
            parts.removeFirst()
        }
        guard parts.count == 2, let sampler = SamplerKind(rawValue: parts[0]),
              let steps = Int(parts[1]), sampler.stepRange.contains(steps) else { return nil }
        self.init(sampler, steps: steps, operation: operation)
    }

    /// `[edit_|inpaint_|reframe_]<sampler>_<steps>`: the mode's key in the report.
    public var name: String {
        (operation == .generate ? "" : "\(operation.rawValue)_") + "\(sampler.rawValue)_\(steps)"
    }
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
