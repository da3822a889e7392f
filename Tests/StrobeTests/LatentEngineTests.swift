import Foundation
import Testing
@testable import Strobe

/// The engine with a v2 (`strobe-mmdit`) file: the same generate and edit calls as v1, on
/// latents decoded by the autoencoder; the small random v2 fixture (Fixtures/mmdit/README.md).
@Suite struct LatentEngineTests {
    static let modelPath = MMDiTParityTests.directory.appendingPathComponent("random.safetensors").path
    static let engine: StrobeEngine = try! StrobeEngine(modelPath: modelPath)
    static let fixtureSize = ImageSize(width: 96, height: 64)

    @Test func loadsAsALatentModelWithItsSizes() throws {
        let engine = Self.engine
        #expect(engine.model.latent != nil && engine.model.pixel == nil)
        #expect(engine.info.architecture.family == "strobe-mmdit")
        #expect(engine.patchSize == 32 && engine.hasFillInput)
        #expect(engine.size(of: .square) == ImageSize(width: 512, height: 512))
        for ratio in AspectRatio.allCases {
            let size = engine.size(of: ratio)
            #expect(size.width % 32 == 0 && size.height % 32 == 0, "\(ratio): \(size)")
            #expect(abs(Double(size.width * size.height) / Double(512 * 512) - 1) < 0.12, "\(ratio): \(size)")
        }
        #expect(throws: PipelineError.self) {
            try engine.plan(GenerationConfig(prompt: "a lake", size: ImageSize(width: 48, height: 48)))
        }

    }

    /// The engine's flash 4 image is the reference's (v2 sampler, decoder, clamping), seeds 0 and 42.
    @Test func generationMatchesReference() async throws {
        let golden = try MMDiTParityTests.golden()
        for seed in golden.seeds {
            let config = GenerationConfig(prompt: golden.prompts[0], size: Self.fixtureSize, seed: seed, steps: 4)
            let result = try await Self.engine.generate(config)
            let reference = try RGBImage(tensor: try MMDiTParityTests.tensor("image.\(seed)"))
            let (maxAbs, psnr) = PipelineTests.compare(result.images[0].image.pixels, reference.pixels)
            print("v2 engine flash 4, seed \(seed): max abs \(maxAbs), PSNR \(psnr) dB")
            #expect(psnr >= 45, "seed \(seed): PSNR \(psnr) dB")
            #expect(result.timings.denoiserCalls.count == 4)
        }
    }

    /// Several images in one request equal their single-image selves, batched or not.
    @Test func countAndBatchesAgreeWithSingleImages() async throws {
        let config = GenerationConfig(prompt: "snowy peaks at dusk", size: Self.fixtureSize, seed: 7, count: 3)
        let batched = try StrobeEngine(modelPath: Self.modelPath, maxBatch: 2)
        let one = try await Self.engine.generate(config), two = try await batched.generate(config)
        for i in 0..<3 {
            var alone = config
            alone.count = 1
            alone.seed = one.images[i].seed
            let single = try await Self.engine.generate(alone).images[0]
            #expect(single.png == one.images[i].png, "image \(i)")
            let (_, psnr) = PipelineTests.compare(two.images[i].image.pixels, single.image.pixels)
            #expect(psnr > 100, "image \(i) batched: PSNR \(psnr) dB")
        }
    }

    static func input() throws -> InputImage {
        // A smooth picture with structure at every scale, 96×64.
        let (w, h) = (96, 64)
        var pixels = [Float](repeating: 0, count: 3 * w * h)
        for y in 0..<h {
            for x in 0..<w {
                let u = Float(x) / Float(w), v = Float(y) / Float(h)
                pixels[y * w + x] = 0.5 + 0.4 * sin(6 * u + 2 * v)
                pixels[w * h + y * w + x] = v
                pixels[2 * w * h + y * w + x] = (x / 8 + y / 8) % 2 == 0 ? 0.8 : 0.2
            }
        }
        let image = try RGBImage(width: w, height: h, pixels: pixels.map { ($0 * 255).rounded() / 255 })
        return InputImage(image: image, sha256: String(repeating: "ab", count: 32))
    }

    /// Inpainting a v2 model: the fill input holds the cells wholly outside the mask (the known
    /// latent and keep = 1) and nothing else; outside the mask the output is the input exactly.
    @Test func inpaintGivesTheFillAndKeepsThePixels() async throws {
        let input = try Self.input()
        let (w, h) = (input.image.width, input.image.height)
        // The mask covers columns 40..<72 and rows 8..<40: latent cells (x 2..<5 partly, y 0..<3 partly).
        let values = (0..<(w * h)).map { i -> Float in (i % w) >= 40 && (i % w) < 72 && i / w >= 8 && i / w < 40 ? 1 : 0 }
        let request = EditRequest(input: input, operation: .inpaint(mask: EditMask(width: w, height: h, values: values), strength: 1),
                                  config: GenerationConfig(prompt: "a lighthouse", size: Self.fixtureSize, seed: 3, steps: 4))
        let plan = try Self.engine.plan(request)
        let fill = try #require(plan.edit?.fill)                                 // [C + 1, 4, 6]
        #expect(fill.shape == [5, 4, 6])
        let keep = Array(fill.storage.suffix(24))
        for cy in 0..<4 {
            for cx in 0..<6 {
                let touched = (cx * 16 + 15 >= 40 && cx * 16 < 72) && (cy * 16 + 15 >= 8 && cy * 16 < 40)
                #expect(keep[cy * 6 + cx] == (touched ? 0 : 1), "cell (\(cx), \(cy))")
            }
        }
        let known = try #require(plan.edit?.known)
        for c in 0..<4 {
            for cell in 0..<24 {
                #expect(fill.storage[c * 24 + cell] == known.storage[c * 24 + cell] * keep[cell])
            }
        }
        let out = try await Self.engine.generate(plan).images[0].image
        var changedInside = 0
        for i in 0..<(w * h) {
            for c in 0..<3 {
                let k = c * w * h + i
                if values[i] == 0 { #expect(out.pixels[k] == input.image.pixels[k]) } else if out.pixels[k] != input.image.pixels[k] { changedInside += 1 }
            }
        }
        #expect(changedInside > 32 * 32 * 3 / 2)
    }

    /// A modification starts from the encoded input with no fill input (strength 0 keeps every
    /// pixel, and so gives every cell): strength 0 returns the input exactly, and more strength
    /// moves further from it.
    @Test func modifyStartsFromTheEncodedInput() async throws {
        let input = try Self.input()
        var distances: [Double] = []
        for strength in [0.0, 0.3, 1.0] {
            let request = EditRequest(input: input, operation: .modify(strength: strength),
                                      config: GenerationConfig(prompt: "a lighthouse", size: Self.fixtureSize, seed: 3, steps: 4))
            let plan = try Self.engine.plan(request)
            #expect((plan.edit?.fill == nil) == (strength > 0))
            let out = try await Self.engine.generate(plan).images[0].image
            distances.append(InputImageTests.difference(out, input.image).mean)
        }
        #expect(distances[0] == 0, "\(distances)")
        #expect(distances[1] < distances[2], "\(distances)")
    }

    /// Reframing a v2 model: the original's pixels unchanged on the wider canvas.
    @Test func reframeKeepsTheOriginal() async throws {
        let input = try Self.input()
        let request = EditRequest(input: input, operation: .reframe(ratio: nil, size: ImageSize(width: 160, height: 64), anchor: .left),
                                  config: GenerationConfig(prompt: "a lighthouse", seed: 2, steps: 4))
        let plan = try Self.engine.plan(request)
        #expect(plan.size == ImageSize(width: 160, height: 64))
        #expect(plan.samplingSize == plan.size)                             // no grid of a latent model to avoid
        let out = try await Self.engine.generate(plan).images[0].image
        #expect(out.cropped(x: 0, y: 0, size: ImageSize(width: 96, height: 64)).pixels == input.image.pixels)
    }

    /// A model whose MLPs are as narrow as the width (ratio 1), one image token and a long
    /// prompt: the workspace holds the last block's text keys and values (`[L, 2D]`), which are
    /// wider than its MLP rows (`[L + 1, D]`); the same image twice is the same.
    @Test func narrowModelWithOneTokenAndALongPrompt() async throws {
        let path = MMDiTParityTests.directory.appendingPathComponent("tiny-ratio1.safetensors").path
        let engine = try StrobeEngine(modelPath: path)
        let ids = try engine.tokenize("a lake at dusk")
        #expect(ids.count > 4)                                              // 2·L·D > (L + 1)·D
        let config = GenerationConfig(prompt: "a lake at dusk", size: ImageSize(width: 16, height: 16), seed: 4)
        let first = try await engine.generate(config), second = try await engine.generate(config)
        #expect(first.images[0].png == second.images[0].png)
        #expect(first.images[0].image.width == 16)
    }

    /// Two images of one inpainting in one batch (the fill given to each) are each what they
    /// are alone.
    @Test func batchedInpaintEqualsSingleImages() async throws {
        let input = try Self.input()
        let (w, h) = (input.image.width, input.image.height)
        let values = (0..<(w * h)).map { i -> Float in (i % w) >= 40 && i / w < 40 ? 1 : 0 }
        var config = GenerationConfig(prompt: "a lighthouse", size: Self.fixtureSize, seed: 9, steps: 4)
        config.count = 2
        let request = EditRequest(input: input, operation: .inpaint(mask: EditMask(width: w, height: h, values: values), strength: 0.8),
                                  config: config)
        let batched = try StrobeEngine(modelPath: Self.modelPath, maxBatch: 2)
        let together = try await batched.edit(request)
        for image in together.images {
            var alone = request
            alone.config.count = 1
            alone.config.seed = image.seed
            let single = try await Self.engine.edit(alone).images[0]
            let (_, psnr) = PipelineTests.compare(image.image.pixels, single.image.pixels)
            #expect(psnr > 100, "image \(image.index): PSNR \(psnr) dB against its single self")
        }
    }

    /// A v2 edit at a size the model cannot make is refused before any work (no encoder run).
    @Test func editAtAnInvalidSizeIsRefused() throws {
        let input = try Self.input()
        for size in [ImageSize(width: 100, height: 100), ImageSize(width: 80, height: 64)] {
            let request = EditRequest(input: input, operation: .modify(strength: 0.5),
                                      config: GenerationConfig(prompt: "a lake", size: size))
            #expect {
                _ = try Self.engine.plan(request)
            } throws: { error in
                guard let error = error as? PipelineError, case .invalidSize = error else { return false }
                return true
            }
        }
        let reframe = EditRequest(input: input, operation: .reframe(ratio: nil, size: ImageSize(width: 600, height: 64), anchor: .left),
                                  config: GenerationConfig(prompt: "a lake"))
        #expect(throws: PipelineError.self) { try Self.engine.plan(reframe) }
    }

    /// The known latent of an edit is the autoencoder's encoding of the (fitted) input, and the
    /// sampler starts from `(1 − t₀)·known + t₀·noise`.
    @Test func editStartsFromTheEncodedInput() throws {
        let input = try Self.input()
        let request = EditRequest(input: input, operation: .modify(strength: 0.4),
                                  config: GenerationConfig(prompt: "a lighthouse", size: Self.fixtureSize, seed: 3, steps: 4))
        let setup = try #require(try Self.engine.plan(request).edit)
        let encoded = Self.engine.decoder.encode(input.image)
        #expect(setup.known == encoded && setup.known.shape == [4, 4, 6])
        let noise = StrobeEngine.noise(seeds: [3], shape: [4, 4, 6])
        let start = setup.start(noise: noise)
        for i in 0..<start.count {
            #expect(abs(start.storage[i] - (0.6 * encoded.storage[i] + 0.4 * noise.storage[i])) < 1e-6)
        }
    }

    /// bf16 products on a v2 model: close to fp32's image, not equal to it (bf16 ran), the same
    /// bytes at any thread count, and recorded in the metadata.
    @Test(.enabled(if: Precision.bf16.isSupported, "this CPU has no AVX512_BF16"))
    func bf16CloseToFP32() async throws {
        var config = GenerationConfig(prompt: "snowy peaks at dusk with a lake", size: ImageSize(width: 512, height: 256), seed: 5)
        let fp32 = try await Self.engine.generate(config).images[0]
        config.precision = .bf16
        var pngs: [[UInt8]] = []
        for threads in [1, 2] {
            config.threads = threads
            pngs.append(try await Self.engine.generate(config).images[0].png)
        }
        #expect(pngs[0] == pngs[1])
        let bf16 = try PNGCodec.decode(pngs[0])
        let psnr = bf16.image.psnr(against: fp32.image)
        print("v2 bf16 vs fp32: PSNR \(psnr) dB")
        #expect(psnr >= 40 && psnr.isFinite, "PSNR \(psnr) dB")
        #expect(bf16.text(forKey: "strobe")?.contains("\"precision\":\"bf16\"") == true)
    }

    @Test func memoryEstimateGrowsWithSizeAndBatch() throws {
        let small = Self.engine.memoryEstimate(size: ImageSize(width: 512, height: 512), count: 1, textTokens: 16)
        let large = Self.engine.memoryEstimate(size: ImageSize(width: 1024, height: 1024), count: 1, textTokens: 16)
        let four = Self.engine.memoryEstimate(size: ImageSize(width: 512, height: 512), count: 4, textTokens: 16)
        #expect(large.workingSet > 3 * small.workingSet && four.results > 3 * small.results)
    }
}
