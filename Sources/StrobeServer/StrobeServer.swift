import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import Strobe

/// `strobe serve`: an OpenAI-compatible image server around one loaded engine.
///
/// | route | what |
/// |---|---|
/// | `GET /` | the web page |
/// | `GET /health` | liveness and readiness |
/// | `GET /metrics` | Prometheus text format |
/// | `GET /v1/models` | the model, its sizes and samplers |
/// | `POST /v1/images/generations` | text to image (JSON), `stream` for server-sent events |
/// | `POST /v1/images/edits` | modify or inpaint (multipart: `image`, optional `mask`) |
/// | `POST /v1/images/reframes` | reframe to an aspect ratio (multipart: `image`, `aspect_ratio`) |
/// | `POST /v1/jobs`, `GET`/`DELETE /v1/jobs/{id}` | the same work as asynchronous jobs |
/// | `GET /files/{id}.png` | `url` results, from memory, for a limited time |
///
/// ```swift
/// let engine = try StrobeEngine(modelPath: "Models/strobe-scenes.safetensors")
/// var settings = ServerSettings()
/// settings.port = 8080
/// try await StrobeServer(engine: engine, settings: settings).run()
/// ```
public struct StrobeServer: Sendable {
    let state: ServerState

    /// A server for `engine`; nothing listens until ``run(onListening:)``.
    public init(engine: StrobeEngine, settings: ServerSettings, logger: Logger = Logger(label: "strobe.serve")) {
        state = ServerState(engine: engine, settings: settings, logger: logger)
    }

    /// Listens and serves until SIGTERM or SIGINT, then drains: stops accepting work (503),
    /// cancels what waits, lets what runs finish, answers what is open, and returns.
    /// `onListening` receives the bound port (useful with port 0).
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let settings = state.settings
        let app = Application(
            router: makeRouter(),
            server: .http1(configuration: .init(idleTimeout: .seconds(75))),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "strobe"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? settings.port) },
            logger: state.logger)
        // The scheduler is listed after the HTTP server, so on shutdown it drains first (the
        // group stops services in reverse order) while the server still answers the requests
        // that wait on it; then the server closes.
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: app), .init(service: state.scheduler)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: state.logger)
        // A connection that never finishes (a client that stops reading) cannot hold the exit.
        configuration.maximumGracefulShutdownDuration = settings.shutdownGrace
        let group = ServiceGroup(configuration: configuration)
        try await group.run()
    }

    func makeRouter() -> Router<BasicRequestContext> {
        let state = state
        let router = Router(context: BasicRequestContext.self)
        router.addMiddleware { ObserveMiddleware<BasicRequestContext>(metrics: state.metrics, logger: state.logger) }
        router.addMiddleware { SameOriginMiddleware<BasicRequestContext>(loopbackOnly: state.settings.isLoopback) }

        router.get("/") { _, _ in WebPage.response(.index) }
        router.get("/app.js") { _, _ in WebPage.response(.script) }
        router.get("/style.css") { _, _ in WebPage.response(.style) }
        router.get("/health") { _, _ in
            let ready = await !state.scheduler.isDraining
            return JSONResponse.make(
                Health(status: ready ? "ok" : "draining", live: true, ready: ready, model: state.engine.info.name),
                status: ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: state.metrics.render())))
        }
        router.get("/files/:name") { _, context in try state.file(try context.parameters.require("name")) }

        let v1 = router.group("v1")
        if let key = state.settings.apiKey {
            v1.addMiddleware { APIKeyMiddleware<BasicRequestContext>(key: Array(key.utf8)) }
        }
        v1.get("models") { _, _ in JSONResponse.make(state.models()) }
        v1.get("models/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let model = state.models().data.first(where: { $0.id == id }) else {
                throw APIError.notFound("no model \(id)", param: "model", code: "model_not_found")
            }
            return JSONResponse.make(model)
        }
        v1.post("images/generations") { request, _ in try await state.runImages(request, route: .generation) }
        v1.post("images/edits") { request, _ in try await state.runImages(request, route: .edit) }
        v1.post("images/reframes") { request, _ in try await state.runImages(request, route: .reframe) }
        v1.post("jobs") { request, _ in try await state.createJob(request) }
        v1.get("jobs/:id") { request, context in try await state.getJob(try context.parameters.require("id"), request: request) }
        v1.delete("jobs/:id") { request, context in try await state.cancelJob(try context.parameters.require("id"), request: request) }
        return router
    }
}
