import Foundation

/// How `strobe serve` listens and what it accepts. Every limit is checked before any work
/// starts; the defaults suit one engine on a small machine.
public struct ServerSettings: Sendable {
    /// The address to bind; loopback unless told otherwise.
    public var host = "127.0.0.1"
    /// The port; 0 picks a free one (printed at start).
    public var port = 8080
    /// When set, every `/v1` route requires `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// Largest request body in bytes (413 beyond).
    public var maxBodyBytes = 16 << 20
    /// Largest uploaded image, in pixels, as its header declares (400 beyond, before decoding).
    public var maxInputPixels = 4096 * 4096
    /// Largest `n`.
    public var maxImages = 10
    /// Requests that may wait in the queue (429 with `Retry-After` beyond).
    public var queueCapacity = 32
    /// Memory the queued and running work may need together, by the engine's estimate (429
    /// beyond; a single request over it alone is a 422).
    public var memoryBudgetBytes = 2 << 30
    /// How long a finished job is kept (then its id answers 410).
    public var jobRetention: Duration = .seconds(600)
    /// Finished jobs kept at most (the oldest go first, then answer 410).
    public var maxFinishedJobs = 128
    /// How long a `url` result can be fetched.
    public var imageRetention: Duration = .seconds(600)
    /// Bytes of `url` results held at most (the oldest go first).
    public var maxStoredImageBytes = 256 << 20
    /// How long a client may take to send its request body (408 beyond).
    public var bodyTimeout: Duration = .seconds(30)
    /// Network calls one request may need (n × steps, in batches); more is a 400.
    public var maxCalls = 2000
    /// Bytes of request bodies and decoded uploads being prepared at once (429 beyond).
    public var uploadBudgetBytes = 1 << 30
    /// The base of `url` results (e.g. `https://images.example.com`) when clients reach the
    /// server through a proxy; nil: as the client addressed the server.
    public var publicURL: String?
    /// How long a graceful shutdown may take before what is left, the running request
    /// included, is cancelled.
    public var shutdownGrace: Duration = .seconds(90)
    /// Threads per generation (nil: all cores).
    public var threads: Int?

    public init() {}

    /// Whether ``host`` is a loopback address (then only loopback names are answered).
    public var isLoopback: Bool { ["127.0.0.1", "::1", "localhost"].contains(host.lowercased()) }

    /// Reads `STROBE_API_KEY` when no key was given.
    public mutating func applyEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) {
        if apiKey == nil, let key = environment["STROBE_API_KEY"], !key.isEmpty { apiKey = key }
    }
}
