import Foundation
import Logging
import Strobe
@testable import StrobeServer
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The shipped default model, loaded once for every server test.
enum Shared {
    static let modelPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(ModelLocator.defaultRelativePath).path
    static let engine: StrobeEngine = try! StrobeEngine(modelPath: modelPath)
}

/// A server on a free loopback port for the length of `body`, then cancelled.
func withServer<R>(
    _ settings: ServerSettings = ServerSettings(), _ body: (URL) async throws -> R
) async throws -> R {
    var settings = settings
    settings.port = 0
    var logger = Logger(label: "strobe.serve.test")
    logger.logLevel = .critical
    let server = StrobeServer(engine: Shared.engine, settings: settings, logger: logger)
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let task = Task { try await server.run { port in continuation.yield(port) } }
    defer { task.cancel() }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else { throw URLError(.cannotConnectToHost) }
    return try await body(URL(string: "http://127.0.0.1:\(port)")!)
}

/// One HTTP exchange.
struct HTTPAnswer {
    let status: Int
    let headers: [String: String]
    let body: Data

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
}

func http(
    _ method: String, _ url: URL, headers: [String: String] = [:], body: Data? = nil
) async throws -> HTTPAnswer {
    var request = URLRequest(url: url)
    request.httpMethod = method
    request.httpBody = body
    request.timeoutInterval = 60
    for (key, value) in headers { request.setValue(value, forHTTPHeaderField: key) }
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as! HTTPURLResponse
    var fields: [String: String] = [:]
    for (key, value) in http.allHeaderFields { fields[String(describing: key).lowercased()] = String(describing: value) }
    return HTTPAnswer(status: http.statusCode, headers: fields, body: data)
}

func postJSON(_ url: URL, _ object: [String: Any], headers: [String: String] = [:]) async throws -> HTTPAnswer {
    try await http("POST", url, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a },
                   body: try JSONSerialization.data(withJSONObject: object))
}
