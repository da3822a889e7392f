import Foundation
import Strobe

/// How results come back: the PNG inline as base64, or a URL served from memory.
enum ResponseFormat: String, Sendable {
    case b64JSON = "b64_json"
    case url
}

/// One request's work, checked and planned: everything the scheduler needs to run it and the
/// routes need to answer it.
struct ImageTask: Sendable {
    enum Kind: String, Sendable {
        case generation, edit, reframe
    }

    let kind: Kind
    let plan: GenerationPlan
    let responseFormat: ResponseFormat
    /// Server-sent events instead of one JSON answer.
    let stream: Bool
    /// The engine's memory estimate for the whole request, in bytes.
    let memoryBytes: Int
    /// The steps (1-based) whose pictures a stream sends.
    let previewSteps: Set<Int>

    /// Sampler steps the request runs in all: what the engine's progress counts as its calls.
    var totalCalls: Int { Self.calls(count: plan.count, steps: plan.steps, maxBatch: maxBatch) }
    /// Network passes the request makes in all: `totalCalls` and a second pass on each guided
    /// step (``GenerationPlan/passesPerBatch``); the work it asks for.
    var totalPasses: Int { Self.calls(count: plan.count, steps: plan.passesPerBatch, maxBatch: maxBatch) }

    /// Network calls for `count` images in batches of `maxBatch`, `steps` each.
    static func calls(count: Int, steps: Int, maxBatch: Int) -> Int { (count + maxBatch - 1) / maxBatch * steps }
    let maxBatch: Int
}

/// Reads requests into ``ImageTask``s: the fields of OpenAI's image API plus Strobe's own
/// (`seed`, `sampler`, `steps`, `aspect_ratio`, `strength`, `prompt_guidance`, `layout_steps`, `anchor`), with every check of the
/// CLI (the engine's ``StrobeEngine/plan(_:)-(GenerationConfig)``) and the server's limits.
struct ImageTaskReader: Sendable {
    let engine: StrobeEngine
    let settings: ServerSettings

    /// Fields every image route takes.
    static let common = Set([
        "model", "prompt", "n", "size", "response_format", "output_format", "user", "stream", "partial_images",
        "seed", "sampler", "steps",
    ]).union(ignored)
    /// OpenAI's fields that have no meaning here; accepted and ignored.
    static let ignored: Set<String> = ["quality", "style", "background", "moderation", "output_compression", "input_fidelity"]
    static let generationFields = common.union(["aspect_ratio"])
    static let editFields = common.union(["strength", "prompt_guidance", "layout_steps"])
    static let reframeFields = common.union(["aspect_ratio", "anchor"])

    /// `POST /v1/images/generations` (and a generation job).
    func generation(_ fields: RequestFields) throws(APIError) -> ImageTask {
        try fields.checkKnown(Self.generationFields)
        guard let prompt = try fields.string("prompt") else {
            throw APIError.invalid("'prompt' is required", param: "prompt", code: "missing_required_parameter")
        }
        guard !prompt.allSatisfy(\.isWhitespace) else {
            throw APIError.invalid("'prompt' is empty", param: "prompt", code: "invalid_prompt")
        }
        var config = try baseConfig(fields, prompt: prompt)
        let ratio = try aspectRatio(fields)
        if let size = try size(fields) {
            let matching = AspectRatio.allCases.first { engine.size(of: $0) == size }
            if let ratio, matching != ratio {
                throw APIError.invalid("size \(size) is not the size of aspect ratio \(ratio.rawValue) (\(engine.size(of: ratio)))", param: "size")
            }
            config.size = size
        } else {
            config.aspectRatio = ratio ?? .square
        }
        return try task(.generation, fields: fields) { () throws(PipelineError) in try engine.plan(config) }
    }

    /// `POST /v1/images/edits`: modify (no mask; `strength`, default 0.6) or inpaint (a mask;
    /// `strength`, default 1), `prompt_guidance` as the CLI's (``PromptGuidance``), `layout_steps`
    /// an inpainting's (``EditRequest/layoutSteps``). An empty or
    /// missing prompt uses the one the image records.
    func edit(_ fields: RequestFields, image: InputImage, mask: InputImage?) throws(APIError) -> ImageTask {
        try fields.checkKnown(Self.editFields)
        var config = try baseConfig(fields, prompt: try fields.string("prompt") ?? "")
        config.size = try size(fields)
        let strength = try fields.double("strength")
        if let strength, !(0...1).contains(strength) {
            throw APIError.invalid("'strength' must be in [0, 1], got \(strength)", param: "strength")
        }
        let operation: EditOperation =
            if let mask { .inpaint(mask: EditMask(image: mask), strength: strength ?? 1) }
            else { .modify(strength: strength ?? 0.6) }
        let guidance = try fields.double("prompt_guidance")
        if let guidance, !PromptGuidance.isValid(scale: guidance) {
            throw APIError.invalid("'prompt_guidance' must be in [0, \(PromptGuidance.maxScale)], got \(guidance)",
                                   param: "prompt_guidance")
        }
        let layoutSteps = try fields.int("layout_steps")
        if let layoutSteps, !EditRequest.layoutStepsRange.contains(layoutSteps) {
            throw APIError.invalid("'layout_steps' must be in \(EditRequest.layoutStepsRange), got \(layoutSteps)",
                                   param: "layout_steps")
        }
        if let layoutSteps, layoutSteps != 0 {
            guard mask != nil else { throw APIError.invalid("'layout_steps' is for an inpainting (a 'mask')", param: "layout_steps") }
            guard config.sampler == .flash else {
                throw APIError.invalid("'layout_steps' is for the flash sampler", param: "layout_steps")
            }
        }
        let request = EditRequest(input: image, operation: operation, config: config,
                                  promptGuidance: guidance.map { PromptGuidance(scale: $0) }, layoutSteps: layoutSteps)
        return try task(.edit, fields: fields) { () throws(PipelineError) in try engine.plan(request) }
    }

    /// `POST /v1/images/reframes`: the image on a canvas of `aspect_ratio` (or `size`) at
    /// `anchor` (default center), the new area drawn.
    func reframe(_ fields: RequestFields, image: InputImage) throws(APIError) -> ImageTask {
        try fields.checkKnown(Self.reframeFields)
        let config = try baseConfig(fields, prompt: try fields.string("prompt") ?? "")
        let ratio = try aspectRatio(fields)
        let size = try size(fields)
        guard ratio != nil || size != nil else {
            throw APIError.invalid("a reframe needs 'aspect_ratio' or 'size'", param: "aspect_ratio", code: "missing_required_parameter")
        }
        var anchor = Anchor.center
        if let text = try fields.string("anchor") {
            guard let parsed = Anchor(rawValue: text) else {
                throw APIError.invalid("unknown anchor '\(text)'; one of \(Anchor.allCases.map(\.rawValue).joined(separator: ", "))", param: "anchor")
            }
            anchor = parsed
        }
        let request = EditRequest(input: image, operation: .reframe(ratio: ratio, size: size, anchor: anchor), config: config)
        return try task(.reframe, fields: fields) { () throws(PipelineError) in try engine.plan(request) }
    }

    /// Decodes an uploaded image after checking its declared size against the limit.
    func decodeImage(_ part: FormPart, param: String, reservation: UploadReservation? = nil) throws(APIError) -> InputImage {
        guard let header = ImageHeader.read(part.body) else {
            throw APIError.invalid("'\(param)' is not a PNG or JPEG image", param: param, code: "invalid_image")
        }
        // PNG sides are 32-bit: their product can overflow Int, so it is checked, not computed.
        let (pixels, overflow) = header.width.multipliedReportingOverflow(by: header.height)
        guard header.width > 0, header.height > 0, !overflow, pixels <= settings.maxInputPixels else {
            throw APIError.invalid(
                "'\(param)' declares \(header.width)x\(header.height) pixels; the limit is \(settings.maxInputPixels) pixels",
                param: param, code: "image_too_large")
        }
        // The decoded planes (RGB and alpha, Float) and their working copy.
        try reservation?.reserve(pixels * 4 * MemoryLayout<Float>.size * 2)
        do {
            return try InputImage.decode(part.body, maxPixels: settings.maxInputPixels)
        } catch {
            throw APIError.invalid("'\(param)': \(error.description)", param: param, code: "invalid_image")
        }
    }

    // MARK: - Shared fields

    private func baseConfig(_ fields: RequestFields, prompt: String) throws(APIError) -> GenerationConfig {
        if let model = try fields.string("model"), model != engine.info.name {
            throw APIError(.notFound, "the model '\(model)' does not exist; this server has '\(engine.info.name)'",
                           type: "not_found_error", param: "model", code: "model_not_found")
        }
        if let format = try fields.string("output_format"), format != "png" {
            throw APIError.invalid("output_format '\(format)' is not supported; Strobe writes png", param: "output_format")
        }
        var config = GenerationConfig(prompt: prompt)
        let n = try fields.int("n") ?? 1
        guard (1...settings.maxImages).contains(n) else {
            throw APIError.invalid("'n' must be in 1...\(settings.maxImages), got \(n)", param: "n")
        }
        config.count = n
        config.seed = try fields.seed()
        if let name = try fields.string("sampler") {
            guard let kind = SamplerKind(rawValue: name) else {
                throw APIError.invalid("unknown sampler '\(name)'; one of \(SamplerKind.allCases.map(\.rawValue).joined(separator: ", "))", param: "sampler")
            }
            config.sampler = kind
        }
        config.steps = try fields.int("steps")
        config.threads = settings.threads
        return config
    }

    /// `size`: `auto` (or absent) or one of the model's sizes, `WxH`.
    private func size(_ fields: RequestFields) throws(APIError) -> ImageSize? {
        guard let text = try fields.string("size"), text != "auto" else { return nil }
        let sizes = AspectRatio.allCases.map { engine.size(of: $0) }
        guard let size = ImageSize(parsing: text), sizes.contains(size) else {
            throw APIError.invalid(
                "size '\(text)' is not supported; use auto or one of \(sizes.map(\.description).joined(separator: ", "))",
                param: "size")
        }
        return size
    }

    private func aspectRatio(_ fields: RequestFields) throws(APIError) -> AspectRatio? {
        guard let text = try fields.string("aspect_ratio") else { return nil }
        guard let ratio = AspectRatio(parsing: text) else {
            throw APIError.invalid(
                "unknown aspect ratio '\(text)'; one of \(AspectRatio.allCases.map(\.rawValue).joined(separator: ", "))",
                param: "aspect_ratio")
        }
        return ratio
    }

    /// Plans (every engine check) and sizes the task.
    private func task(
        _ kind: ImageTask.Kind, fields: RequestFields, plan makePlan: () throws(PipelineError) -> GenerationPlan
    ) throws(APIError) -> ImageTask {
        let format: ResponseFormat
        if let text = try fields.string("response_format") {
            guard let parsed = ResponseFormat(rawValue: text) else {
                throw APIError.invalid("response_format must be b64_json or url, got '\(text)'", param: "response_format")
            }
            format = parsed
        } else {
            format = .b64JSON
        }
        let partial = try fields.int("partial_images")
        if let partial, !(0...100).contains(partial) {
            throw APIError.invalid("'partial_images' must be in 0...100", param: "partial_images")
        }
        let plan: GenerationPlan
        do { plan = try makePlan() } catch { throw APIError(error) }
        let calls = ImageTask.calls(count: plan.count, steps: plan.passesPerBatch, maxBatch: engine.maxBatch)
        guard calls <= settings.maxCalls else {
            throw APIError.invalid(
                "this request needs \(calls) network calls (n x steps, a guided step twice); the server takes at most "
                    + "\(settings.maxCalls): use a job with fewer images or steps",
                param: "steps", code: "too_many_calls")
        }
        let estimate = engine.memoryEstimate(size: plan.samplingSize, count: plan.count, textTokens: plan.tokenIDs.count,
                                              passes: plan.passesPerStep)
        // Partial pictures: `partial_images` of them spread to the end, by default one per step
        // up to 10.
        let wanted = min(partial ?? 10, plan.steps)
        let previewSteps = wanted == 0 ? Set<Int>()
            : Set((1...wanted).map { Int((Double($0) * Double(plan.steps) / Double(wanted)).rounded(.up)) })
        return ImageTask(
            kind: kind, plan: plan, responseFormat: format, stream: try fields.bool("stream") ?? false,
            memoryBytes: estimate.total, previewSteps: previewSteps, maxBatch: engine.maxBatch)
    }
}
