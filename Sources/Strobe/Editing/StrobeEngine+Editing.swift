import Foundation
import StrobeTensor

extension StrobeEngine {
    /// Checks an edit and resolves it into a plan (see ``edit(_:progress:)``).
    /// - Throws: ``PipelineError/invalidEdit(reason:)`` for a strength outside [0, 1] (or NaN),
    ///   a mask whose size differs from the input's, a reframe to the ratio the image already
    ///   has or to a canvas that cannot hold it; and every error of ``plan(_:)``.
    public func plan(_ request: EditRequest) throws(PipelineError) -> GenerationPlan {
        var config = request.config
        let input = request.input
        var promptSource = "given"
        if config.prompt.isEmpty {
            if let recorded = input.recordedPrompt, !recorded.isEmpty {
                config.prompt = recorded
                promptSource = "recorded in the input"
            } else {
                promptSource = "none"
            }
        }
        let steps = config.steps ?? config.sampler.defaultSteps(metadata.samplerDefaults)
        _ = try config.sampler.sampler(steps: steps)  // the step count's check, before the partial schedule
        let p = patchSize
        var settings: [String: String] = [:]
        // The setup (fitting, masks, and for v2 the encoder) runs after `plan(config)` has checked
        // the size and the memory: nothing heavy happens for a request that will be refused.
        let makeSetup: () throws(PipelineError) -> EditSetup, sampler: any Sampler
        var workingSize: ImageSize?  // a reframe's working canvas, when larger than the output
        var passes = 1               // network passes per guided step
        if let reason = request.promptGuidance?.invalidReason { throw .invalidEdit(reason: reason) }
        var layoutSteps = 0
        if let asked = request.layoutSteps {
            guard EditRequest.layoutStepsRange.contains(asked) else {
                throw .invalidEdit(reason: "layout steps \(asked) are outside \(EditRequest.layoutStepsRange)")
            }
            guard asked == 0 || request.operation.isInpaint else {
                throw .invalidEdit(reason: "layout steps are for an inpainting (a mask), not a \(request.operation.name)")
            }
            guard asked == 0 || config.sampler == .flash else {
                throw .invalidEdit(reason: "layout steps are for the flash sampler: the full sampler's steps are small already")
            }
            layoutSteps = asked
        } else if request.operation.isInpaint && config.sampler == .flash {
            layoutSteps = EditRequest.defaultLayoutSteps
        }

        switch request.operation {
        case let .modify(strength), let .inpaint(_, strength):
            guard strength.isFinite, (0...1).contains(strength) else {
                throw .invalidEdit(reason: "strength \(strength) is outside [0, 1]")
            }
            let size = config.size ?? self.size(of: AspectRatio.nearest(width: input.image.width, height: input.image.height))
            config.size = size
            var editMask: EditMask?
            if case let .inpaint(mask, _) = request.operation {
                guard mask.width == input.image.width, mask.height == input.image.height else {
                    throw .invalidEdit(reason: "the mask is \(mask.width)x\(mask.height), the image "
                        + "\(input.image.width)x\(input.image.height): they must be the same size")
                }
                settings["mask"] = "\(mask.width)x\(mask.height)"
                editMask = mask
            }
            settings["strength"] = String(strength)
            // ⌈strength · steps⌉, less a hair so that 0.28 · 25 = 7.000000000000001 is 7.
            let calls = max(1, Int((strength * Double(steps) - 1e-9).rounded(.up)))
            let partial = PartialSampler(kind: config.sampler, steps: calls, from: Float(strength), layoutSteps: layoutSteps)
            sampler = partial
            if partial.layoutSteps > 0 { settings["layout_steps"] = String(partial.layoutSteps) }
            // Guidance towards the prompt: none without a prompt, or when no step starts above its bound.
            var guidance = request.promptGuidance ?? (request.operation.isInpaint ? .off : .modifications)
            if config.prompt.isEmpty || !partial.schedule.contains(where: { guidance.guides($0.t) }) { guidance = .off }
            let unconditional = guidance.scale > 0 ? try tokenize("") : nil
            if guidance.scale > 0 {
                settings["prompt_guidance"] = "\(guidance.scale) above t = \(guidance.above)"
                passes = 2
            }
            makeSetup = { [settings] () throws(PipelineError) -> EditSetup in
                let known = input.image.fitted(to: size)
                let mask = editMask?.fitted(to: size).values
                if let mask, !mask.contains(where: { $0 > 0 }) {
                    throw .invalidEdit(reason: "the mask marks nothing to repaint (white, or transparent, marks what to edit)")
                }
                // Strength 0 returns the input: one call is made (at least one always is), and the
                // composite keeps every pixel.
                let keep = strength == 0 ? [Float](repeating: 0, count: size.width * size.height) : mask
                return EditSetup(
                    operation: request.operation.name, knownPixels: known, mask: keep, startTime: Float(strength),
                    inputSHA256: input.sha256, settings: settings, promptSource: promptSource, space: self.decoder,
                    fill: self.hasFillInput, guidance: guidance, unconditionalIDs: unconditional)
            }

        case let .reframe(ratio, explicitSize, anchor):
            if let guidance = request.promptGuidance, guidance.scale != 0 {
                throw .invalidEdit(reason: "a reframe takes no prompt guidance: it draws what continues the image")
            }
            // The original at its own size when the model can take it, else fitted to the
            // model's size for its nearest ratio.
            var original = input.image
            if original.width % p != 0 || original.height % p != 0 || original.width > GenerationConfig.maxSide
                || original.height > GenerationConfig.maxSide {
                original = original.fitted(to: self.size(of: AspectRatio.nearest(width: original.width, height: original.height)))
            }
            let (w, h) = (original.width, original.height)
            let canvas: ImageSize
            if let explicitSize {
                canvas = explicitSize
            } else {
                let target = ratio ?? config.aspectRatio
                let r = target.ratio, current = Double(w) / Double(h)
                guard abs(log(r / current)) > 0.01 else {
                    throw .invalidEdit(reason: "the image is \(w)x\(h), already \(target.rawValue): nothing to reframe "
                        + "(choose another ratio, or --size)")
                }
                func up(_ v: Double) -> Int { Int((v / Double(p)).rounded(.up)) * p }
                canvas = r > current ? ImageSize(width: max(w, up(Double(h) * r)), height: h)
                                     : ImageSize(width: w, height: max(h, up(Double(w) / r)))
            }
            guard canvas.width >= w, canvas.height >= h, canvas != ImageSize(width: w, height: h) else {
                throw .invalidEdit(reason: "a \(canvas) canvas cannot extend a \(w)x\(h) image")
            }
            // Checked before the canvas is allocated: a thin image reframed to a wide ratio asks
            // for a canvas far over the limit.
            guard canvas.width <= GenerationConfig.maxSide, canvas.height <= GenerationConfig.maxSide else {
                throw .invalidSize(width: canvas.width, height: canvas.height, patchSize: p)
            }
            config.size = canvas
            settings["anchor"] = anchor.rawValue
            settings["original"] = "\(w)x\(h)"
            sampler = PartialSampler(kind: config.sampler, steps: steps, from: 1)
            let layout = ReframeLayout(
                original: ImageSize(width: w, height: h), canvas: canvas, anchor: anchor,
                grid: decoder.cellSize == 1 ? p : nil, multiple: p, maxSide: GenerationConfig.maxSide)
            workingSize = layout.working == canvas ? nil : layout.working
            makeSetup = { [settings, original] () throws(PipelineError) -> EditSetup in
                let work = layout.working
                let (ox, oy) = (layout.outputX + layout.originalX, layout.outputY + layout.originalY)  // on `work`
                // The new area starts from the nearest edge pixels of the original.
                var pixels = [Float](repeating: 0, count: 3 * work.width * work.height)
                var mask = [Float](repeating: 1, count: work.width * work.height)
                for y in 0..<work.height {
                    for x in 0..<work.width {
                        let sx = min(max(x - ox, 0), w - 1), sy = min(max(y - oy, 0), h - 1)
                        let inside = x - ox == sx && y - oy == sy
                        if inside { mask[y * work.width + x] = 0 }
                        for c in 0..<3 { pixels[(c * work.height + y) * work.width + x] = original[c, sy, sx] }
                    }
                }
                return EditSetup(
                    operation: request.operation.name,
                    knownPixels: try! RGBImage(width: work.width, height: work.height, pixels: pixels), mask: mask,
                    startTime: 1, inputSHA256: input.sha256, settings: settings, promptSource: promptSource,
                    space: self.decoder, fill: self.hasFillInput,
                    outputRegion: work == canvas ? nil : (layout.outputX, layout.outputY, canvas))
            }
        }
        var plan = try plan(config)
        if workingSize != nil || passes > 1 {
            // A larger working canvas, or a second pass per step whose buffers sit beside the first's.
            try checkMemory(size: workingSize ?? plan.size, count: plan.count, textTokens: plan.tokenIDs.count, passes: passes)
        }
        plan.sampler = sampler
        plan.edit = try makeSetup()
        return plan
    }

    /// Modifies, inpaints or reframes an image (``EditRequest``), with the same sampler,
    /// progress, cancellation and metadata as ``generate(_:progress:)-(GenerationConfig,_)``.
    ///
    /// Sizes: a modification or inpainting works at `config.size`, else at the model's size for
    /// the input's nearest aspect ratio; the input is scaled to cover that size and centre-cropped
    /// (stb_image_resize). A reframe keeps the original at its own size (fitted as above when
    /// the model cannot take that size) on a canvas of the target ratio that contains it.
    /// Inpainting and reframing blend the known region back after every step but the last (the
    /// mask feathered inwards) and composite it at the end with seamless (Poisson) blending: outside
    /// the mask the output equals the (fitted) input exactly, and the drawn pixels meet it without
    /// a step. The images' metadata records the operation, the input's SHA-256 and the
    /// settings.
    public func edit(_ request: EditRequest, progress: ProgressHandler? = nil) async throws(PipelineError) -> GenerationResult {
        try await generate(plan(request), progress: progress)
    }
}
