import ArgumentParser
import Foundation
import Strobe

/// The `strobe` command.
@main
struct StrobeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strobe",
        abstract: "Few-step text-to-image generation on the CPU.",
        version: strobeVersion,
        subcommands: [Generate.self])
}

/// `strobe generate`: until the default model lands, it says so and fails.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate images from a prompt.")

    @Argument(help: "The prompt.")
    var prompt: String

    @Option(name: .shortAndLong, help: "Output PNG path.")
    var output: String?

    func run() throws {
        FileHandle.standardError.write(Data(
            ("strobe: no model is available yet: the default model has not landed in this "
                + "repository, so `strobe generate` cannot make an image.\n").utf8))
        throw ExitCode.failure
    }
}
