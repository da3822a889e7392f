import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `strobe serve` as a process: its first line, and SIGTERM's drain.
@Suite(.serialized)
struct ServeCommandTests {
    /// The `strobe` executable in the build folder next to the tests.
    static let executable: URL? = {
        var candidates: [URL] = []
        if let runner = Bundle.main.executableURL { candidates.append(runner.deletingLastPathComponent().appendingPathComponent("strobe")) }
        candidates.append(Bundle.main.bundleURL.appendingPathComponent("strobe"))
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("strobe"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// A running `strobe serve --port 0` and its base URL (from its first line of output).
    struct Served {
        let process: Process
        let base: URL
    }

    static func serve(_ extra: [String] = []) throws -> Served? {
        guard let executable else {
            Issue.record("no strobe executable in the build folder: build the strobe product first")
            return nil
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = ["serve", "--port", "0", "--model", Shared.modelPath, "--log-level", "error"] + extra
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else {
            process.terminate()
            Issue.record("no address in the first line: \(text)")
            return nil
        }
        return Served(process: process, base: URL(string: String(text[range]))!)
    }

    @Test func sigtermFinishesTheRunningRequestCancelsTheWaitingOneAndExitsZero() async throws {
        guard let served = try Self.serve() else { return }
        defer { if served.process.isRunning { served.process.terminate() } }
        let generations = served.base.appending(path: "v1/images/generations")
        let running = Task { try await postJSON(generations, ["prompt": "a lake", "sampler": "full", "steps": 60, "seed": 1]) }
        // Wait until the engine runs it.
        var isRunning = false
        for _ in 0..<400 where !isRunning {
            let metrics = String(decoding: try await http("GET", served.base.appending(path: "metrics")).body, as: UTF8.self)
            isRunning = metrics.contains("strobe_running 1")
            if !isRunning { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(isRunning)
        let waiting = Task { try await postJSON(generations, ["prompt": "a hill", "seed": 2]) }
        try await Task.sleep(for: .milliseconds(200))                      // let it reach the queue
        kill(served.process.processIdentifier, SIGTERM)
        let finished = try await running.value
        #expect(finished.status == 200)
        #expect((finished.json["data"] as? [Any])?.count == 1)
        let cancelled = try await waiting.value
        #expect(cancelled.status == 503)
        for _ in 0..<500 where served.process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        #expect(!served.process.isRunning)
        #expect(served.process.terminationStatus == 0)
    }
}
