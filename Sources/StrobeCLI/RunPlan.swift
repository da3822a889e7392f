import ArgumentParser
import Foundation
import Strobe

/// The end of `generate`, `edit` and `reframe`: runs `work` (the engine's generation of a
/// checked plan) with a progress bar and Ctrl-C, then writes each image atomically to its path.
func runAndWrite(
    plan: GenerationPlan, paths: [String], overwrite: Bool, quiet: Bool, timings: Bool,
    work: (@escaping ProgressHandler) async throws(PipelineError) -> GenerationResult
) async throws {
    let bar = ProgressBar(enabled: !quiet)
    let result: GenerationResult
    do {
        result = try await work { progress in
            bar.update(progress)
            return Interrupt.received == nil ? .proceed : .cancel
        }
    } catch {
        bar.finish()
        try stopIfInterrupted()
        throw fail(error.description)
    }
    bar.finish()

    try Interrupt.whileWriting {
        for (image, path) in zip(result.images, paths) {
            try stopIfInterrupted()
            do throws(PipelineError) {
                try image.write(to: path, overwrite: overwrite)
            } catch {
                throw fail(error.description)
            }
            if !quiet { print("wrote \(path) (seed \(image.seed), \(plan.size), \(plan.sampler.name) \(plan.steps) steps)") }
        }
    }
    if timings { printTimings(result.timings) }
}

/// After SIGINT or SIGTERM: says so and exits with 128 + the signal's number (130, 143).
func stopIfInterrupted() throws {
    guard Interrupt.received != nil else { return }
    printError("strobe: interrupted by \(Interrupt.signalName); no unfinished image was written")
    throw ExitCode(Interrupt.exitStatus)
}

/// Per-stage timings on stderr (`--timings`).
func printTimings(_ timings: StageTimings) {
    func ms(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.1f ms", seconds * 1000)
    }
    let lines = [
        "timings:",
        "tokenize     \(ms(timings.tokenize))",
        "encode text  \(ms(timings.encodeText))",
        "noise        \(ms(timings.noise))",
        "denoise      \(ms(timings.denoising)) in \(timings.denoiserCalls.count) calls: "
            + timings.denoiserCalls.map(ms).joined(separator: ", "),
        "decode       \(ms(timings.decode.reduce(.zero, +)))",
        "png          \(ms(timings.png.reduce(.zero, +)))",
        "total        \(ms(timings.total))",
    ]
    printError(lines.joined(separator: "\n"))
}
