import ArgumentParser
import Foundation
import Strobe

extension RunOptions {
    /// Reads the input (and mask), plans the edit, runs it and writes the images.
    func run(image: String, prompt: String?, size: ImageSize? = nil, promptGuidance: PromptGuidance? = nil,
             layoutSteps: Int? = nil, operation: (InputImage) throws -> EditOperation) async throws {
        Interrupt.install()
        let (chosen, random) = chosenSeed()
        let paths = OutputNames.paths(output: output, seeds: TorchGenerator.batchSeeds(base: chosen, count: count))
        do { try OutputNames.check(paths, overwrite: overwrite) } catch { throw fail(error.description) }
        let input: InputImage
        do { input = try InputImage.read(path: image) } catch { throw fail("\(image): \(error.description)") }
        let request = EditRequest(
            input: input, operation: try operation(input),
            config: GenerationConfig(prompt: prompt ?? "", size: size, seed: chosen, sampler: sampler, steps: steps, count: count,
                                     threads: threads, includeMetadata: !noMetadata, precision: precision),
            promptGuidance: promptGuidance, layoutSteps: layoutSteps)
        let engine = try loadEngine(try locateModel(model))
        try stopIfInterrupted()
        if let threads { Parallel.threads = threads }
        let plan: GenerationPlan
        do { plan = try engine.plan(request) } catch { throw fail(error.description) }
        if random && !quiet { printError("strobe: random seed \(chosen)") }
        if !quiet, let edit = plan.edit, edit.promptSource != "given" {
            printError(edit.promptSource == "none"
                ? "strobe: no prompt given and none recorded in the image: \(edit.operation) without a prompt"
                : "strobe: using the prompt recorded in the image: \(plan.prompt)")
        }
        try await runAndWrite(plan: plan, paths: paths, overwrite: overwrite, quiet: quiet, timings: timings) {
            (progress) async throws(PipelineError) -> GenerationResult in
            try await engine.generate(plan, progress: progress)
        }
    }
}

/// `strobe edit IMAGE [PROMPT] --strength S [--mask MASK]`.
struct Edit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Modify an image with a prompt, or repaint a masked region of it.",
        discussion: """
            IMAGE is a PNG (any bit depth, palette, grey, alpha, interlaced) or a JPEG (baseline, progressive, grey, \
            CMYK; EXIF orientation honoured). It is scaled to cover the model's size for its nearest aspect ratio \
            and centre-cropped (or to --size). --strength 0 returns the image, 1 ignores it; the sampler runs \
            ceil(strength x steps) network calls (at least one) from that time, never snapped to the step grid. \
            With --mask, only the masked pixels change and the rest equals the (fitted) input exactly: a mask with \
            alpha edits where it is transparent (OpenAI's convention), an opaque mask where it is white. \
            A modification's steps that start above t = 0.4 are guided towards the prompt, u + G(u - u(no prompt)), \
            with two network passes each (--prompt-guidance G: default 4, and 0 with --mask): without it the \
            input's colours outweigh a prompt that asks for others. An inpainting with the flash sampler first \
            takes the first quarter of its time in 4 small steps (--layout-steps N; 3 more network calls at 4 steps \
            from strength 1), so the repainted region is laid out seeing the image. \
            The PNG metadata records the operation, the input's SHA-256 and the settings.
            """)

    @Argument(help: "The image to edit.")
    var image: String

    @Argument(help: "The prompt (default: the one the image records when Strobe made it).")
    var prompt: String?

    @Option(help: "How far from the input, 0...1 (default 0.6; with --mask, 1).")
    var strength: Double?

    @Option(help: "A mask image of the same size: what to repaint.")
    var mask: String?

    @Option(help: ArgumentHelp("The working size instead of the model's size for the image's ratio.", valueName: "WxH"))
    var size: ImageSize?

    @Option(name: .customLong("prompt-guidance"),
            help: ArgumentHelp("Guidance towards the prompt of the steps above t = 0.4 (default 4; with --mask 0; 0: none).",
                               valueName: "G"))
    var promptGuidance: Double?

    @Option(name: .customLong("layout-steps"),
            help: ArgumentHelp("With --mask and the flash sampler: small steps over the first quarter of the time (default 4; 0: none).",
                               valueName: "N"))
    var layoutSteps: Int?

    @OptionGroup var options: RunOptions

    func validate() throws {
        if let strength, !(strength.isFinite && (0...1).contains(strength)) {
            throw ValidationError("--strength \(strength) must be a number in [0, 1]")
        }
        if let promptGuidance, !PromptGuidance.isValid(scale: promptGuidance) {
            throw ValidationError("--prompt-guidance \(promptGuidance) must be a number in [0, \(PromptGuidance.maxScale)]")
        }
        if let layoutSteps {
            guard EditRequest.layoutStepsRange.contains(layoutSteps) else {
                throw ValidationError("--layout-steps \(layoutSteps) must be in \(EditRequest.layoutStepsRange)")
            }
            guard layoutSteps == 0 || mask != nil else { throw ValidationError("--layout-steps is for an inpainting (--mask)") }
            guard layoutSteps == 0 || options.sampler == .flash else {
                throw ValidationError("--layout-steps is for the flash sampler: the full sampler's steps are small already")
            }
        }
    }

    func run() async throws {
        let guidance = promptGuidance.map { PromptGuidance(scale: $0) }
        try await options.run(image: image, prompt: prompt, size: size, promptGuidance: guidance, layoutSteps: layoutSteps) { _ in
            if let mask {
                let maskImage: InputImage
                do { maskImage = try InputImage.read(path: mask) } catch {
                    throw fail("mask \(mask): \(error)")
                }
                return .inpaint(mask: EditMask(image: maskImage), strength: strength ?? 1)
            }
            return .modify(strength: strength ?? 0.6)
        }
    }
}

/// `strobe reframe IMAGE --aspect-ratio R [PROMPT] [--anchor A]`.
struct Reframe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Extend an image to another aspect ratio, drawing what lies outside it.",
        discussion: """
            The original keeps its pixels and its size (an image whose sides are not multiples of the model's patch \
            is first fitted to the model's size for its nearest ratio) on a canvas of the new ratio; the new area is \
            drawn from noise with the original blended in at every step. Without a prompt, the prompt the image \
            records (when Strobe made it) is used, else none. Reframing to the ratio the image already has is an error.
            """)

    @Argument(help: "The image to reframe.")
    var image: String

    @Argument(help: "The prompt (default: the one the image records when Strobe made it).")
    var prompt: String?

    @Option(name: .customLong("aspect-ratio"), help: ArgumentHelp("The new aspect ratio.", valueName: "W:H"))
    var aspectRatio: AspectRatio?

    @Option(help: ArgumentHelp("An explicit canvas size instead of a ratio.", valueName: "WxH"))
    var size: ImageSize?

    @Option(help: ArgumentHelp("Where the original sits: \(Anchor.allCases.map(\.rawValue).joined(separator: ", ")).",
                               valueName: "anchor"))
    var anchor: Anchor = .center

    @OptionGroup var options: RunOptions

    func validate() throws {
        if aspectRatio == nil && size == nil { throw ValidationError("give --aspect-ratio or --size") }
        if aspectRatio != nil && size != nil { throw ValidationError("give --aspect-ratio or --size, not both") }
    }

    func run() async throws {
        try await options.run(image: image, prompt: prompt) { _ in .reframe(ratio: aspectRatio, size: size, anchor: anchor) }
    }
}

extension Anchor: ExpressibleByArgument {}
