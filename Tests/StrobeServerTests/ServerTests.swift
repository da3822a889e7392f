import Foundation
import Strobe
import Testing
@testable import StrobeServer

/// The server end to end on a loopback port, and its scheduler's admission rules.
@Suite(.serialized)
struct ServerTests {
    @Test func aGenerationEqualsTheLibrarysImageForTheSameSeed() async throws {
        var config = GenerationConfig(prompt: "snowy peaks at dusk with a lake")
        config.seed = 7
        config.count = 2
        let direct = try await Shared.engine.generate(config)
        try await withServer { base in
            let answer = try await postJSON(base.appending(path: "v1/images/generations"),
                                            ["prompt": config.prompt, "seed": 7, "n": 2])
            #expect(answer.status == 200)
            let data = try #require(answer.json["data"] as? [[String: Any]])
            let pngs = data.compactMap { ($0["b64_json"] as? String).flatMap { Data(base64Encoded: $0) } }
            #expect(pngs == direct.images.map { Data($0.png) })
            #expect(data.first?["revised_prompt"] as? String == config.prompt)
        }
    }

    @Test func badRequestsGetOpenAIShapedErrors() async throws {
        var settings = ServerSettings()
        settings.maxBodyBytes = 4096
        try await withServer(settings) { base in
            let generations = base.appending(path: "v1/images/generations")
            let cases: [(String, HTTPAnswer, Int, String?)] = [
                ("malformed JSON", try await http("POST", generations, headers: ["Content-Type": "application/json"], body: Data("{".utf8)), 400, nil),
                ("wrong content type", try await http("POST", generations, headers: ["Content-Type": "text/plain"], body: Data("{}".utf8)), 400, nil),
                ("missing prompt", try await postJSON(generations, ["n": 1]), 400, "prompt"),
                ("n = 0", try await postJSON(generations, ["prompt": "a lake", "n": 0]), 400, "n"),
                ("n = 1000", try await postJSON(generations, ["prompt": "a lake", "n": 1000]), 400, "n"),
                ("unsupported size", try await postJSON(generations, ["prompt": "a lake", "size": "1024x1024"]), 400, "size"),
                ("unknown field", try await postJSON(generations, ["prompt": "a lake", "colour": "red"]), 400, "colour"),
                ("steps out of range", try await postJSON(generations, ["prompt": "a lake", "steps": 99]), 400, "steps"),
                ("unknown model", try await postJSON(generations, ["prompt": "a lake", "model": "dall-e-3"]), 404, "model"),
                ("body over the limit", try await postJSON(generations, ["prompt": String(repeating: "a", count: 5000)]), 413, nil),
                ("unknown route", try await http("GET", base.appending(path: "v1/nothing")), 404, nil),
                ("unknown job", try await http("GET", base.appending(path: "v1/jobs/job_0")), 404, "id"),
                ("edit without multipart", try await postJSON(base.appending(path: "v1/images/edits"), ["prompt": "x"]), 400, nil),
            ]
            for (name, answer, status, param) in cases {
                #expect(answer.status == status, "\(name)")
                #expect(answer.error["message"] is String, "\(name)")
                #expect(answer.error["type"] is String, "\(name)")
                if let param { #expect(answer.error["param"] as? String == param, "\(name)") }
                if status == 400 { #expect(answer.headers["x-should-retry"] == "false", "\(name)") }
            }
        }
    }

    @Test func uploadsAreCheckedBeforeDecoding() async throws {
        try await withServer { base in
            let edits = base.appending(path: "v1/images/edits")
            func send(_ parts: [(name: String, filename: String?, body: [UInt8])]) async throws -> HTTPAnswer {
                try await http("POST", edits, headers: ["Content-Type": "multipart/form-data; boundary=BND"],
                               body: Data(ParsingTests.form("BND", parts)))
            }
            let noImage = try await send([("prompt", nil, Array("a lake".utf8))])
            #expect(noImage.status == 400 && noImage.error["param"] as? String == "image")
            let notImage = try await send([("image", "a.png", Array("hello, not a picture".utf8))])
            #expect(notImage.status == 400 && notImage.error["code"] as? String == "invalid_image")
            let bomb = try await send([("image", "bomb.png", ParsingTests.pngHeader(width: 100_000, height: 100_000))])
            #expect(bomb.status == 400 && bomb.error["code"] as? String == "image_too_large")
            // Sides whose product overflows a 64-bit integer.
            let huge = try await send([("image", "huge.png", ParsingTests.pngHeader(width: .max, height: .max))])
            #expect(huge.status == 400 && huge.error["code"] as? String == "image_too_large")
        }
    }

    @Test func anEditAndAReframeAnswerWithImagesOfTheRightSize() async throws {
        var config = GenerationConfig(prompt: "a lighthouse by the sea")
        config.seed = 3
        let source = try await Shared.engine.generate(config).images[0].png
        try await withServer { base in
            let edit = try await http(
                "POST", base.appending(path: "v1/images/edits"), headers: ["Content-Type": "multipart/form-data; boundary=BND"],
                body: Data(ParsingTests.form("BND", [("image", "in.png", source), ("strength", nil, Array("0.5".utf8)), ("seed", nil, Array("1".utf8))])))
            #expect(edit.status == 200)
            #expect((edit.json["size"] as? String) == "256x256")
            // Strobe's prompt guidance: checked, and given to the engine (0: unguided).
            for (value, status) in [("25", 400), ("0", 200)] {
                let guided = try await http(
                    "POST", base.appending(path: "v1/images/edits"), headers: ["Content-Type": "multipart/form-data; boundary=BND"],
                    body: Data(ParsingTests.form("BND", [("image", "in.png", source), ("prompt", nil, Array("a lighthouse at night".utf8)),
                                                         ("prompt_guidance", nil, Array(value.utf8))])))
                #expect(guided.status == status, "prompt_guidance \(value): \(guided.json)")
                if status == 400 { #expect(guided.error["param"] as? String == "prompt_guidance") }
            }
            // An inpainting's layout steps: checked, and given to the engine (0 for a modification too).
            for (value, mask, status) in [("17", true, 400), ("2", true, 200), ("0", false, 200), ("2", false, 400)] {
                var fields: [(String, String?, [UInt8])] = [("image", "in.png", source), ("layout_steps", nil, Array(value.utf8))]
                if mask { fields.append(("mask", "mask.png", source)) }
                let inpaint = try await http(
                    "POST", base.appending(path: "v1/images/edits"), headers: ["Content-Type": "multipart/form-data; boundary=BND"],
                    body: Data(ParsingTests.form("BND", fields)))
                #expect(inpaint.status == status, "layout_steps \(value), mask \(mask): \(inpaint.json)")
                if status == 400 { #expect(inpaint.error["param"] as? String == "layout_steps", "\(inpaint.json)") }
            }
            let reframe = try await http(
                "POST", base.appending(path: "v1/images/reframes"), headers: ["Content-Type": "multipart/form-data; boundary=BND"],
                body: Data(ParsingTests.form("BND", [("image", "in.png", source), ("aspect_ratio", nil, Array("16:9".utf8))])))
            #expect(reframe.status == 200)
            let data = try #require((reframe.json["data"] as? [[String: Any]])?.first?["b64_json"] as? String)
            let image = try InputImage.decode(Array(try #require(Data(base64Encoded: data))))
            #expect(image.image.width > image.image.height)
        }
    }

    /// A guided step is two network passes, and `--max-calls` counts them: a modification at
    /// strength 1 (4 steps, 3 of them above t = 0.4) is 7 passes, 4 without the guidance.
    @Test func guidedStepsCountTwiceTowardsTheCallLimit() async throws {
        var config = GenerationConfig(prompt: "a lighthouse by the sea")
        config.seed = 3
        let source = try await Shared.engine.generate(config).images[0].png
        var settings = ServerSettings()
        settings.maxCalls = 4
        try await withServer(settings) { base in
            for (guidance, status) in [(nil, 400), ("0", 200)] as [(String?, Int)] {
                var fields: [(String, String?, [UInt8])] = [("image", "in.png", source), ("prompt", nil, Array("a lighthouse at night".utf8)),
                                                            ("strength", nil, Array("1".utf8))]
                if let guidance { fields.append(("prompt_guidance", nil, Array(guidance.utf8))) }
                let answer = try await http(
                    "POST", base.appending(path: "v1/images/edits"), headers: ["Content-Type": "multipart/form-data; boundary=BND"],
                    body: Data(ParsingTests.form("BND", fields)))
                #expect(answer.status == status, "prompt_guidance \(guidance ?? "default"): \(answer.json)")
                if status == 400 {
                    #expect(answer.error["code"] as? String == "too_many_calls" && (answer.error["message"] as? String ?? "").contains("needs 7"))
                }
            }
        }
    }

    @Test func otherSitesPagesAreRefused() async throws {
        try await withServer { base in
            let models = base.appending(path: "v1/models")
            let foreign = try await http("GET", models, headers: ["Origin": "http://evil.example"])
            #expect(foreign.status == 403 && foreign.error["code"] as? String == "cross_origin")
            let own = try await http("GET", models, headers: ["Origin": "http://\(base.host!):\(base.port!)"])
            #expect(own.status == 200)
        }
        #expect(SameOriginMiddleware<TestContext>.isLoopback("127.0.0.1:8080"))
        #expect(SameOriginMiddleware<TestContext>.isLoopback("localhost"))
        #expect(SameOriginMiddleware<TestContext>.isLoopback("[::1]:80"))
        #expect(!SameOriginMiddleware<TestContext>.isLoopback("rebind.evil.example:8080"))
        #expect(!SameOriginMiddleware<TestContext>.isLoopback("127.0.0.1.evil.example"))
    }

    @Test func theAPIKeyGuardsV1Only() async throws {
        var settings = ServerSettings()
        settings.apiKey = "k3y"
        try await withServer(settings) { base in
            let models = base.appending(path: "v1/models")
            let noKey = try await http("GET", models)
            #expect(noKey.status == 401)
            let wrongKey = try await http("GET", models, headers: ["Authorization": "Bearer nope"])
            #expect(wrongKey.status == 401)
            let rightKey = try await http("GET", models, headers: ["Authorization": "Bearer k3y"])
            #expect(rightKey.status == 200)
            let health = try await http("GET", base.appending(path: "health"))
            #expect(health.status == 200)
        }
    }

    @Test func jobsRunAndCancelAndUrlResultsAreServed() async throws {
        try await withServer { base in
            let created = try await postJSON(base.appending(path: "v1/jobs"),
                                             ["prompt": "a red balloon over hills", "seed": 5, "response_format": "url"])
            #expect(created.status == 202)
            let id = try #require(created.json["id"] as? String)
            var job: [String: Any] = [:]
            for _ in 0..<600 {
                job = try await http("GET", base.appending(path: "v1/jobs/\(id)")).json
                if job["status"] as? String == "completed" { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(job["status"] as? String == "completed")
            let result = try #require(job["result"] as? [String: Any])
            let url = try #require(((result["data"] as? [[String: Any]])?.first?["url"] as? String).flatMap { URL(string: $0) })
            let file = try await http("GET", url)
            #expect(file.status == 200 && file.headers["content-type"] == "image/png")
            let decoded = try InputImage.decode(Array(file.body))
            #expect(decoded.image.width == 256)
            let again = try await http("DELETE", base.appending(path: "v1/jobs/\(id)"))
            #expect(again.status == 409)
            // A long job cancelled while it runs or waits ends "cancelled".
            let long = try await postJSON(base.appending(path: "v1/jobs"), ["prompt": "a lake", "sampler": "full", "steps": 1000])
            let longID = try #require(long.json["id"] as? String)
            let cancelled = try await http("DELETE", base.appending(path: "v1/jobs/\(longID)"))
            #expect(cancelled.status == 200 && cancelled.json["status"] as? String == "cancelled")
            let answer6 = try await http("DELETE", base.appending(path: "v1/jobs/\(longID)"))
            #expect(answer6.status == 409)
        }
    }

    @Test func aStreamSendsPartialImagesThenTheResult() async throws {
        try await withServer { base in
            let answer = try await postJSON(base.appending(path: "v1/images/generations"),
                                            ["prompt": "a lake at night", "seed": 9, "stream": true])
            #expect(answer.status == 200)
            #expect(answer.headers["content-type"]?.hasPrefix("text/event-stream") == true)
            let events = String(decoding: answer.body, as: UTF8.self)
                .components(separatedBy: "\n").filter { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
            #expect(events.filter { $0 == "image_generation.partial_image" }.count == 4)
            #expect(events.last == "image_generation.completed")
        }
    }

    @Test func aClientThatLeavesCancelsItsWork() async throws {
        try await withServer { base in
            // 1000 full steps would run for many seconds; the client leaves after it starts.
            let request = Task {
                try await postJSON(base.appending(path: "v1/images/generations"), ["prompt": "a lake", "sampler": "full", "steps": 1000])
            }
            func running() async throws -> Bool {
                String(decoding: try await http("GET", base.appending(path: "metrics")).body, as: UTF8.self)
                    .contains("strobe_running 1")
            }
            var started = false
            for _ in 0..<400 where !started {
                started = try await running()
                if !started { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(started)
            request.cancel()
            var stopped = false
            for _ in 0..<500 where !stopped {
                try await Task.sleep(for: .milliseconds(10))
                stopped = try await !running()
            }
            #expect(stopped, "the work went on after its client left")
            let metrics = String(decoding: try await http("GET", base.appending(path: "metrics")).body, as: UTF8.self)
            let calls = metrics.split(separator: "\n").first { $0.hasPrefix("strobe_network_calls_total ") }
                .flatMap { Double($0.split(separator: " ").last ?? "") } ?? .infinity
            #expect(calls < 1000)
        }
    }

    @Test func finishedJobsExpireToGoneAndTheOldestGoFirst() throws {
        let reader = ImageTaskReader(engine: Shared.engine, settings: ServerSettings())
        let task = try reader.generation(RequestFields(values: ["prompt": .text("a lake")]))
        let store = JobStore(retention: .seconds(60), maxFinished: 2)
        let jobs = (0..<4).map { _ in WorkItem(task: task, prefix: "job_") }
        for job in jobs { store.add(job) }
        for job in jobs.prefix(3) { job.finish(.cancelled) }
        store.sweep()
        // Three finished, two kept: the oldest finished is gone; the unfinished one stays.
        guard case .gone = store.get(jobs[0].id) else { Issue.record("the oldest finished job was kept"); return }
        for job in jobs.dropFirst() {
            guard case .found = store.get(job.id) else { Issue.record("job \(job.id) went early"); return }
        }
        store.sweep(now: .now + .seconds(61))
        for job in jobs.dropFirst().prefix(2) {
            guard case .gone = store.get(job.id) else { Issue.record("an expired job is still served"); return }
        }
        guard case .found = store.get(jobs[3].id) else { Issue.record("an unfinished job expired"); return }
        guard case .unknown = store.get("job_never") else { Issue.record("an unknown id is not unknown"); return }
    }

    @Test func theSchedulerRefusesBeyondItsQueueAndMemoryBudget() async throws {
        var settings = ServerSettings()
        settings.queueCapacity = 1
        let metrics = ServerMetrics()
        let reader = ImageTaskReader(engine: Shared.engine, settings: settings)
        let scheduler = Scheduler(engine: Shared.engine, settings: settings, metrics: metrics, logger: .init(label: "test"))
        func item(_ n: Int = 1) throws(APIError) -> WorkItem {
            WorkItem(task: try reader.generation(RequestFields(values: ["prompt": .text("a lake"), "n": .text("\(n)")])),
                     prefix: "t_")
        }
        // Nothing runs (the scheduler's service is not started), so items stay queued.
        let first = try item()
        try await scheduler.submit(first)
        #expect(await scheduler.position(of: first) == 0)
        do {
            try await scheduler.submit(try item())
            Issue.record("a full queue admitted an item")
        } catch {
            #expect(error.status == .tooManyRequests)
            #expect(error.retryAfter ?? 0 >= 1)
        }
        // A cancelled item leaves the queue: there is room again.
        first.cancel()
        #expect(first.status == .cancelled)
        try await scheduler.submit(try item())

        var small = ServerSettings()
        small.memoryBudgetBytes = 1 << 20
        let tight = Scheduler(engine: Shared.engine, settings: small, metrics: metrics, logger: .init(label: "test"))
        do {
            try await tight.submit(try item(4))
            Issue.record("an item over the whole budget was admitted")
        } catch {
            #expect(error.status == .unprocessableContent)
        }
        await tight.drain()
        do {
            try await tight.submit(try item())
            Issue.record("a draining scheduler admitted an item")
        } catch {
            #expect(error.status == .serviceUnavailable)
        }
    }
}
