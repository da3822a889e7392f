import Foundation
import HTTPTypes
import Hummingbird
import Strobe

/// `{"created", "data": [...]}`: OpenAI's images response.
struct ImagesResponse: Encodable, Sendable {
    struct Item: Encodable, Sendable {
        var b64_json: String?
        var url: String?
        var revised_prompt: String
        /// Strobe's own: the image's seed (regenerates it exactly).
        var seed: UInt64
    }

    let created: Int
    let data: [Item]
    /// Strobe's own: the settings the images were made with.
    let size: String
    let sampler: String
    let steps: Int
}

/// `GET /v1/jobs/{id}`.
struct JobResponse: Encodable, Sendable {
    struct Progress: Encodable, Sendable {
        let completed_calls: Int
        let total_calls: Int
    }

    struct ErrorBody: Encodable, Sendable {
        let message: String, type: String, param: String?, code: String?
    }

    let id: String
    var object = "job"
    let kind: String
    let status: String
    let created_at: Int
    let progress: Progress
    let queue_position: Int?
    let result: ImagesResponse?
    let error: ErrorBody?
}

/// `GET /health`: live while the process answers; ready until shutdown begins (then 503).
struct Health: Encodable, Sendable {
    let status: String
    let live: Bool
    let ready: Bool
    let model: String
}

/// `GET /v1/models`.
struct ModelList: Encodable, Sendable {
    struct Model: Encodable, Sendable {
        let id: String
        var object = "model"
        let created: Int
        var owned_by = "strobe"
        /// Strobe's own: the sizes `size` accepts, by aspect ratio, and the samplers.
        let sizes: [String: String]
        let samplers: [String: [Int]]
        let default_steps: [String: Int]
        /// This server's limits on a request.
        let limits: Limits
    }

    struct Limits: Encodable, Sendable {
        let max_images: Int
        let max_body_bytes: Int
        let max_input_pixels: Int
    }

    var object = "list"
    let data: [Model]
}

enum JSONResponse {
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
