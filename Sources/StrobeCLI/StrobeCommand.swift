import ArgumentParser
import Foundation
import Strobe

/// The `strobe` command.
@main
struct StrobeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strobe",
        abstract: "Few-step text-to-image generation on the CPU.",
        version: strobeVersion,
        subcommands: [Generate.self, Edit.self, Reframe.self, Serve.self, Info.self, Bench.self, Models.self])
}

/// Writes a line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Reports a failure the way every subcommand does (`strobe: <message>` on stderr) and exits 1.
func fail(_ message: String) -> ExitCode {
    printError("strobe: \(message)")
    return ExitCode.failure
}

/// The model to load: `--model`, else `STROBE_MODEL`, else the default model, each a path or a
/// name looked up as ``ModelLocator`` says.
func locateModel(_ explicit: String?) throws -> String {
    do {
        return try ModelLocator.locate(explicit: explicit)
    } catch {
        throw fail(error.description)
    }
}

/// Loads the engine (with up to `maxBatch` images per denoiser call) or exits with the reason.
func loadEngine(_ path: String, maxBatch: Int = 1) throws -> StrobeEngine {
    do {
        return try StrobeEngine(modelPath: path, maxBatch: maxBatch)
    } catch {
        throw fail(error.description)
    }
}

extension AspectRatio: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension SamplerKind: ExpressibleByArgument {}

extension Precision: ExpressibleByArgument {}

/// The `--precision` check shared by `generate` and `bench`: refuses bf16 on a CPU without
/// AVX512_BF16 before any work.
func checkPrecision(_ precision: Precision) throws {
    if let reason = precision.unsupportedReason {
        throw ValidationError("--precision \(precision.rawValue) is not available: \(reason); use fp32 (the default)")
    }
}

extension ImageSize: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}
