import Foundation
import Testing
@testable import Strobe

/// Inputs users bring (Fixtures/images, made by strobe_tools.make_image_fixtures) and the three
/// edits: modify, inpaint, reframe.
@Suite struct InputImageTests {
    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("images")
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    static func read(_ name: String) throws -> InputImage { try InputImage.read(path: path(name)) }

    /// Mean and largest absolute difference of two images' samples, in 8-bit steps.
    static func difference(_ a: RGBImage, _ b: RGBImage) -> (mean: Double, max: Double) {
        let d = zip(a.pixels, b.pixels).map { Double(abs($0 - $1)) * 255 }
        return (d.reduce(0, +) / Double(d.count), d.max() ?? 0)
    }

    @Test("JPEGs of every kind decode to the pattern within JPEG's error", arguments: ["baseline.jpg", "progressive.jpg", "cmyk.jpg", "exif6.jpg"])
    func jpegs(name: String) throws {
        let pattern = try Self.read("pattern.png")
        let input = try Self.read(name)
        #expect(input.format == "jpeg")
        #expect(input.image.width == 24 && input.image.height == 16, "\(name): \(input.image.width)x\(input.image.height)")
        let (mean, worst) = Self.difference(input.image, pattern.image)
        #expect(mean < 3 && worst < 24, "\(name): mean \(mean), max \(worst) (8-bit steps)")
    }

    @Test func greyJPEG() throws {
        let (mean, _) = Self.difference(try Self.read("grey.jpg").image, try Self.read("grey.png").image)
        #expect(mean < 3)
    }

    @Test("the EXIF orientation is what turns exif6.jpg upright")
    func orientation() throws {
        let input = try Self.read("exif6.jpg")
        // Stored 16x24 (turned), shown 24x16: without the orientation the sides would swap.
        #expect(input.image.width == 24 && input.image.height == 16)
        let pattern = try Self.read("pattern.png").image
        #expect(Self.difference(input.image, pattern).mean < 3)
        #expect(Self.difference(input.image.oriented(exif: 3), pattern).mean > 20)
    }

    @Test("alpha from RGBA, grey + alpha and a palette's tRNS; none from opaque files")
    func alpha() throws {
        let rgba = try Self.read("rgba.png")
        let alpha = try #require(rgba.alpha)
        #expect(alpha[0] == 0 && abs(alpha[23] - 230 / 255) < 1e-6)
        #expect(try Self.read("grey-alpha.png").alpha?[5] == Float(50) / 255)
        #expect(try Self.read("palette-trns.png").alpha?.contains(0) == true)
        #expect(try Self.read("pattern.png").alpha == nil)
    }

    @Test("both mask conventions mark the same square")
    func maskConventions() throws {
        let transparent = EditMask(image: try Self.read("mask-alpha.png"))
        let white = EditMask(image: try Self.read("mask-white.png"))
        #expect(transparent == white)
        // An RGBA file whose alpha is opaque everywhere is a white-on-black mask, not "edit nothing".
        #expect(EditMask(image: try Self.read("mask-white-rgba.png")) == white)
        #expect(transparent.values.filter { $0 == 1 }.count == 64 && transparent.values.filter { $0 == 0 }.count == 24 * 16 - 64)
    }

    @Test("bad files: each a clear error, the limit named, nothing decoded past the header")
    func badFiles() throws {
        #expect(throws: ImageError.self) { try Self.read("truncated.jpg") }
        do {
            _ = try Self.read("huge-header.jpg")
            Issue.record("a 50,000 x 50,000 header was decoded")
        } catch {
            let message = "\(error)"
            #expect(message.contains("50000x50000") && message.contains("\(InputImage.maxPixels)"), "\(message)")
        }
        for bytes: [UInt8] in [[], Array("not an image at all".utf8), [0xFF, 0xD8, 0xFF], [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]] {
            #expect(throws: ImageError.self) { try InputImage.decode(bytes) }
        }
        do {
            _ = try InputImage.decode(Array("GIF89a".utf8))
        } catch {
            #expect("\(error)".contains("PNG or JPEG"))
        }
    }

    @Test("fitting covers the size and crops the centre; the nearest ratio is chosen by its logarithm")
    func fitting() throws {
        let pattern = try Self.read("pattern.png").image
        let fitted = pattern.fitted(to: ImageSize(width: 16, height: 16))
        #expect(fitted.width == 16 && fitted.height == 16)
        // A centre crop of an unscaled image keeps its pixels.
        #expect(fitted.pixels == pattern.cropped(x: 4, y: 0, size: ImageSize(width: 16, height: 16)).pixels)
        #expect(AspectRatio.nearest(width: 1920, height: 1080) == .landscape16x9)
        #expect(AspectRatio.nearest(width: 1000, height: 1000) == .square)
        #expect(AspectRatio.nearest(width: 24, height: 16) == .landscape3x2)
        let up = pattern.resized(to: ImageSize(width: 48, height: 32))
        #expect(up.width == 48 && Self.difference(up.resized(to: ImageSize(width: 24, height: 16)), pattern).mean < 2)
    }
}

@Suite struct EditingTests {
    static let engine: StrobeEngine = try! StrobeEngine(modelPath: DefaultModelTests.modelPath)

    /// A Strobe-made image of the default model (its metadata records the prompt).
    static func made(_ prompt: String = "a lighthouse on the left at noon, calm sea", seed: UInt64 = 3) async throws -> InputImage {
        let result = try await engine.generate(GenerationConfig(prompt: prompt, seed: seed))
        return try InputImage.decode(result.images[0].png)
    }

    static func distance(_ a: RGBImage, _ b: RGBImage) -> Double {
        (zip(a.pixels, b.pixels).map { Double(($0 - $1) * ($0 - $1)) }.reduce(0, +) / Double(a.pixels.count)).squareRoot()
    }

    @Test("modify: calls = ceil(strength x steps), the schedule starts at the strength itself, 0 returns the input")
    func modifySchedule() async throws {
        let input = try await Self.made()
        // ⌈strength · steps⌉ without floating-point noise: 0.28 · 25 is 7 calls, not 8.
        var full = EditRequest(input: input, operation: .modify(strength: 0.28))
        full.config.sampler = .full
        full.config.steps = 25
        #expect(try Self.engine.plan(full).steps == 7)
        for (strength, calls) in [(0.0, 1), (0.3, 2), (0.55, 3), (1.0, 4)] {
            var request = EditRequest(input: input, operation: .modify(strength: strength))
            request.config.seed = 1
            let plan = try Self.engine.plan(request)
            #expect(plan.steps == calls, "strength \(strength)")
            #expect(plan.sampler.schedule.first?.t == Float(strength) && plan.sampler.schedule.last?.s == 0)
            if strength == 0 {
                let result = try await Self.engine.generate(plan)
                #expect(result.images[0].image.pixels == input.image.pixels, "strength 0 returns the input")
            }
        }
    }

    @Test("modify: the distance to the input rises with strength")
    func modifyDistance() async throws {
        let input = try await Self.made()
        var distances: [Double] = []
        for strength in [0.2, 0.6, 1.0] {
            var request = EditRequest(input: input, operation: .modify(strength: strength),
                                      config: GenerationConfig(prompt: "a lighthouse on the left at night", seed: 11))
            request.config.steps = 4
            distances.append(Self.distance(try await Self.engine.edit(request).images[0].image, input.image))
        }
        #expect(distances[0] < distances[1] && distances[1] < distances[2], "\(distances)")
    }

    @Test("prompt guidance: only steps above t = 0.4 make the second pass; it moves the picture towards the prompt's night")
    func promptGuidance() async throws {
        let input = try await Self.made()
        func edit(_ strength: Double, _ guidance: PromptGuidance?, prompt: String = "a lighthouse on the left at night, calm sea")
            async throws -> (plan: GenerationPlan, image: RGBImage) {
            let request = EditRequest(input: input, operation: .modify(strength: strength),
                                      config: GenerationConfig(prompt: prompt, seed: 7), promptGuidance: guidance)
            let plan = try Self.engine.plan(request)
            return (plan, try await Self.engine.generate(plan).images[0].image)
        }
        let guided = try await edit(0.7, nil), plain = try await edit(0.7, .off)
        #expect(guided.plan.edit?.guidance == .modifications && guided.plan.passesPerStep == 2 && plain.plan.passesPerStep == 1)
        #expect(guided.plan.passesPerBatch == 5 && plain.plan.passesPerBatch == 3)      // steps at 0.7, 0.47 guided; 0.23 not
        #expect(guided.plan.edit?.settings["prompt_guidance"] == "4.0 above t = 0.4" && plain.plan.edit?.settings["prompt_guidance"] == nil)
        // The input is a noon scene; guided towards "night", the picture gets darker than unguided.
        func brightness(_ image: RGBImage) -> Double { image.pixels.reduce(0) { $0 + Double($1) } / Double(image.pixels.count) }
        #expect(brightness(guided.image) < brightness(plain.image) - 0.02,
                "\(brightness(guided.image)) vs \(brightness(plain.image)) (input \(brightness(input.image)))")
        // Strength 0.6 with 4 steps starts at 0.6, 0.4 and 0.2: only the first is guided (the
        // schedule's 0.4 is a Float, a hair over the Double 0.4).
        let steps = PartialSampler(kind: .flash, steps: 3, from: 0.6).schedule
        #expect(steps.map { PromptGuidance.modifications.guides($0.t) } == [true, false, false], "\(steps.map(\.t))")
        // At 0.3 every step starts at or below 0.4: no second pass is set up, the same image as without guidance.
        let light = try await edit(0.3, nil)
        #expect(light.plan.passesPerStep == 1 && light.plan.edit?.settings["prompt_guidance"] == nil)
        #expect(try await light.image.pixels == edit(0.3, .off).image.pixels)
        // Scale 0 is no guidance; without a prompt there is nothing to guide towards.
        #expect(try await edit(0.7, PromptGuidance(scale: 0, above: 0.4)).image.pixels == plain.image.pixels)
        let mask = EditMask(width: 256, height: 256, values: [Float](repeating: 1, count: 256 * 256))
        let inpaint = EditRequest(input: input, operation: .inpaint(mask: mask, strength: 1), config: GenerationConfig(prompt: "night"))
        #expect(try Self.engine.plan(inpaint).passesPerStep == 1)                       // not guided unless asked
        let unprompted = EditRequest(input: try InputImage.decode(PNGCodec.encode(input.image)), operation: .modify(strength: 0.7))
        #expect(try Self.engine.plan(unprompted).passesPerStep == 1)
        for bad in [PromptGuidance(scale: .nan, above: 0.4), PromptGuidance(scale: 25, above: 0.4),
                    PromptGuidance(scale: -1, above: 0.4), PromptGuidance(scale: 4, above: 1.5)] {
            #expect(throws: PipelineError.self) {
                try Self.engine.plan(EditRequest(input: input, operation: .modify(strength: 0.5),
                                                 config: GenerationConfig(prompt: "night"), promptGuidance: bad))
            }
        }
        // Refused whatever else the request says: without a prompt, and for a reframe (any scale but 0).
        #expect(throws: PipelineError.self) {
            try Self.engine.plan(EditRequest(input: input, operation: .modify(strength: 0.5), promptGuidance: PromptGuidance(scale: .nan)))
        }
        for guidance in [PromptGuidance.modifications, PromptGuidance(scale: .nan), PromptGuidance(scale: -1)] {
            #expect(throws: PipelineError.self) {
                try Self.engine.plan(EditRequest(input: input, operation: .reframe(ratio: .landscape16x9, size: nil, anchor: .center),
                                                 promptGuidance: guidance))
            }
        }
    }

    @Test("inpaint: outside the mask the PNG's pixels equal the input's, inside they change; metadata records the edit")
    func inpaint() async throws {
        let input = try await Self.made()
        let (w, h) = (input.image.width, input.image.height)
        let values = (0..<(w * h)).map { i -> Float in (i % w) >= 150 && (i % w) < 230 && i / w >= 30 && i / w < 110 ? 1 : 0 }
        let request = EditRequest(input: input, operation: .inpaint(mask: EditMask(width: w, height: h, values: values), strength: 1),
                                  config: GenerationConfig(prompt: "a red hot-air balloon on the right", seed: 5))
        let result = try await Self.engine.edit(request)
        let out = try PNGCodec.decode(result.images[0].png).image
        let inputPixels = input.image.pixels
        var changedInside = 0
        for i in 0..<(w * h) {
            for c in 0..<3 {
                let k = c * w * h + i
                if values[i] == 0 { #expect(out.pixels[k] == inputPixels[k]) } else if out.pixels[k] != inputPixels[k] { changedInside += 1 }
            }
        }
        #expect(changedInside > 80 * 80 * 3 / 2)
        let json = try #require(try PNGCodec.decode(result.images[0].png).text(forKey: "strobe"))
        #expect(json.contains("\"operation\":\"inpaint\"") && json.contains(input.sha256) && json.contains("\"mask\":\"256x256\""), "\(json)")
    }

    @Test("layout steps: an inpainting takes the first quarter of its time in gap-0 steps, then the flash jumps; refused elsewhere")
    func layoutSteps() async throws {
        // 4 from t = 1: 1, 15/16, 7/8, 13/16, 3/4 at gap 0, then the grid's 1/2, 1/4, 0 as jumps.
        let four = PartialSampler(kind: .flash, steps: 4, from: 1, layoutSteps: 4)
        #expect(four.steps == 7)
        #expect(four.schedule.map(\.t) == [1, 0.9375, 0.875, 0.8125, 0.75, 0.5, 0.25])
        #expect(four.schedule.map(\.s) == [0.9375, 0.875, 0.8125, 0.75, 0.5, 0.25, 0])
        #expect(four.schedule.map(\.gap) == [0, 0, 0, 0, 0.25, 0.25, 0.25])
        // One flash step: the layout, then one jump from 3/4. Three: 3/4 comes before the grid's 2/3.
        #expect(PartialSampler(kind: .flash, steps: 1, from: 1, layoutSteps: 2).schedule.map(\.s) == [0.875, 0.75, 0])
        #expect(PartialSampler(kind: .flash, steps: 3, from: 1, layoutSteps: 1).schedule.map(\.s)
                == [0.75, Float(2.0 / 3), Float(1.0 / 3), 0])
        // From strength 0.5 the layout covers [0.5, 0.375]; 0 layout steps is the plain schedule.
        #expect(PartialSampler(kind: .flash, steps: 2, from: 0.5, layoutSteps: 2).schedule.map(\.s) == [0.4375, 0.375, 0.25, 0])
        #expect(PartialSampler(kind: .flash, steps: 4, from: 1, layoutSteps: 0).schedule
                == PartialSampler(kind: .flash, steps: 4, from: 1).schedule)

        let input = try await Self.made()
        let mask = EditMask(width: 256, height: 256, values: (0..<(256 * 256)).map { $0 % 256 >= 160 && $0 / 256 < 128 ? 1 : 0 })
        let inpaint = EditOperation.inpaint(mask: mask, strength: 1)
        func plan(_ operation: EditOperation, _ layout: Int?, sampler: SamplerKind = .flash) throws -> GenerationPlan {
            try Self.engine.plan(EditRequest(input: input, operation: operation,
                                             config: GenerationConfig(prompt: "a red hot-air balloon on the right", seed: 1, sampler: sampler),
                                             layoutSteps: layout))
        }
        let byDefault = try plan(inpaint, nil), off = try plan(inpaint, 0)
        #expect(byDefault.steps == 7 && byDefault.edit?.settings["layout_steps"] == "4" && byDefault.passesPerBatch == 7)
        #expect(off.steps == 4 && off.edit?.settings["layout_steps"] == nil)
        // One layout step at 4 steps is still 4 calls (1 → 3/4 at gap 0, then 1/2, 1/4, 0), and is recorded.
        let one = try plan(inpaint, 1)
        #expect(one.steps == 4 && one.sampler.schedule[0].gap == 0 && one.edit?.settings["layout_steps"] == "1")
        #expect(try plan(inpaint, nil, sampler: .full).steps == 100)                    // small steps already
        #expect(try plan(.modify(strength: 0.5), 0).steps == 2)                         // 0 is accepted anywhere
        let reframe = EditOperation.reframe(ratio: .landscape16x9, size: nil, anchor: .center)
        for (operation, layout, sampler) in [(EditOperation.modify(strength: 0.5), 2, SamplerKind.flash), (reframe, 4, .flash),
                                             (inpaint, 4, .full), (inpaint, 17, .flash), (inpaint, -1, .flash)] {
            #expect(throws: PipelineError.self, "\(operation.name) \(layout) \(sampler)") { try plan(operation, layout, sampler: sampler) }
        }
        // The known region stays exact either way; the repainted one is drawn otherwise.
        let laidOut = try await Self.engine.generate(byDefault).images[0].image
        let plain = try await Self.engine.generate(off).images[0].image
        let outside = (0..<(256 * 256)).filter { mask.values[$0] == 0 }
        for c in 0..<3 {
            #expect(outside.allSatisfy { laidOut.pixels[c * 65536 + $0] == input.image.pixels[c * 65536 + $0] })
        }
        #expect(Self.distance(laidOut, plain) > 0.005, "\(Self.distance(laidOut, plain))")
    }

    @Test("reframe: the original unchanged at its anchor on a canvas of the new ratio, the recorded prompt used",
          arguments: [(AspectRatio.landscape21x9, Anchor.center), (.portrait9x16, .top), (.landscape16x9, .left)])
    func reframe(ratio: AspectRatio, anchor: Anchor) async throws {
        let input = try await Self.made()
        let request = EditRequest(input: input, operation: .reframe(ratio: ratio, size: nil, anchor: anchor),
                                  config: GenerationConfig(prompt: "", seed: 2))
        let plan = try Self.engine.plan(request)
        #expect(plan.prompt == "a lighthouse on the left at noon, calm sea" && plan.edit?.promptSource == "recorded in the input")
        let size = plan.size
        #expect(abs(Double(size.width) / Double(size.height) - ratio.ratio) < 0.1 && size.width >= 256 && size.height >= 256)
        let out = try await Self.engine.generate(plan).images[0].image
        #expect(out.width == size.width && out.height == size.height)
        let origin = anchor.origin(of: ImageSize(width: 256, height: 256), on: size)
        #expect(out.cropped(x: origin.x, y: origin.y, size: ImageSize(width: 256, height: 256)).pixels == input.image.pixels)
        // The sampler works on a canvas one patch larger where the original's border would fall
        // on v1's patch grid (21:9 centred at x = 176; 16:9 left, border at x = 256; 9:16 top,
        // border at y = 256); the output is cut from it.
        #expect(plan.samplingSize != size, "\(plan.samplingSize) for \(size)")
    }

    @Test("reframe layout: v1's borders with the drawn area fall mid-patch; the output keeps its size and anchor")
    func reframeLayout() {
        let original = ImageSize(width: 256, height: 256)
        func layout(_ w: Int, _ h: Int, _ anchor: Anchor = .center, grid: Int? = 16, maxSide: Int = 2048) -> ReframeLayout {
            ReframeLayout(original: original, canvas: ImageSize(width: w, height: h), anchor: anchor, grid: grid, multiple: 16,
                          maxSide: maxSide)
        }
        for anchor in Anchor.allCases {
            for (w, h) in [(608, 256), (464, 256), (256, 464), (256, 352), (400, 400), (272, 256)] {
                let l = layout(w, h, anchor)
                let origin = anchor.origin(of: original, on: l.output)
                #expect(l.output == ImageSize(width: w, height: h) && (l.originalX, l.originalY) == (origin.x, origin.y))
                #expect(l.working.width - w == (l.outputX > 0 ? 16 : 0) && l.working.height - h == (l.outputY > 0 ? 16 : 0))
                #expect((0..<16).contains(l.outputX) && (0..<16).contains(l.outputY))
                // Every border between the original and the drawn area, on the working canvas, is mid-patch.
                let x = l.outputX + origin.x, y = l.outputY + origin.y
                if origin.x > 0 || origin.x + 256 < w { #expect(x % 16 == 8, "\(anchor) \(w)x\(h): x \(x)") }
                if origin.y > 0 || origin.y + 256 < h { #expect(y % 16 == 8, "\(anchor) \(w)x\(h): y \(y)") }
            }
        }
        #expect(layout(608, 256).working == ImageSize(width: 624, height: 256) && layout(608, 256).outputX == 8)
        #expect(layout(464, 256).working == ImageSize(width: 464, height: 256))        // x = 104: mid-patch already
        #expect(layout(256, 352).working == ImageSize(width: 256, height: 368))        // y = 48
        #expect(layout(608, 256, grid: nil).working == ImageSize(width: 608, height: 256))   // a latent model
        #expect(layout(608, 256, maxSide: 608).working == ImageSize(width: 608, height: 256)) // no pad past the limit
    }

    @Test("edits that cannot be done are refused before any work")
    func refused() async throws {
        let input = try await Self.made()
        for strength in [-0.1, 1.5, .nan, .infinity] {
            #expect(throws: PipelineError.self) { try Self.engine.plan(EditRequest(input: input, operation: .modify(strength: strength))) }
        }
        let empty = EditMask(width: 256, height: 256, values: [Float](repeating: 0, count: 256 * 256))
        #expect(throws: PipelineError.self) { try Self.engine.plan(EditRequest(input: input, operation: .inpaint(mask: empty, strength: 1))) }
        let small = EditMask(width: 8, height: 8, values: [Float](repeating: 1, count: 64))
        #expect(throws: PipelineError.self) { try Self.engine.plan(EditRequest(input: input, operation: .inpaint(mask: small, strength: 1))) }
        do {
            _ = try Self.engine.plan(EditRequest(input: input, operation: .reframe(ratio: .square, size: nil, anchor: .center)))
            Issue.record("reframing a 1:1 image to 1:1 was accepted")
        } catch {
            #expect("\(error)".contains("already 1:1"), "\(error)")
        }
    }
}
