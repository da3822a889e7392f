import Foundation
import Strobe
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on standard error, drawn only when stderr is a terminal.
final class ProgressBar: Sendable {
    private let enabled: Bool
    private let drawn = Atomic<Bool>(false)

    init(enabled: Bool) {
        self.enabled = enabled && isatty(STDERR_FILENO) != 0
    }

    func update(_ progress: GenerationProgress) {
        guard enabled else { return }
        let width = 30
        let filled = Int((progress.fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let images = progress.images.count == 1
            ? "image \(progress.images.lowerBound + 1)"
            : "images \(progress.images.lowerBound + 1)-\(progress.images.upperBound)"
        let seconds = Double(progress.elapsed.components.seconds)
            + Double(progress.elapsed.components.attoseconds) / 1e18
        let line = String(format: "\r[%@] step %d/%d, %@, %.1fs", bar, progress.step, progress.steps, images, seconds)
        FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
        drawn.store(true, ordering: .relaxed)
    }

    /// Clears the bar's line.
    func finish() {
        guard enabled, drawn.load(ordering: .relaxed) else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
