import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Answers every error in OpenAI's shape (unknown routes too), logs one structured line per
/// request and counts it in the metrics by route pattern and status.
struct ObserveMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        // The client's own request id when it sends a plausible one, else a fresh one.
        let given = request.headers[.requestID].flatMap { id in
            id.count <= 64 && !id.isEmpty && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") } ? id : nil
        }
        let id = given ?? String(RandomID.make().prefix(16))
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = error.response()
        } catch let error as any HTTPResponseError {
            response = Self.apiError(for: error.status, path: request.uri.path).response()
        } catch is CancellationError {
            response = APIError(.badRequest, "the request was cancelled", code: "cancelled").response()
        } catch {
            logger.error("unexpected error", metadata: ["request_id": "\(id)", "error": "\(error)"])
            response = APIError(.internalServerError, "internal error", type: "server_error", code: "internal_error", shouldRetry: nil).response()
        }
        response.headers[.requestID] = id
        let route = context.endpointPath ?? "unmatched"
        let duration = ContinuousClock.now - start
        metrics.request(route: route, method: request.method.rawValue, status: response.status.code, duration: duration)
        logger.info("request", metadata: [
            "request_id": "\(id)", "method": "\(request.method.rawValue)", "path": "\(request.uri.path)",
            "route": "\(route)", "status": "\(response.status.code)",
            "ms": "\(String(format: "%.1f", Double(duration.components.attoseconds) * 1e-15 + Double(duration.components.seconds) * 1e3))",
        ])
        return response
    }

    static func apiError(for status: HTTPResponse.Status, path: String) -> APIError {
        switch status {
        case .notFound: return .notFound("no route \(path)", code: "unknown_route")
        case .methodNotAllowed: return APIError(.methodNotAllowed, "method not allowed on \(path)", code: "method_not_allowed")
        case .contentTooLarge: return APIError(.contentTooLarge, "the request body is over the limit", code: "body_too_large")
        default: return APIError(status, status.reasonPhrase, type: status.code >= 500 ? "server_error" : "invalid_request_error", code: "http_\(status.code)")
        }
    }
}

/// With an API key set, every `/v1` route requires `Authorization: Bearer <key>`, compared in
/// constant time.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: [UInt8]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError(.unauthorized, "missing API key: send 'Authorization: Bearer <key>'", type: "authentication_error", code: "missing_api_key")
        }
        let prefix = "Bearer "
        let given = header.hasPrefix(prefix) ? Array(header.utf8.dropFirst(prefix.utf8.count)) : []
        guard Self.constantTimeEqual(given, key) else {
            throw APIError(.unauthorized, "incorrect API key", type: "authentication_error", code: "invalid_api_key")
        }
        return try await next(request, context)
    }

    /// Equal bytes, in a time that depends only on the lengths.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}

/// Keeps web pages of other sites away from the server. A browser lets any page send a simple
/// cross-site POST (a form), and a DNS-rebinding page can even read the answers; so requests
/// whose `Origin` is not this server are refused (403), and a server bound to loopback answers
/// only requests addressed to a loopback name (`127.0.0.1`, `localhost`, `[::1]`).
struct SameOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let loopbackOnly: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let authority = request.head.authority ?? ""
        if loopbackOnly, !Self.isLoopback(authority) {
            throw APIError(.forbidden, "this server answers only requests addressed to 127.0.0.1, localhost or [::1]",
                           type: "permission_error", code: "host_not_allowed")
        }
        if let origin = request.headers[.origin], origin != "http://\(authority)", origin != "https://\(authority)" {
            throw APIError(.forbidden, "cross-origin request from \(origin.prefix(100)) refused",
                           type: "permission_error", code: "cross_origin")
        }
        return try await next(request, context)
    }

    /// Whether `host[:port]` names the loopback interface.
    static func isLoopback(_ authority: String) -> Bool {
        let host: Substring
        if authority.hasPrefix("[") {
            host = authority.prefix { $0 != "]" }.dropFirst()
        } else {
            host = authority.split(separator: ":", maxSplits: 1).first ?? ""
        }
        return ["127.0.0.1", "localhost", "::1"].contains(host.lowercased())
    }
}
