import Foundation
import HTTPTypes
import Hummingbird
import Strobe

/// An error answered in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`,
/// with the HTTP status the official SDK maps to its error classes (400 `BadRequestError`,
/// 401 `AuthenticationError`, 404 `NotFoundError`, 413, 422 `UnprocessableEntityError`,
/// 429 `RateLimitError`, 500 `InternalServerError`, 503).
///
/// `shouldRetry` sets `x-should-retry`: the SDK retries 408, 409, 429 and 5xx twice by
/// default, so an answer that a retry cannot change says `false`, and a full queue says `true`
/// with `Retry-After`.
public struct APIError: Error, Sendable, Equatable {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// What went wrong, for a person.
    public var message: String
    /// OpenAI's error type: `invalid_request_error`, `authentication_error`, `not_found_error`,
    /// `rate_limit_error`, `server_error`.
    public var type: String
    /// The request field at fault, if one is.
    public var param: String?
    /// A stable machine-readable code.
    public var code: String?
    /// `x-should-retry`; nil sends no header.
    public var shouldRetry: Bool?
    /// `Retry-After` in seconds.
    public var retryAfter: Int?

    public init(
        _ status: HTTPResponse.Status, _ message: String, type: String = "invalid_request_error",
        param: String? = nil, code: String? = nil, shouldRetry: Bool? = false, retryAfter: Int? = nil
    ) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.shouldRetry = shouldRetry
        self.retryAfter = retryAfter
    }

    /// 400: a request that can never succeed as sent.
    static func invalid(_ message: String, param: String? = nil, code: String = "invalid_value") -> APIError {
        APIError(.badRequest, message, param: param, code: code)
    }

    /// 404 for an unknown route or id.
    static func notFound(_ message: String, param: String? = nil, code: String = "not_found") -> APIError {
        APIError(.notFound, message, type: "not_found_error", param: param, code: code)
    }

    /// 429 with `Retry-After`: the queue or the memory budget is full; retrying later helps.
    static func busy(_ message: String, retryAfter: Int, code: String = "queue_full") -> APIError {
        APIError(.tooManyRequests, message, type: "rate_limit_error", code: code, shouldRetry: true, retryAfter: retryAfter)
    }

    /// 503: the server is draining for shutdown; another instance (or this one restarted) may
    /// take the request.
    static let shuttingDown = APIError(
        .serviceUnavailable, "the server is shutting down", type: "server_error", code: "shutting_down",
        shouldRetry: true, retryAfter: 5)

    /// The JSON body.
    var body: [String: Any] {
        var error: [String: Any] = ["message": message, "type": type]
        error["param"] = param ?? NSNull()
        error["code"] = code ?? NSNull()
        return ["error": error]
    }

    /// The engine's errors as API errors: what the request asked for is wrong (400), too much
    /// memory for this machine (422), cancelled (499 is not OpenAI's; 400 with code
    /// `cancelled`), or a fault of the server (500).
    init(_ error: PipelineError) {
        let message = error.description
        switch error {
        case .invalidSteps: self = .invalid(message, param: "steps")
        case .invalidSize: self = .invalid(message, param: "size")
        case .invalidCount: self = .invalid(message, param: "n")
        case .promptTooLong, .promptTooLarge, .invalidPrompt: self = .invalid(message, param: "prompt", code: "invalid_prompt")
        case .insufficientMemory:
            self = APIError(.unprocessableContent, message, param: "n", code: "insufficient_memory")
        case .cancelled: self = APIError(.badRequest, message, code: "cancelled")
        case .invalidEdit(let reason): self = .invalid(reason, param: "image")
        case .image: self = .invalid(message, param: "image", code: "invalid_image")
        case .invalidThreads: self = .invalid(message, param: "threads")
        case .unknownAspectRatio: self = .invalid(message, param: "aspect_ratio")
        case .unsupportedPrecision: self = .invalid(message, param: "precision")
        default:
            self = APIError(.internalServerError, message, type: "server_error", code: "internal_error", shouldRetry: nil)
        }
    }
}

extension APIError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    /// The error as a response: JSON body, `x-should-retry`, `Retry-After`.
    func response() -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let shouldRetry { headers[.shouldRetry] = shouldRetry ? "true" : "false" }
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension HTTPField.Name {
    static let shouldRetry = HTTPField.Name("x-should-retry")!
    static let requestID = HTTPField.Name("x-request-id")!
}
