import Foundation
import Testing
@testable import Strobe
#if canImport(Glibc)
import Glibc
#endif

/// Faults during a generation: a signal, a full disk, the weights file changing underneath.
/// Serialized: the signal tests time how fast the process stops, which a CPU shared with other
/// tests' generations would only blur.
@Suite(.serialized) struct FaultTests {
    // MARK: - Signals

    /// Starts `strobe generate` with a random seed and returns once it has planned (it prints
    /// the seed then, just before the network calls start), with its stderr so far.
    func startGeneration(_ arguments: [String], in directory: URL) throws -> (Process, Pipe, String) {
        let executable = try #require(CLITests.executable)
        let process = Process()
        process.executableURL = executable
        process.arguments = ["generate"] + arguments + ["-s", "-1"]
        process.currentDirectoryURL = directory
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        var stderr = ""
        while !stderr.contains("random seed") {
            let data = err.fileHandleForReading.availableData
            if data.isEmpty { break }                                               // the process ended
            stderr += String(decoding: data, as: UTF8.self)
        }
        return (process, err, stderr)
    }

    /// Waits for `process` to end, at most `limit`; true if it did.
    func waitForExit(_ process: Process, limit: Duration) -> Bool {
        let deadline = ContinuousClock.now + limit
        while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        return !process.isRunning
    }

    /// SIGINT during a full 100-step generation of three images with the shipped model (about
    /// 20 s of work here): the process stops after the current network call, writes nothing
    /// and exits 130. "Promptly" is checked with a generous bound (5 s, against about 0.1 s
    /// measured), which is behaviour, not a benchmark.
    @Test(arguments: [(SIGINT, Int32(130), "SIGINT"), (SIGTERM, Int32(143), "SIGTERM")])
    func signalStopsPromptlyWithoutFiles(signal: Int32, status: Int32, name: String) throws {
        let directory = try TemporaryFile.directory()
        let (process, err, started) = try startGeneration(
            ["a lighthouse at dusk", "--sampler", "full", "--steps", "100", "--count", "3", "-o", "out.png",
             "--model", DefaultModelTests.modelPath], in: directory)
        try #require(started.contains("random seed") && process.isRunning, "generation did not start: \(started)")
        kill(process.processIdentifier, signal)
        let stopped = waitForExit(process, limit: .seconds(5))
        if !stopped { process.terminate() }
        #expect(stopped, "still running 5 s after \(name)")
        process.waitUntilExit()
        let stderr = started + String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .exit && process.terminationStatus == status, "\(stderr)")
        #expect(stderr.contains("strobe: interrupted by \(name); no unfinished image was written"), "\(stderr)")
        #expect(try CLITests.files(directory).isEmpty, "hidden temporary files included")
    }

    // MARK: - Full disk

    /// Whether this process may mount a file system in a new mount namespace (root with
    /// CAP_SYS_ADMIN, as in this project's containers; not on every CI machine).
    static let canMountTmpfs: Bool = {
        guard let directory = try? TemporaryFile.directory() else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["unshare", "-m", "sh", "-c", #"mount -t tmpfs -o size=16k tmpfs "$0""#, directory.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    /// A real full disk at the command line: a 16 KiB tmpfs (in a private mount namespace) is
    /// too small for a 256x256 PNG; writing fails with ENOSPC, the message says so, and the
    /// folder is left empty (the listing is taken inside the namespace, before the mount goes).
    @Test(.enabled(if: FaultTests.canMountTmpfs, "needs unshare and mount (root with CAP_SYS_ADMIN)"))
    func fullDiskLeavesNoFile() throws {
        let directory = try TemporaryFile.directory()
        let executable = try #require(CLITests.executable)
        let script = #"""
            mount -t tmpfs -o size=16k tmpfs "$1" || exit 99
            "$0" generate "a lake at dusk" --size 256x256 -s 1 --model "$2" -o "$1/out.png"
            status=$?
            echo "listing:" $(ls -A "$1")
            exit $status
            """#
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["unshare", "-m", "sh", "-c", script, executable.path, directory.path, CLITests.model]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1, "\(stderr)")
        #expect(stderr == "strobe: no space left on device writing \(directory.path)/out.png\n", "\(stderr)")
        #expect(stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "listing:", "\(stdout)")
    }

    // MARK: - The weights file changing

    /// The paths of files mapped into this process.
    static func mappedFiles() throws -> Set<String> {
        // Read to the end: /proc files report size 0, and a reader trusting the size gets one page.
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/maps"))
        defer { try? handle.close() }
        let maps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        return Set(maps.split(separator: "\n").compactMap { line in
            line.firstIndex(of: "/").map { String(line[$0...]) }
        })
    }

    /// After loading, the engine keeps no mapping of the weights file, so truncating,
    /// rewriting and deleting it during a generation changes nothing (no SIGBUS, same bytes).
    @Test func weightsFileChangedDuringGenerationChangesNothing() async throws {
        let copy = try TemporaryFile.directory().appendingPathComponent("model.safetensors").resolvingSymlinksInPath()
        try FileManager.default.copyItem(atPath: PipelineTests.modelPath, toPath: copy.path)
        do {                                                                        // the check sees a mapping
            let open = try WeightsFile(path: copy.path)
            try withExtendedLifetime(open) {
                let mapped = try Self.mappedFiles()
                #expect(mapped.contains(copy.path), "an open weights file should show in /proc/self/maps")
            }
        }
        let engine = try StrobeEngine(modelPath: copy.path)
        #expect(try !Self.mappedFiles().contains(copy.path), "the engine still maps the weights file")

        let config = GenerationConfig(prompt: "a lake at dusk", size: PipelineTests.fixtureSize, seed: 3,
                                      sampler: .full, steps: 12)
        let expected = try await PipelineTests.engine.generate(config).images[0].png
        let result = try await engine.generate(config) { progress in
            switch progress.step {
            case 2: _ = truncate(copy.path, 0)
            case 4: try? Data(repeating: 0xAB, count: 4096).write(to: copy)
            case 6: try? FileManager.default.removeItem(at: copy)
            default: break
            }
            return .proceed
        }
        #expect(result.images[0].png == expected)
    }

    /// A file that changes while it loads is refused (what was read may mix two versions).
    @Test func changeWhileLoadingIsDetected() throws {
        let directory = try TemporaryFile.directory()
        let url = directory.appendingPathComponent("model.safetensors")
        try Data(ValidFile.bytes()).write(to: url)
        let identity = try #require(FileIdentity(path: url.path))
        try identity.checkUnchanged(path: url.path)
        try Data(ValidFile.bytes() + [0]).write(to: url)
        #expect(throws: WeightsError(path: url.path, problems: [.changedWhileLoading(
            reason: "its size went from \(identity.size) to \(identity.size + 1) bytes")])) {
            try identity.checkUnchanged(path: url.path)
        }
        let error = WeightsError(path: "m", problems: [.changedWhileLoading(reason: "it was rewritten")])
        #expect(error.description.contains("the file changed while it was being loaded (it was rewritten); load it again"))
        try FileManager.default.removeItem(at: url)
        #expect(throws: WeightsError.self) { try identity.checkUnchanged(path: url.path) }
    }
}
