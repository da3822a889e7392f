import Foundation
import HTTPTypes
import Hummingbird
import Strobe

extension ServerState {
    /// `POST /v1/jobs`: a generation (JSON body, the fields of `/v1/images/generations`), an
    /// edit or a reframe (multipart, the fields of their routes plus `operation`: `edit` or
    /// `reframe`). Answers 202 with the job; the work goes on when the client leaves.
    func createJob(_ request: Request) async throws -> Response {
        let task = try await prepare(request.body, headers: request.headers) { bytes, reservation in
            let route: ImageTask.Kind =
                Self.mediaType(request.headers) == "multipart/form-data" ? try operation(in: bytes, headers: request.headers) : .generation
            return try self.task(route: route, headers: request.headers, body: bytes, reservation: reservation, allowOperation: true)
        }
        guard !task.stream else { throw APIError.invalid("a job does not stream; poll GET /v1/jobs/{id}", param: "stream") }
        let item = WorkItem(task: task, prefix: "job_")
        try await scheduler.submit(item)
        jobs.add(item)
        var response = JSONResponse.make(await job(item, base: baseURL(request)), status: .accepted)
        response.headers[.location] = "/v1/jobs/\(item.id)"
        return response
    }

    /// `GET /v1/jobs/{id}`: 404 unknown, 410 expired.
    func getJob(_ id: String, request: Request) async throws -> Response {
        JSONResponse.make(await job(try lookup(id), base: baseURL(request)))
    }

    /// `DELETE /v1/jobs/{id}`: cancels a queued or running job (it ends `cancelled`); a job
    /// that already finished answers 409 (cancelling twice included).
    func cancelJob(_ id: String, request: Request) async throws -> Response {
        let item = try lookup(id)
        guard item.cancel() else {
            throw APIError(.conflict, "job \(id) has already finished (\(item.status.rawValue))", code: "job_finished")
        }
        _ = await item.outcome()
        return JSONResponse.make(await job(item, base: baseURL(request)))
    }

    private func lookup(_ id: String) throws(APIError) -> WorkItem {
        switch jobs.get(id) {
        case .found(let item): return item
        case .gone: throw APIError(.gone, "job \(id) has expired", type: "not_found_error", param: "id", code: "expired")
        case .unknown: throw APIError.notFound("no job \(id)", param: "id", code: "job_not_found")
        }
    }

    /// The `operation` field of a multipart job (default `edit`).
    private func operation(in bytes: [UInt8], headers: HTTPFields) throws(APIError) -> ImageTask.Kind {
        guard let contentType = headers[.contentType], let boundary = Multipart.boundary(contentType: contentType) else {
            throw APIError.invalid("multipart/form-data without a boundary", code: "unsupported_content_type")
        }
        let parts = try Multipart.parse(bytes, boundary: boundary)
        guard let part = parts.first(where: { $0.name == "operation" }) else { return .edit }
        switch String(decoding: part.body, as: UTF8.self) {
        case "edit": return .edit
        case "reframe": return .reframe
        case let other: throw APIError.invalid("operation must be edit or reframe, got '\(other)'", param: "operation")
        }
    }

    private func job(_ item: WorkItem, base: String) async -> JobResponse {
        let state = item.snapshot
        var result: ImagesResponse?, error: JobResponse.ErrorBody?
        switch state.outcome {
        case .completed(let generated)?: result = cachedResult(item, generated, base: base)
        case .failed(let failure)?:
            error = .init(message: failure.message, type: failure.type, param: failure.param, code: failure.code)
        case .cancelled?: error = .init(message: "the job was cancelled", type: "invalid_request_error", param: nil, code: "cancelled")
        case nil: break
        }
        return JobResponse(
            id: item.id, kind: item.task.kind.rawValue, status: state.status.rawValue, created_at: item.created,
            progress: .init(completed_calls: state.completedCalls, total_calls: item.task.totalCalls),
            queue_position: state.status == .queued ? await scheduler.position(of: item) : nil,
            result: result, error: error)
    }

    /// A job's images in its response format; `url` results are stored once per job.
    private func cachedResult(_ item: WorkItem, _ result: FinishedImages, base: String) -> ImagesResponse {
        item.cachedResponse { imagesResponse(result, task: item.task, created: item.created, base: base) }
    }
}
