import Foundation
import Testing
@testable import Strobe

/// The built `strobe` executable run as a subprocess against the fixture model.
@Suite struct CLITests {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The `strobe` executable beside the test bundle in the build folder.
    static let executable: URL? = {
        var candidates: [URL] = []
        if let runner = Bundle.main.executableURL {
            candidates.append(runner.deletingLastPathComponent().appendingPathComponent("strobe"))
        }
        candidates.append(Bundle.main.bundleURL.appendingPathComponent("strobe"))
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("strobe"))
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/strobe"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    static let model = PipelineTests.modelPath

    /// Runs `strobe arguments…` in `directory` without `STROBE_MODEL` in its environment, with
    /// the file `stdin` (if any) on its standard input; `environment` sets (or, with nil,
    /// removes) further variables.
    static func strobe(
        _ arguments: [String], in directory: URL, stdin: URL? = nil, environment overrides: [String: String?] = [:]
    ) throws -> Run {
        guard let executable else {
            Issue.record("no strobe executable in the build folder: build the strobe product first")
            return Run(status: -1, stdout: "", stderr: "")
        }
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: ModelLocator.environmentVariable)
        for (key, value) in overrides { environment[key] = value }
        return try run(executable, arguments, in: directory, environment: environment, stdin: stdin)
    }

    /// Runs `executable arguments…` in `directory` with exactly `environment`, the file `stdin`
    /// (if any) on its standard input; returns its status and output.
    static func run(
        _ executable: URL, _ arguments: [String], in directory: URL, environment: [String: String], stdin: URL? = nil
    ) throws -> Run {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if let stdin { process.standardInput = try FileHandle(forReadingFrom: stdin) }
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func files(_ directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    static let small = ["--size", "48x32", "--model", model]

    @Test func generateWritesPNGWithParameters() throws {
        let directory = try TemporaryFile.directory()
        let run = try Self.strobe(["generate", "a lighthouse on the left", "-o", "out.png", "-s", "42"] + Self.small,
                                  in: directory)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("out.png") && run.stdout.contains("seed 42"))
        #expect(run.stderr.isEmpty, "piped stderr has no progress bar: \(run.stderr)")
        let file = try PNGCodec.read(from: directory.appendingPathComponent("out.png").path)
        #expect(file.image.width == 48 && file.image.height == 32)
        let parameters = try #require(file.text(forKey: "parameters"))
        #expect(parameters.hasPrefix("a lighthouse on the left\nSteps: 4, Sampler: flash, Seed: 42, Size: 48x32"))
        let hash = try #require(SHA256.hash(fileAt: Self.model)?.hex)
        #expect(parameters.contains("Model hash: \(hash.prefix(10)), Model: random-fixture"))
        #expect(file.text(forKey: "strobe")?.contains("\"seed\":42") == true)
    }

    @Test func defaultNamesCountsAndRandomSeeds() throws {
        let directory = try TemporaryFile.directory()
        let named = try Self.strobe(["generate", "dunes", "-o", "dunes.png", "--count", "2", "-s", "5"] + Self.small,
                                    in: directory)
        #expect(named.status == 0, "stderr: \(named.stderr)")
        #expect(try Self.files(directory) == ["dunes-5.png", "dunes-6.png"])
        let second = try PNGCodec.read(from: directory.appendingPathComponent("dunes-6.png").path)
        #expect(second.text(forKey: "parameters")?.contains("Seed: 6,") == true)

        let random = try Self.strobe(["generate", "dunes", "-s", "-1", "--no-metadata"] + Self.small, in: directory)
        #expect(random.status == 0, "stderr: \(random.stderr)")
        let seedLine = try #require(random.stderr.split(separator: "\n").first { $0.contains("random seed") })
        let seed = try #require(seedLine.split(separator: " ").last.map(String.init))
        let path = directory.appendingPathComponent("strobe-\(seed).png").path
        #expect(try PNGCodec.read(from: path).text.isEmpty, "--no-metadata")

        let quiet = try Self.strobe(["generate", "dunes", "-s", "9", "--quiet"] + Self.small, in: directory)
        #expect(quiet.status == 0 && quiet.stdout.isEmpty && quiet.stderr.isEmpty)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("strobe-9.png").path))
    }

    @Test func sameSeedSameBytesWhateverThreads() throws {
        let directory = try TemporaryFile.directory()
        for (name, threads) in [("one.png", "1"), ("two.png", "2")] {
            let run = try Self.strobe(["generate", "a tree", "-o", name, "-s", "3", "-t", threads] + Self.small, in: directory)
            #expect(run.status == 0, "stderr: \(run.stderr)")
        }
        let one = try Data(contentsOf: directory.appendingPathComponent("one.png"))
        let two = try Data(contentsOf: directory.appendingPathComponent("two.png"))
        #expect(one == two)
    }

    /// `--batch 2` runs both images through each network call: the same files, each within the
    /// last bits of its unbatched self; a batch outside 1...16 is a malformed option.
    @Test func batchedCountMatchesUnbatched() throws {
        let directory = try TemporaryFile.directory()
        for (name, batch) in [("single.png", "1"), ("batched.png", "2")] {
            let run = try Self.strobe(
                ["generate", "dunes", "-o", name, "--count", "2", "-s", "5", "--batch", batch, "--no-metadata"] + Self.small,
                in: directory)
            #expect(run.status == 0, "stderr: \(run.stderr)")
        }
        #expect(try Self.files(directory) == ["batched-5.png", "batched-6.png", "single-5.png", "single-6.png"])
        for seed in [5, 6] {
            let single = try PNGCodec.read(from: directory.appendingPathComponent("single-\(seed).png").path)
            let batched = try PNGCodec.read(from: directory.appendingPathComponent("batched-\(seed).png").path)
            let worst = zip(single.image.pixels, batched.image.pixels).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1.0 / 255, "seed \(seed): pixels differ by up to \(worst * 255) levels")
        }
        let bad = try Self.strobe(["generate", "dunes", "-o", "x.png", "--batch", "0"] + Self.small, in: directory)
        #expect(bad.status == 64 && bad.stderr.contains("--batch 0 is out of range"), "\(bad.status): \(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("x.png").path))
    }

    // Bad aspect ratios and step counts: BadInputCLITests (CLICase.options).

    @Test func badSize() throws {
        let directory = try TemporaryFile.directory()
        let run = try Self.strobe(["generate", "x", "--size", "50x32", "--model", Self.model], in: directory)
        #expect(run.status == 1)
        #expect(run.stderr.contains("50x32") && run.stderr.contains("patch size 8"), "\(run.stderr)")
        #expect(try Self.files(directory).isEmpty)
    }

    @Test func missingOutputDirectory() throws {
        let directory = try TemporaryFile.directory()
        let run = try Self.strobe(["generate", "x", "-o", "missing/out.png"] + Self.small, in: directory)
        #expect(run.status == 1)
        #expect(run.stderr.contains("directory does not exist: missing"), "\(run.stderr)")
        #expect(try Self.files(directory).isEmpty)
    }

    @Test func existingFileNeedsOverwrite() throws {
        let directory = try TemporaryFile.directory()
        let path = directory.appendingPathComponent("taken.png")
        try Data("keep".utf8).write(to: path)
        let run = try Self.strobe(["generate", "x", "-o", "taken.png"] + Self.small, in: directory)
        #expect(run.status == 1)
        #expect(run.stderr.contains("file exists") && run.stderr.contains("taken.png"), "\(run.stderr)")
        #expect(try Data(contentsOf: path) == Data("keep".utf8))
        #expect(try Self.files(directory) == ["taken.png"])
        let forced = try Self.strobe(["generate", "x", "-o", "taken.png", "--overwrite"] + Self.small, in: directory)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try PNGCodec.read(from: path.path).image.width == 48)
    }

    @Test func missingModel() throws {
        let directory = try TemporaryFile.directory()
        let run = try Self.strobe(["generate", "x", "--model", "nowhere.safetensors"], in: directory)
        #expect(run.status == 1 && run.stderr.contains("model file not found: nowhere.safetensors"), "\(run.stderr)")
        // A binary copied out of the checkout, with no model installed: the places searched and
        // how to get a model, no advice to train.
        let bin = directory.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let copy = bin.appendingPathComponent("strobe")
        try FileManager.default.copyItem(at: try #require(Self.executable), to: copy)
        let home = try TemporaryFile.directory()
        let fallback = try Self.run(copy, ["generate", "x"], in: directory, environment: ["HOME": home.path, "PATH": "/usr/bin:/bin"])
        #expect(fallback.status == 1)
        #expect(fallback.stderr.contains("no model named strobe-scenes found")
            && fallback.stderr.contains(directory.appendingPathComponent("share/strobe/models").path)
            && fallback.stderr.contains("strobe models") && !fallback.stderr.contains("train"), "\(fallback.stderr)")
        #expect(try Self.files(directory) == ["bin"])
        // `strobe models` from there lists the searched folders and finds a model a user adds.
        try FileManager.default.createDirectory(at: home.appendingPathComponent(".local/share/strobe/models"),
                                                withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.model,
                                         toPath: home.appendingPathComponent(".local/share/strobe/models/tiny.safetensors").path)
        let listing = try Self.run(copy, ["models"], in: directory, environment: ["HOME": home.path])
        #expect(listing.status == 0 && listing.stdout.contains("tiny  ") && listing.stdout.contains("searched, in order:"),
                "\(listing.stdout)")
    }

    // Prompt limits and malformed prompts: BadInputCLITests (CLICase.prompts).

    @Test func helpListsAspectRatios() throws {
        let run = try Self.strobe(["generate", "--help"], in: try TemporaryFile.directory())
        #expect(run.status == 0)
        for ratio in AspectRatio.allCases {
            let size = ratio.defaultSize
            #expect(run.stdout.contains("\(ratio.rawValue)") && run.stdout.contains("\(size.width)x\(size.height)"),
                    "\(ratio.rawValue)")
        }
    }

    @Test func infoDescribesTheModel() throws {
        let run = try Self.strobe(["info", "--model", Self.model], in: try TemporaryFile.directory())
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("parameters: 203,488"))
        #expect(run.stdout.contains("F32: 81 tensors"))
        #expect(run.stdout.contains("sampler defaults: flash 4 steps, full 100 steps, guidance 2.0"))
        #expect(run.stdout.contains("patch 8"))
    }

    /// A v2 file runs through the same commands: `info` names its parts, `generate` writes a PNG
    /// at the requested size.
    @Test func v2ModelThroughTheCLI() throws {
        let model = LatentEngineTests.modelPath, directory = try TemporaryFile.directory()
        let info = try Self.strobe(["info", "--model", model], in: directory)
        #expect(info.status == 0, "\(info.stderr)")
        #expect(info.stdout.contains("architecture: strobe-mmdit") && info.stdout.contains("joint text–image attention")
            && info.stdout.contains("autoencoder: 4 latent channels"), "\(info.stdout)")
        #expect(info.stdout.contains("1:1 512x512"), "\(info.stdout)")
        let out = directory.appendingPathComponent("v2.png").path
        let run = try Self.strobe(["generate", "a lighthouse", "--model", model, "--size", "96x64", "--seed", "3",
                                   "--output", out], in: directory)
        #expect(run.status == 0, "\(run.stderr)")
        let image = try PNGCodec.decode(Array(try Data(contentsOf: URL(fileURLWithPath: out)))).image
        #expect(image.width == 96 && image.height == 64)
        let bad = try Self.strobe(["generate", "a lighthouse", "--model", model, "--size", "80x64",
                                   "--output", directory.appendingPathComponent("bad.png").path], in: directory)
        #expect(bad.status != 0 && bad.stderr.contains("32"), "\(bad.stderr)")
    }
}
