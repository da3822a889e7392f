import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Strobe
import Synchronization

/// Everything the routes share: one engine, its scheduler, the stores, the limits.
struct ServerState: Sendable {
    let engine: StrobeEngine
    let settings: ServerSettings
    let scheduler: Scheduler
    let jobs: JobStore
    let images: ImageStore
    let metrics: ServerMetrics
    let reader: ImageTaskReader
    let logger: Logger
    /// Bytes of bodies and decoded uploads being prepared (``ServerSettings/uploadBudgetBytes``).
    let uploads: ByteBudget
    /// Requests being decoded and planned at once.
    let preparation = Gate(permits: 2)

    init(engine: StrobeEngine, settings: ServerSettings, logger: Logger) {
        self.engine = engine
        self.settings = settings
        self.logger = logger
        metrics = ServerMetrics()
        scheduler = Scheduler(engine: engine, settings: settings, metrics: metrics, logger: logger)
        jobs = JobStore(retention: settings.jobRetention, maxFinished: settings.maxFinishedJobs)
        images = ImageStore(retention: settings.imageRetention, maxBytes: settings.maxStoredImageBytes)
        reader = ImageTaskReader(engine: engine, settings: settings)
        uploads = ByteBudget(limit: settings.uploadBudgetBytes)
    }

    /// Reads a whole request body within the size and time limits (413, 408).
    ///
    /// A body over the limit is read on and dropped (up to ``drainLimit`` more bytes) before the
    /// 413, so that a client that sends its whole body before reading (most do; only some send
    /// `Expect: 100-continue`) gets the answer instead of a failed write. A body that ends early
    /// (the client gave up) is a 400.
    func readBody(_ body: RequestBody, headers: HTTPFields) async throws -> [UInt8] {
        let limit = settings.maxBodyBytes
        let declared = headers[.contentLength].flatMap(Int.init)
        let timeout = settings.bodyTimeout
        let outcome = try await withThrowingTaskGroup(of: BodyRead?.self) { group in
            group.addTask {
                var bytes: [UInt8] = []
                var total = 0
                do {
                    for try await buffer in body {
                        total += buffer.readableBytes
                        if total <= limit, (declared ?? 0) <= limit {
                            bytes += buffer.readableBytesView
                        } else if total > limit + Self.drainLimit {
                            return .tooLarge(total)
                        }
                    }
                } catch {
                    throw APIError(.badRequest, "the request body ended before it was complete", code: "incomplete_body")
                }
                return total > limit || (declared ?? 0) > limit ? .tooLarge(max(total, declared ?? 0)) : .read(bytes)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let read = first else {
                throw APIError(.requestTimeout, "the request body took longer than \(timeout) to arrive", code: "body_timeout")
            }
            return read
        }
        switch outcome {
        case .read(let bytes): return bytes
        case .tooLarge(let size):
            throw APIError(.contentTooLarge, "the body is \(size) bytes or more; the limit is \(limit)", code: "body_too_large")
        }
    }

    /// What reading a body found.
    enum BodyRead: Sendable {
        case read([UInt8])
        case tooLarge(Int)
    }

    /// Bytes beyond the limit read and dropped before a 413 (more and the connection closes).
    static let drainLimit = 64 << 20

    /// The media type of a request, lowercased, without parameters.
    static func mediaType(_ headers: HTTPFields) -> String {
        (headers[.contentType] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    /// Parses a request for `route` into a task: JSON for generations, multipart for edits and
    /// reframes (415-style mistakes answer 400 naming the type expected). `allowOperation` lets a
    /// multipart job carry its `operation` field.
    func task(
        route: ImageTask.Kind, headers: HTTPFields, body: [UInt8], reservation: UploadReservation? = nil,
        allowOperation: Bool = false
    ) throws(APIError) -> ImageTask {
        let type = Self.mediaType(headers)
        switch route {
        case .generation:
            guard type == "application/json" else {
                throw APIError.invalid("send 'Content-Type: application/json' (got '\(type)')", code: "unsupported_content_type")
            }
            return try reader.generation(try RequestFields.json(body))
        case .edit, .reframe:
            guard let contentType = headers[.contentType], let boundary = Multipart.boundary(contentType: contentType) else {
                throw APIError.invalid("send 'Content-Type: multipart/form-data' with a boundary (got '\(type)')", code: "unsupported_content_type")
            }
            let parts = try Multipart.parse(body, boundary: boundary)
            var fields: [String: RequestFields.Value] = [:]
            var images: [FormPart] = [], masks: [FormPart] = []
            for part in parts {
                switch part.name {
                case "image", "image[]": images.append(part)
                case "mask": masks.append(part)
                case "operation" where allowOperation:
                    continue                                               // read by the jobs route
                default:
                    guard part.filename == nil else {
                        throw APIError.invalid("unexpected file in field '\(part.name)'", param: part.name, code: "unknown_parameter")
                    }
                    guard fields[part.name] == nil else {
                        throw APIError.invalid("field '\(part.name)' given twice", param: part.name)
                    }
                    fields[part.name] = .text(String(decoding: part.body, as: UTF8.self))
                }
            }
            guard let imagePart = images.first else {
                throw APIError.invalid("an image is required in the 'image' field", param: "image", code: "missing_required_parameter")
            }
            guard images.count == 1 else {
                throw APIError.invalid("one image per request (got \(images.count))", param: "image")
            }
            guard masks.count <= 1 else { throw APIError.invalid("one mask per request", param: "mask") }
            let image = try reader.decodeImage(imagePart, param: "image", reservation: reservation)
            let requestFields = RequestFields(values: fields)
            if route == .reframe {
                guard masks.isEmpty else { throw APIError.invalid("a reframe takes no mask", param: "mask") }
                return try reader.reframe(requestFields, image: image)
            }
            let mask = try masks.first.map { (part) throws(APIError) in
                try reader.decodeImage(part, param: "mask", reservation: reservation)
            }
            return try reader.edit(requestFields, image: image, mask: mask)
        }
    }

    /// The images of a result in OpenAI's shape; `url` results are stored and linked under
    /// `base` (`http://host:port`).
    func imagesResponse(_ result: FinishedImages, task: ImageTask, created: Int, base: String) -> ImagesResponse {
        let items = result.images.map { image -> ImagesResponse.Item in
            var item = ImagesResponse.Item(revised_prompt: result.prompt, seed: image.seed)
            switch task.responseFormat {
            case .b64JSON: item.b64_json = Data(image.png).base64EncodedString()
            case .url: item.url = "\(base)/files/\(images.put(image.png)).png"
            }
            return item
        }
        return ImagesResponse(
            created: created, data: items, size: result.size.description, sampler: result.sampler, steps: result.steps)
    }

    /// Where `url` results point: ``ServerSettings/publicURL`` when set (a server behind a
    /// proxy), else `http://host:port` as the client addressed this server.
    func baseURL(_ request: Request) -> String {
        if let url = settings.publicURL { return url }
        let host = request.head.authority ?? "\(settings.host):\(settings.port)"
        return "http://\(host)"
    }

    /// Reads and prepares a request within the upload budget and the preparation gate: the
    /// body's bytes (declared, else the limit) and each upload's decoded size are reserved
    /// while the request is read, decoded and planned, then released (429 when they do not fit).
    func prepare(
        _ body: RequestBody, headers: HTTPFields, _ make: ([UInt8], UploadReservation) throws -> ImageTask
    ) async throws -> ImageTask {
        let reservation = UploadReservation(budget: uploads)
        defer { reservation.releaseAll() }
        try reservation.reserve(headers[.contentLength].flatMap(Int.init).map { min($0, settings.maxBodyBytes) } ?? settings.maxBodyBytes)
        let bytes = try await readBody(body, headers: headers)
        return try await preparation.with { try make(bytes, reservation) }
    }
}

/// One request's share of the upload budget, released when its preparation ends.
final class UploadReservation: Sendable {
    private let budget: ByteBudget
    private let held = Mutex(0)

    init(budget: ByteBudget) { self.budget = budget }

    /// Reserves `bytes` more, or refuses with 429.
    func reserve(_ bytes: Int) throws(APIError) {
        guard budget.reserve(bytes) else {
            throw APIError.busy("uploads being read and decoded fill the server's upload budget; retry shortly", retryAfter: 1, code: "uploads_busy")
        }
        held.withLock { $0 += bytes }
    }

    func releaseAll() {
        budget.release(held.withLock { held in defer { held = 0 }; return held })
    }
}

/// Cancels a request's work when its client goes away, whether that happens before or after
/// the work exists.
final class DisconnectGuard: Sendable {
    private let state = Mutex<(item: WorkItem?, closed: Bool)>((nil, false))

    func attach(_ item: WorkItem) {
        let closed = state.withLock { state in
            state.item = item
            return state.closed
        }
        if closed { item.cancel() }
    }

    func clientClosed() {
        let item = state.withLock { state in
            state.closed = true
            return state.item
        }
        item?.cancel()
    }
}
