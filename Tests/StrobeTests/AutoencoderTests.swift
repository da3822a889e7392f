import Foundation
import StrobeTensor
import Testing
@testable import Strobe

/// The autoencoder fixture (`Fixtures/autoencoder/`, made by
/// `python -m strobe_tools.make_autoencoder_fixtures`; see its README): a small random v2
/// autoencoder's weights under the `autoencoder.` prefix (conv weights F16, the rest F32) and
/// the reference's outputs for a 48×80 image and a 3×5 latent.
enum AutoencoderFixture {
    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("autoencoder")
    static var weightsPath: String { directory.appendingPathComponent("weights.safetensors").path }

    static func weightsFile() throws -> WeightsFile { try WeightsFile(path: weightsPath, requireStrobeMetadata: false) }

    /// The configuration stored with the weights (`autoencoder_config`).
    static func config(_ file: WeightsFile) throws -> AutoencoderConfig {
        try AutoencoderConfig(json: try #require(file.metadata["autoencoder_config"]))
    }

    static let autoencoder: LatentAutoencoder = {
        let file = try! weightsFile()
        return try! LatentAutoencoder(file: file, config: try! config(file))
    }()

    /// The reference's inputs and outputs by name.
    static let golden: [String: Tensor] = {
        let file = try! WeightsFile(path: directory.appendingPathComponent("golden.safetensors").path, requireStrobeMetadata: false)
        return Dictionary(uniqueKeysWithValues: file.tensors.keys.map { ($0, file.tensor($0)!) })
    }()

    /// Every weight tensor of the fixture with its stored dtype.
    static func entries() throws -> [String: WeightsWriter.Entry] {
        let file = try weightsFile()
        var entries: [String: WeightsWriter.Entry] = [:]
        for (name, info) in file.tensors { entries[name] = .init(file.tensor(name)!, as: info.dtype) }
        return entries
    }

    /// Opens the fixture's tensors after `edit`, written to a temporary file.
    static func edited(_ edit: (inout [String: WeightsWriter.Entry]) -> Void) throws -> WeightsFile {
        var tensors = try entries()
        edit(&tensors)
        let metadata = try weightsFile().metadata
        return try WeightsFile(
            path: try TemporaryFile.write(WeightsWriter.encode(tensors: tensors, metadata: metadata)), requireStrobeMetadata: false)
    }
}

/// Largest |a − b|.
private func maxDiff(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape)")
    return zip(a.storage, b.storage).map { abs($0 - $1) }.max() ?? 0
}

/// The v2 autoencoder in the engine against the PyTorch reference, the naive ops, other thread
/// counts and broken weights.
@Suite("v2 latent autoencoder")
struct AutoencoderTests {
    let model = AutoencoderFixture.autoencoder
    let golden = AutoencoderFixture.golden

    @Test("the encoder matches the reference (max abs error ≤ 1e-5)")
    func encoderMatchesPyTorch() {
        let raw = model.encoder(golden["encode.image"]!)                            // [1, 4, 3, 5]
        #expect(raw.shape == [1, 4, 3, 5])
        let rawError = maxDiff(raw, golden["encode.raw"]!)
        let latentError = maxDiff(model.encode(golden["encode.image"]!), golden["encode.latent"]!)
        #expect(rawError <= 1e-5, "raw latent: max abs error \(rawError)")
        #expect(latentError <= 1e-5, "normalised latent: max abs error \(latentError)")
    }

    @Test("the decoder matches the reference (max abs error ≤ 1e-5)")
    func decoderMatchesPyTorch() {
        let image = model.decode(golden["decode.latent"]!)                          // [1, 3, 48, 80]
        #expect(image.shape == [1, 3, 48, 80])
        let error = maxDiff(image, golden["decode.image"]!)
        #expect(error <= 1e-5, "decoded image: max abs error \(error)")
    }

    @Test("LatentDecoder: latent shape per size, clamped image, refuses a wrong latent")
    func latentDecoderStage() throws {
        let stage = LatentDecoder(autoencoder: model)
        #expect(stage.sampleShape(for: ImageSize(width: 80, height: 48)) == [4, 3, 5])
        #expect(stage.sampleShape(for: ImageSize(width: 512, height: 512)) == [4, 32, 32])
        let latent = golden["decode.latent"]!
        let image = try stage.decode(latent.reshaped([4, 3, 5]))
        #expect(image.width == 80 && image.height == 48)
        let want = golden["decode.image"]!.storage.map { min(max($0, 0), 1) }
        #expect(golden["decode.image"]!.storage.contains { $0 < 0 } && golden["decode.image"]!.storage.contains { $0 > 1 })
        let error = zip(image.pixels, want).map { abs($0 - $1) }.max()!
        #expect(error <= 1e-5 && image.pixels.allSatisfy { $0 >= 0 && $0 <= 1 }, "clamped image: max abs error \(error)")
        #expect(try stage.decode(latent) == image)                                 // [1, C, h, w] also accepted
        #expect(throws: PipelineError.self) { try stage.decode(Tensor(shape: [3, 3, 5])) }
        #expect(throws: PipelineError.self) { try stage.decode(Tensor(shape: [4, 0, 5])) }
    }

    @Test("the decoder and encoder equal a composition of the naive twins on the same weights")
    func matchesNaiveComposition() {
        let naive = NaiveAutoencoder(config: model.config, weights: AutoencoderWeights(
            encoder: model.encoder.weights, decoder: model.decoder.weights, latentMean: model.latentMean, latentStd: model.latentStd))
        let latent = golden["decode.latent"]!, image = golden["encode.image"]!
        let decoded = model.decode(latent), naiveDecoded = naive.decode(latent)
        let encoded = model.encode(image), naiveEncoded = naive.encode(image)
        let (eDecode, eEncode) = (maxDiff(decoded, naiveDecoded), maxDiff(encoded, naiveEncoded))
        #expect(eDecode <= 1e-5, "decoder vs naive: max abs error \(eDecode)")
        #expect(eEncode <= 1e-5, "encoder vs naive: max abs error \(eEncode)")
        // The naive composition is itself the reference's arithmetic (sums in Float64).
        #expect(maxDiff(naiveDecoded, golden["decode.image"]!) <= 1e-5)
    }

    @Test("same bits at 1, 2 and 3 threads, and for an image alone or in a batch")
    func deterministic() {
        let latent = golden["decode.latent"]!, image = golden["encode.image"]!
        let runs = [1, 2, 3].map { threads in
            Parallel.withThreads(threads) { (model.decode(latent), model.encode(image)) }
        }
        for run in runs.dropFirst() {
            #expect(run.0 == runs[0].0, "decoded image differs between thread counts")
            #expect(run.1 == runs[0].1, "latent differs between thread counts")
        }
        let other = Tensor(shape: latent.shape, storage: latent.storage.reversed())
        let batch = model.decode(Ops.concat([other, latent], axis: 0))              // [2, 3, 48, 80]
        #expect(Ops.split(batch, parts: 2, axis: 0)[1] == runs[0].0)
    }

    @Test("F32 storage of the same weights gives the same bits as F16 storage")
    func f32StorageMatches() throws {
        let file = try AutoencoderFixture.edited { tensors in
            for (name, entry) in tensors { tensors[name] = .init(entry.tensor, as: .f32) }
        }
        #expect(file.tensors.values.allSatisfy { $0.dtype == .f32 })
        let fromF32 = try LatentAutoencoder(file: file, config: model.config)
        #expect(fromF32.decode(golden["decode.latent"]!) == model.decode(golden["decode.latent"]!))
    }

    @Test("tensors outside the prefix are ignored; another prefix works")
    func prefixes() throws {
        let file = try AutoencoderFixture.edited { tensors in
            tensors["denoiser.patch_embed.weight"] = .init(Tensor(shape: [2, 2]))
            for (name, entry) in tensors where name.hasPrefix("autoencoder.") {
                tensors["vae." + name.dropFirst("autoencoder.".count)] = entry
            }
        }
        let other = try LatentAutoencoder(file: file, config: model.config, prefix: "vae.")
        #expect(other.decode(golden["decode.latent"]!) == model.decode(golden["decode.latent"]!))
        _ = try LatentAutoencoder(file: file, config: model.config)
    }

    @Test("broken weights give one error listing every problem, never a crash")
    func malformedWeights() throws {
        let file = try AutoencoderFixture.edited { tensors in
            tensors["autoencoder.decoder.ups.1.conv.bias"] = nil
            tensors["autoencoder.encoder.levels.2.1.norm2.weight"] = .init(Tensor(shape: [15]))
            tensors["autoencoder.decoder.extra.weight"] = .init(Tensor(shape: [1]))
        }
        do {
            _ = try LatentAutoencoder(file: file, config: model.config)
            Issue.record("a broken autoencoder loaded")
        } catch {
            // Missing and misshapen tensors in name order, then the unexpected ones.
            #expect(error.problems == [
                .missingTensor("autoencoder.decoder.ups.1.conv.bias"),
                .shapeMismatch(tensor: "autoencoder.encoder.levels.2.1.norm2.weight", expected: [16], actual: [15]),
                .unexpectedTensor("autoencoder.decoder.extra.weight"),
            ])
            #expect(error.description.contains("missing tensor 'autoencoder.decoder.ups.1.conv.bias'"))
            #expect(error.description.contains(file.path))
        }
        // A configuration that does not fit the file: every level's tensors are listed.
        let wider = try AutoencoderConfig(
            latentChannels: 4, encoderChannels: [8, 12, 16, 20], encoderBlocks: [0, 1, 1, 2],
            decoderChannels: [20, 16, 12, 8, 7], decoderBlocks: [2, 1, 1, 0, 1])
        #expect(throws: WeightsError.self) { try LatentAutoencoder(file: try AutoencoderFixture.weightsFile(), config: wider) }

        let poisoned = try AutoencoderFixture.edited { tensors in
            var conv = tensors["autoencoder.decoder.conv_in.weight"]!.tensor
            conv.storage[5] = .nan
            tensors["autoencoder.decoder.conv_in.weight"] = .init(conv)
            tensors["autoencoder.latent_std"] = .init(Tensor(shape: [4], storage: [1, 0, 1, 1]))
        }
        do {
            _ = try LatentAutoencoder(file: poisoned, config: model.config)
            Issue.record("NaN weights and a zero std loaded")
        } catch {
            #expect(error.problems.count == 2)
            #expect(error.problems.first == .nonFiniteValues(tensor: "autoencoder.decoder.conv_in.weight", count: 1, first: 5))
            #expect(error.description.contains("latent_std"))
        }
    }

    @Test("configuration: JSON of the reference, invariants with the values, the standard widths")
    func configuration() throws {
        #expect(model.config.decoderChannels == [20, 16, 12, 8, 6] && model.config.upsample == .bilinear)
        #expect(try AutoencoderConfig(json: model.config.json()) == model.config)
        #expect(throws: ArchitectureError.invalid(problems: [
            "encoder_channels [8, 12, 16] must have 4 entries (one per level)",
            "decoder_blocks [0, 0, 0, 0, -1] must all be at least 0",
        ])) {
            try AutoencoderConfig(encoderChannels: [8, 12, 16], decoderBlocks: [0, 0, 0, 0, -1])
        }
        let misspelt = model.config.json().replacingOccurrences(of: "\"eps\"", with: "\"epsilon\"")
        #expect(throws: ArchitectureError.self) { try AutoencoderConfig(json: misspelt) }
        #expect(throws: ArchitectureError.self) {
            try AutoencoderConfig(json: model.config.json().replacingOccurrences(of: "bilinear", with: "bicubic"))
        }
        // docs/training-v2.md: the standard encoder has 1,351,632 parameters, the decoder 2,044,531.
        let shapes = AutoencoderCheckpoint.expectedTensorShapes(for: .standard)
        func count(_ part: String) -> Int {
            shapes.filter { $0.key.hasPrefix("autoencoder.\(part).") }.values.map { $0.reduce(1, *) }.reduce(0, +)
        }
        #expect(count("encoder") == 1_351_632 && count("decoder") == 2_044_531)
        #expect(shapes["autoencoder.latent_std"] == [16] && shapes.count == Set(shapes.keys).count)
    }
}

/// The autoencoder written again from `autoencoder.py` with the naive twins only
/// (`Naive.conv2d`, `Naive.channelRMSNorm`, `Naive.silu`, `Naive.upsampleBilinear2x`, sums in
/// Float64), reading the same typed weights: the oracle the fast path is checked against.
struct NaiveAutoencoder {
    let config: AutoencoderConfig
    let weights: AutoencoderWeights

    func conv(_ x: Tensor, _ c: Conv2DWeights, stride: Int = 1) -> Tensor {
        Naive.conv2d(x, weight: c.weight, bias: c.bias, stride: stride, padding: c.weight.shape[2] / 2)
    }

    func normSiLU(_ x: Tensor, _ weight: Tensor) -> Tensor {
        Naive.silu(Naive.channelRMSNorm(x, weight: weight, eps: Float(config.eps)))
    }

    func block(_ x: Tensor, _ b: AutoencoderResBlockWeights) -> Tensor {        // [B, c, H, W]
        let y = conv(normSiLU(x, b.norm1), b.conv1)
        return Naive.add(x, conv(normSiLU(y, b.norm2), b.conv2))
    }

    func channels(_ t: Tensor) -> Tensor { t.reshaped([1, config.latentChannels, 1, 1]) }

    func decode(_ latent: Tensor) -> Tensor {                                   // [B, C, h, w] normalised
        let d = weights.decoder
        var x = conv(Naive.add(Naive.mul(latent, channels(weights.latentStd)), channels(weights.latentMean)), d.convIn)
        for b in d.blocks0 { x = block(x, b) }
        for level in d.ups {
            x = conv(config.upsample == .bilinear ? Naive.upsampleBilinear2x(x) : Naive.upsampleNearest(x), level.conv)
            for b in level.blocks { x = block(x, b) }
        }
        x = conv(normSiLU(x, d.normOut), d.convOut)                                  // [B, 3, H, W]
        return Tensor(shape: x.shape, storage: x.storage.map { ($0 + 1) / 2 })
    }

    func encode(_ image: Tensor) -> Tensor {                                    // [B, 3, H, W] in [0, 1]
        let e = weights.encoder
        var x = Tensor(shape: image.shape, storage: image.storage.map { $0 * 2 - 1 })
        for level in e.levels {
            x = conv(x, level.down, stride: 2)
            for b in level.blocks { x = block(x, b) }
        }
        let raw = conv(normSiLU(x, e.normOut), e.convOut)                           // [B, C, h, w]
        return Naive.div(Naive.sub(raw, channels(weights.latentMean)), channels(weights.latentStd))
    }
}
