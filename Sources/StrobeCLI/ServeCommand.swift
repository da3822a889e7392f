import ArgumentParser
import Foundation
import Logging
import Strobe
import StrobeServer

/// `strobe serve`: the OpenAI-compatible HTTP server with the web page.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the model over HTTP: OpenAI-compatible image routes, jobs, metrics and a web page.",
        discussion: """
            Binds 127.0.0.1 unless --host says otherwise. With --api-key (or STROBE_API_KEY) every /v1 route \
            requires 'Authorization: Bearer <key>'. SIGTERM or Ctrl-C drains: new work is refused, waiting work \
            is cancelled, running work finishes (within --shutdown-grace), then the server exits 0. The routes \
            are listed in docs/server.md.
            """)

    @Option(help: "Address to bind (0.0.0.0 exposes the server to the network).")
    var host = "127.0.0.1"

    @Option(help: "Port (0: a free one; the address is printed once listening).")
    var port = 8080

    @Option(name: .customLong("api-key"), help: "Require this bearer key on /v1 routes (default: STROBE_API_KEY).")
    var apiKey: String?

    @Option(help: "Model weights file, or a model name (see `strobe models`).")
    var model: String?

    @Option(help: "Images per request at most (n).")
    var maxImages = 10

    @Option(help: "Requests that may wait at once.")
    var queue = 32

    @Option(name: .customLong("max-body-mb"), help: "Largest request body, MiB.")
    var maxBodyMB = 16

    @Option(name: .customLong("max-pixels"), help: "Largest uploaded image, in pixels as its header declares.")
    var maxPixels = 4096 * 4096

    @Option(name: .customLong("memory-budget-mb"), help: "Memory the admitted work may need in all, MiB (the engine's estimate).")
    var memoryBudgetMB = 2048

    @Option(name: .customLong("retention"), help: "Seconds finished jobs and url results are kept.")
    var retentionSeconds = 600

    @Option(name: .customLong("max-calls"), help: "Network calls one request may need (n x steps).")
    var maxCalls = 2000

    @Option(name: .customLong("upload-budget-mb"), help: "Memory for request bodies and decoded uploads being prepared at once, MiB.")
    var uploadBudgetMB = 1024

    @Option(name: .customLong("public-url"), help: "Base of url results when clients come through a proxy (e.g. https://img.example.com).")
    var publicURL: String?

    @Option(name: .customLong("shutdown-grace"), help: "Seconds a shutdown may take before what is left is cancelled.")
    var shutdownGrace = 90

    @Option(help: "Threads per generation (default: all cores).")
    var threads: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not in 0...65535") }
        guard maxImages >= 1, maxImages <= GenerationConfig.countRange.upperBound else {
            throw ValidationError("--max-images must be in 1...\(GenerationConfig.countRange.upperBound)")
        }
        guard queue >= 1 else { throw ValidationError("--queue must be at least 1") }
        guard maxBodyMB >= 1, maxBodyMB <= 1024 else { throw ValidationError("--max-body-mb must be in 1...1024") }
        guard maxPixels >= 1, maxPixels <= InputImage.maxPixels else { throw ValidationError("--max-pixels must be in 1...\(InputImage.maxPixels)") }
        guard memoryBudgetMB >= 64 else { throw ValidationError("--memory-budget-mb must be at least 64") }
        guard retentionSeconds >= 1 else { throw ValidationError("--retention must be at least 1 second") }
        if let threads, !GenerationConfig.threadRange.contains(threads) { throw ValidationError("--threads \(threads) is out of range") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
        if let apiKey, apiKey.isEmpty { throw ValidationError("--api-key must not be empty") }
        guard maxCalls >= 1 else { throw ValidationError("--max-calls must be at least 1") }
        guard uploadBudgetMB >= 1 else { throw ValidationError("--upload-budget-mb must be at least 1") }
        guard shutdownGrace >= 1 else { throw ValidationError("--shutdown-grace must be at least 1 second") }
        if let publicURL, URL(string: publicURL)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            throw ValidationError("--public-url must be an http or https URL")
        }
    }

    func run() async throws {
        let engine = try loadEngine(try locateModel(model))
        var settings = ServerSettings()
        settings.host = host
        settings.port = port
        settings.apiKey = apiKey
        settings.applyEnvironment()
        settings.maxImages = maxImages
        settings.queueCapacity = queue
        settings.maxBodyBytes = maxBodyMB << 20
        settings.memoryBudgetBytes = memoryBudgetMB << 20
        settings.maxInputPixels = maxPixels
        settings.jobRetention = .seconds(retentionSeconds)
        settings.imageRetention = .seconds(retentionSeconds)
        settings.threads = threads
        settings.maxCalls = maxCalls
        settings.uploadBudgetBytes = uploadBudgetMB << 20
        settings.publicURL = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        settings.shutdownGrace = .seconds(shutdownGrace)
        var logger = Logger(label: "strobe.serve")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        if !settings.isLoopback, settings.apiKey == nil {
            printError("strobe serve: warning: listening on \(host) without an API key: anyone who can reach this address can use the server (--api-key)")
        }
        let host = host, keyed = settings.apiKey != nil, name = engine.info.name
        do {
            try await StrobeServer(engine: engine, settings: settings, logger: logger).run { port in
                let shown = host.contains(":") ? "[\(host)]" : host
                let line = "strobe serve: \(name) at http://\(shown):\(port)/\(keyed ? " (API key required on /v1)" : "")\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            }
        } catch {
            throw fail("serve: \(error)")
        }
    }
}
