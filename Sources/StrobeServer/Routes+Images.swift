import Foundation
import HTTPTypes
import Hummingbird
import Strobe

extension ServerState {
    /// `POST /v1/images/generations`, `/v1/images/edits`, `/v1/images/reframes`: run now and
    /// answer with the images, or stream them (`stream: true`). A client that disconnects
    /// cancels its work.
    ///
    /// Watching for the client to leave ends the connection after the answer, so these answers
    /// say `Connection: close` (a client must not send its next request on this connection).
    func runImages(_ request: Request, route: ImageTask.Kind) async throws -> Response {
        var response: Response
        do {
            response = try await runImagesWatched(request, route: route)
        } catch let error as APIError {
            response = error.response()
        }
        response.headers[.connection] = "close"
        return response
    }

    private func runImagesWatched(_ request: Request, route: ImageTask.Kind) async throws -> Response {
        let disconnect = DisconnectGuard()
        let base = baseURL(request)
        return try await request.body.consumeWithInboundCloseHandler { body in
            let task = try await prepare(body, headers: request.headers) { bytes, reservation in
                try self.task(route: route, headers: request.headers, body: bytes, reservation: reservation)
            }
            let item = WorkItem(task: task, prefix: "img_")
            // Subscribed before admission, so that no event is missed.
            let events = item.events()
            try await scheduler.submit(item)
            // A stream notices a departed client when a write fails; the guard is for the wait.
            if task.stream { return eventStream(item, events: events, base: base) }
            disconnect.attach(item)
            switch await item.outcome() {
            case .completed(let result):
                return JSONResponse.make(imagesResponse(result, task: task, created: item.created, base: base))
            case .failed(let error):
                throw error
            case .cancelled:
                if await scheduler.isDraining { throw APIError.shuttingDown }
                // Only a client that left cancels a request it waits for: nobody reads this
                // answer, but logs and metrics see 499 (nginx's "client closed request").
                throw APIError(HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request"),
                               "the client closed the connection", code: "client_closed_request")
            }
        } onInboundClosed: {
            disconnect.clientClosed()
        }
    }

    /// Server-sent events, as OpenAI streams images: `image_generation.partial_image` after
    /// steps (each image's current picture, `partial_image_index` counting from 0), then one
    /// `image_generation.completed` per image; `error` if it fails. A failed write (the client
    /// left) cancels the work.
    func eventStream(_ item: WorkItem, events: AsyncStream<WorkEvent>, base: String) -> Response {
        let task = item.task
        let chosen = task.previewSteps
        let kind = task.kind == .generation ? "image_generation" : "image_edit"
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var partialIndex: [Int: Int] = [:]                              // per image
            func send(_ event: String, _ payload: [String: Any]) async throws {
                let data = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys, .withoutEscapingSlashes])
                var buffer = ByteBuffer(string: "event: \(event)\ndata: ")
                buffer.writeBytes(data)
                buffer.writeString("\n\n")
                try await writer.write(buffer)
            }
            do {
                for await event in events {
                    switch event {
                    case .progress(let done, let total):
                        try await send("strobe.progress", ["type": "strobe.progress", "completed_calls": done, "total_calls": total])
                    case .preview(let preview):
                        guard chosen.contains(preview.step) else { continue }
                        for (offset, picture) in preview.pictures.enumerated() {
                            let png = try engine.writer.encode(picture, metadata: nil)
                            let image = preview.images.lowerBound + offset
                            let index = partialIndex[image, default: 0]
                            partialIndex[image] = index + 1
                            try await send("\(kind).partial_image", [
                                "type": "\(kind).partial_image", "b64_json": Data(png).base64EncodedString(),
                                "partial_image_index": index, "image_index": image,
                                "step": preview.step, "steps": preview.steps, "created_at": item.created,
                                "size": task.plan.size.description, "output_format": "png", "background": "opaque", "quality": "auto",
                            ])
                        }
                    case .finished(.completed(let result)):
                        let response = imagesResponse(result, task: task, created: item.created, base: base)
                        for (index, image) in response.data.enumerated() {
                            var payload: [String: Any] = [
                                "type": "\(kind).completed", "created_at": item.created, "image_index": index,
                                "revised_prompt": image.revised_prompt, "seed": String(image.seed),
                                "size": response.size, "sampler": response.sampler, "steps": response.steps,
                                "output_format": "png", "background": "opaque", "quality": "auto",
                                "usage": ["input_tokens": result.promptTokens, "output_tokens": 0, "total_tokens": result.promptTokens],
                            ]
                            if let b64 = image.b64_json { payload["b64_json"] = b64 }
                            if let url = image.url { payload["url"] = url }
                            try await send("\(kind).completed", payload)
                        }
                    case .finished(.failed(let error)):
                        try await send("error", ["type": "error", "error": error.body["error"] ?? [:]])
                    case .finished(.cancelled):
                        try await send("error", ["type": "error", "error": APIError(.serviceUnavailable, "cancelled", type: "server_error", code: "cancelled").body["error"] ?? [:]])
                    }
                }
                try await writer.finish(nil)
            } catch {
                item.cancel()
                throw error
            }
        })
    }

    /// `GET /files/{id}.png`: a `url` result (404 unknown, 410 expired). Not behind the API
    /// key: the id, 128 random bits, is the capability, as with a signed URL.
    func file(_ name: String) throws -> Response {
        guard name.hasSuffix(".png") else { throw APIError.notFound("no file \(name)") }
        switch images.get(String(name.dropLast(4))) {
        case .found(let png):
            return Response(status: .ok, headers: [.contentType: "image/png", .cacheControl: "private, max-age=600"],
                            body: .init(byteBuffer: ByteBuffer(bytes: png)))
        case .gone:
            throw APIError(.gone, "the image \(name) has expired", type: "not_found_error", code: "expired")
        case .unknown:
            throw APIError.notFound("no file \(name)")
        }
    }

    /// `GET /v1/models`.
    func models() -> ModelList {
        let info = engine.info
        var sizes: [String: String] = [:]
        for ratio in AspectRatio.allCases { sizes[ratio.rawValue] = engine.size(of: ratio).description }
        var samplers: [String: [Int]] = [:], defaults: [String: Int] = [:]
        for kind in SamplerKind.allCases {
            samplers[kind.rawValue] = [kind.stepRange.lowerBound, kind.stepRange.upperBound]
            defaults[kind.rawValue] = kind.defaultSteps(info.samplerDefaults)
        }
        let created = (try? FileManager.default.attributesOfItem(atPath: info.path)[.modificationDate] as? Date)
            .map { Int($0.timeIntervalSince1970) } ?? 0
        let limits = ModelList.Limits(
            max_images: settings.maxImages, max_body_bytes: settings.maxBodyBytes, max_input_pixels: settings.maxInputPixels)
        return ModelList(data: [.init(
            id: info.name, created: created, sizes: sizes, samplers: samplers, default_steps: defaults, limits: limits)])
    }
}
