import Dispatch
import Foundation
import StrobeTensor
import Synchronization

// Shape legend
//   B   images in one denoiser call      C   channels
//   H, W  image height and width         L   prompt tokens (with EOS)   Dt  text width

/// A loaded model, ready to generate images: load once, generate many times.
///
/// ```swift
/// let engine = try StrobeEngine(modelPath: "Models/strobe-scenes.safetensors")
/// var config = GenerationConfig(prompt: "snowy peaks at dusk with a lake")
/// config.seed = 7
/// let result = try await engine.generate(config) { progress in
///     print("\(progress.completedCalls)/\(progress.totalCalls)")
///     return .proceed
/// }
/// try result.images[0].write(to: "peaks.png")
/// ```
///
/// The pipeline composes separate stages: ``Tokenizer`` → ``T5Encoder`` (text states) →
/// noise (``TorchGenerator``) → ``Sampler`` driving the denoiser (v1's ``Denoiser`` on pixels,
/// v2's ``MMDiT`` on latents) → ``ImageDecoder`` (v2: the autoencoder's decoder) →
/// ``PNGImageWriter``. Which model a file holds is read from it (``LoadedModel``).
///
/// ## Concurrency
/// The engine is immutable after loading (every stored property is a `let` of a `Sendable`
/// type: the model's fp32 weights, the tokenizer, whose processor is never mutated, and
/// stateless stages), so one engine may serve any number of concurrent ``generate(_:progress:)-(GenerationConfig,_)``
/// calls from different tasks. Each call owns its tensors; nothing is shared but read-only
/// weights; OpenBLAS accepts concurrent calls. Results do not depend on concurrency.
///
/// Threads: ``GenerationConfig/threads`` limits that call only (a task-local setting, for the
/// matrix products as for the element-wise ops), and results never depend on it: the tensor
/// core runs single-threaded BLAS calls on fixed tiles side by side.
public final class StrobeEngine: Sendable {
    /// The model: text encoder and denoiser (and, for v2, the autoencoder).
    public let model: LoadedModel
    /// The model's tokenizer.
    public let tokenizer: Tokenizer
    /// The model's Strobe metadata (sampler defaults, name).
    public let metadata: StrobeMetadata
    /// Identity and facts of the model file.
    public let info: ModelInfo
    /// Maps the sampler's x₀ to pixels (and, for editing, pixels into the sampler's space).
    public let decoder: any SampleSpace
    /// Encodes PNGs.
    public let writer: PNGImageWriter
    /// The most images one denoiser call takes (a batch `[B, C, H, W]`). 1 (the default)
    /// makes every image bit-identical to generating it alone. Larger batches raise the matrix
    /// sizes (faster on small images) but OpenBLAS chooses its kernels by matrix size, so an
    /// image may then differ from its single-image self in the last bits (PSNR > 100 dB).
    public let maxBatch: Int
    /// Prepared conditionings of recent prompts (16 MiB at most): a repeated prompt skips text
    /// encoding.
    let conditioningCache = ConditioningCache(capacityFloats: 4 << 20)

    /// Loads the model at `modelPath` (memory-maps and checks it, converts weights to fp32,
    /// loads the tokenizer, hashes the file). The mapping is released before this returns:
    /// the engine holds its own copies, so changing the file later cannot affect it.
    ///
    /// - Throws: ``PipelineError/modelNotFound(path:)``, ``PipelineError/weights(_:)`` (also for
    ///   a tokenizer that does not load, and for a file that changed while it was loading).
    public convenience init(modelPath: String, maxBatch: Int = 1) throws(PipelineError) {
        guard ModelLocator.exists(modelPath) else { throw .modelNotFound(path: modelPath) }
        let identity = FileIdentity(path: modelPath)
        // Hash the file on another thread while the weights are decoded.
        let digest = Mutex<String?>(nil)
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            let hex = SHA256.hash(fileAt: modelPath)?.hex
            digest.withLock { $0 = hex }
        }
        let file: WeightsFile
        do {
            file = try WeightsFile(path: modelPath)
        } catch {
            group.wait()
            throw .weights(error)
        }
        let model: LoadedModel
        do {
            model = try LoadedModel(weights: file)
        } catch {
            group.wait()
            throw .weights(error)
        }
        group.wait()
        guard let sha256 = digest.withLock({ $0 }) else {
            throw .weights(WeightsError(path: modelPath, problems: [.unreadable(reason: "could not read it to hash it")]))
        }
        do { try identity?.checkUnchanged(path: modelPath) } catch { throw .weights(error) }
        try self.init(file: file, model: model, sha256: sha256, maxBatch: maxBatch)
    }

    /// An engine for a model already loaded from `file`, whose SHA-256 is `sha256` (hex).
    public init(file: WeightsFile, model: LoadedModel, sha256: String, maxBatch: Int = 1) throws(PipelineError) {
        precondition(maxBatch >= 1, "StrobeEngine: maxBatch must be at least 1, got \(maxBatch)")
        guard let metadata = file.strobe else {
            throw .weights(WeightsError(path: file.path, problems: [.missingMetadata(key: StrobeMetadata.Key.formatVersion)]))
        }
        do {
            tokenizer = try Tokenizer(modelData: metadata.tokenizerModel)
        } catch {
            throw .weights(WeightsError(path: file.path, problems: [.invalidMetadataValue(
                key: StrobeMetadata.Key.tokenizer, reason: "not a SentencePiece model (\(error.message))")]))
        }
        // Every id the tokenizer can produce must have a row in the text encoder's embedding.
        let architecture = model.architecture
        guard tokenizer.vocabularySize <= architecture.text.vocabSize else {
            throw .weights(WeightsError(path: file.path, problems: [.invalidArchitecture(reason:
                "the tokenizer has \(tokenizer.vocabularySize) pieces, but text.vocab_size is \(architecture.text.vocabSize)")]))
        }
        self.model = model
        self.metadata = metadata
        self.info = ModelInfo(
            file: file, metadata: metadata, architecture: architecture, sha256: sha256,
            vocabularySize: tokenizer.vocabularySize)
        self.decoder = model.sampleSpace
        self.writer = PNGImageWriter()
        self.maxBatch = maxBatch
    }

    /// What image sides must be multiples of, in pixels: v1's patch (16), v2's latent patch (32).
    public var patchSize: Int { model.architecture.sideMultiple }
    /// The longest prompt in tokens, not counting the end-of-sequence token.
    public var maxPromptTokens: Int { model.architecture.maxPromptTokens }
    /// Whether the model takes a fill input (v2), which inpainting and reframing give it.
    var hasFillInput: Bool { model.latent?.config.denoiser.fill ?? false }

    /// The pixel size of `ratio` for this model (``ModelArchitecture/size(of:)``: about 256² for
    /// v1, 512² for v2).
    public func size(of ratio: AspectRatio) -> ImageSize {
        model.architecture.size(of: ratio)
    }

    /// Tokenizes `prompt` (with the end-of-sequence id) and checks its length.
    /// - Throws: ``PipelineError/promptTooLong(tokens:limit:)`` naming the count (without EOS)
    ///   and the limit; ``PipelineError/promptTooLarge(bytes:limit:)`` without tokenizing.
    public func tokenize(_ prompt: String) throws(PipelineError) -> [Int32] {
        let bytes = prompt.utf8.count
        guard bytes <= maxPromptBytes else { throw .promptTooLarge(bytes: bytes, limit: maxPromptBytes) }
        let ids = tokenizer.encode(prompt, addEOS: true)
        let count = ids.count - (tokenizer.eosID == nil ? 0 : 1)
        guard count <= maxPromptTokens else { throw .promptTooLong(tokens: count, limit: maxPromptTokens) }
        return ids
    }

    /// Checks `config` and resolves its defaults (steps, size, random seed) for this model.
    /// - Throws: the first problem: steps, size, count, threads, prompt (``checkPrompt(_:)``),
    ///   prompt length, or memory (``PipelineError/insufficientMemory(estimate:available:)``).
    public func plan(_ config: GenerationConfig) throws(PipelineError) -> GenerationPlan {
        let steps = config.steps ?? config.sampler.defaultSteps(metadata.samplerDefaults)
        let sampler = try config.sampler.sampler(steps: steps)
        let size = config.size ?? size(of: config.aspectRatio)
        let p = patchSize
        guard size.width >= p, size.height >= p, size.width % p == 0, size.height % p == 0,
              size.width <= GenerationConfig.maxSide, size.height <= GenerationConfig.maxSide
        else { throw .invalidSize(width: size.width, height: size.height, patchSize: p) }
        guard GenerationConfig.countRange.contains(config.count) else { throw .invalidCount(config.count) }
        if let threads = config.threads, !GenerationConfig.threadRange.contains(threads) { throw .invalidThreads(threads) }
        if let reason = config.precision.unsupportedReason { throw .unsupportedPrecision(config.precision, reason: reason) }
        try checkPrompt(config.prompt)
        let clock = ContinuousClock(), start = clock.now
        let ids = try tokenize(config.prompt)
        let tokenizeDuration = clock.now - start
        try checkMemory(size: size, count: config.count, textTokens: ids.count)
        let base = config.seed ?? UInt64.random(in: 0..<(1 << 32))
        return GenerationPlan(
            config: config, tokenIDs: ids, size: size,
            seeds: TorchGenerator.batchSeeds(base: base, count: config.count), sampler: sampler,
            guidance: metadata.samplerDefaults.guidance, tokenizeDuration: tokenizeDuration,
            promptTokenCount: ids.count - (tokenizer.eosID == nil ? 0 : 1))
    }

    /// Generates the images `config` asks for. See ``generate(_:progress:)-(GenerationPlan,_)``.
    public func generate(
        _ config: GenerationConfig, progress: ProgressHandler? = nil
    ) async throws(PipelineError) -> GenerationResult {
        try await generate(plan(config), progress: progress)
    }

    /// Runs a plan as ``generate(_:progress:)-(GenerationPlan,_)`` does, and hands `preview`
    /// the pictures of each batch after the steps in `previewSteps` (1-based; nil: every step)
    /// (``GenerationPreview``); only those steps pay for decoding. The images returned are the
    /// same with or without previews.
    public func generate(
        _ plan: GenerationPlan, progress: ProgressHandler? = nil, preview: PreviewHandler?,
        previewSteps: Set<Int>? = nil
    ) async throws(PipelineError) -> GenerationResult {
        try await run(plan, progress: progress, preview: preview, previewSteps: previewSteps)
    }

    /// Runs a plan: encodes the prompt once, then samples the images in batches of up to
    /// ``maxBatch``, decodes and PNG-encodes them (nothing is written to disk).
    ///
    /// `progress` is called after every network call and may cancel; task cancellation is
    /// honoured at the same points. Either way the call throws ``PipelineError/cancelled``
    /// promptly (after at most one more network call) and returns no image.
    public func generate(
        _ plan: GenerationPlan, progress: ProgressHandler? = nil
    ) async throws(PipelineError) -> GenerationResult {
        try await run(plan, progress: progress, preview: nil, previewSteps: nil)
    }

    /// The pipeline behind both `generate(plan)` entry points.
    private func run(
        _ plan: GenerationPlan, progress: ProgressHandler?, preview: PreviewHandler?, previewSteps: Set<Int>?
    ) async throws(PipelineError) -> GenerationResult {
        let clock = ContinuousClock(), start = clock.now
        var timings = StageTimings()
        timings.tokenize = plan.tokenizeDuration
        let threads = plan.config.threads
        /// Runs a stage limited to the requested thread count and adds its duration to `into`.
        func stage<R>(_ into: inout Duration, _ body: () throws(PipelineError) -> R) throws(PipelineError) -> R {
            let begin = clock.now
            defer { into += clock.now - begin }
            guard let threads else { return try body() }
            let result = Parallel.withThreads(threads) { () -> Result<R, PipelineError> in
                do throws(PipelineError) { return .success(try body()) } catch { return .failure(error) }
            }
            return try result.get()
        }
        func checkCancelled() throws(PipelineError) {
            if Task.isCancelled { throw .cancelled }
        }

        try checkCancelled()
        /// A prompt's conditioning, from the cache or encoded (the text encoder's stage).
        func prepare(_ ids: [Int32]) throws(PipelineError) -> PreparedPrompt {
            try stage(&timings.encodeText) { () throws(PipelineError) -> PreparedPrompt in
                if let cached = conditioningCache.value(for: ids) { return cached }
                let prepared = PreparedPrompt(model: model, ids: ids)                  // [L, Dt] → conditioning
                conditioningCache.insert(prepared, for: ids)
                return prepared
            }
        }
        let prompt = try prepare(plan.tokenIDs)
        // An edit's guidance towards the prompt: the empty prompt, for the second pass.
        let guidance = plan.edit?.guidance ?? .off
        var unconditional: PreparedPrompt?
        if let ids = plan.edit?.unconditionalIDs { unconditional = try prepare(ids) }
        let shape = decoder.sampleShape(for: plan.samplingSize)                            // [C, h, w]
        let beta = Float(1 / plan.guidance)
        let batches = stride(from: 0, to: plan.count, by: maxBatch).map { $0..<min($0 + maxBatch, plan.count) }
        let totalCalls = batches.count * plan.steps
        var samples: [Tensor] = []                                                 // x₀ per image, [C, h, w]
        var denoiser: BatchDenoiser?, unguided: BatchDenoiser?
        for batch in batches {
            try checkCancelled()
            let noise = try stage(&timings.noise) { () throws(PipelineError) -> Tensor in
                Self.noise(seeds: Array(plan.seeds[batch]), shape: shape)          // [B, C, h, w]
            }
            // Buffers are planned once and reused by every step and every batch of the same size
            // (only a smaller last batch gets its own).
            if denoiser?.batch != batch.count {
                denoiser = BatchDenoiser(
                    model: model, prompt: prompt, batch: batch.count, shape: shape, precision: plan.config.precision,
                    fill: plan.edit?.fill)
                unguided = unconditional.map {
                    BatchDenoiser(model: model, prompt: $0, batch: batch.count, shape: shape, precision: plan.config.precision,
                                  fill: plan.edit?.fill)
                }
            }
            let calls = denoiser!, unguidedCalls = unguided
            var callDurations: [Duration] = []
            let initial = plan.edit?.start(noise: noise) ?? noise
            var latest: (x: Tensor, u: Tensor, s: Float)?                         // for previews only
            let x0 = try await plan.sampler.run(from: initial) { (x, step) throws(PipelineError) -> Tensor in
                var call = Duration.zero
                defer { callDurations.append(call) }
                let u = try stage(&call) { () throws(PipelineError) -> Tensor in
                    let u = calls.velocity(x, step: step, beta: beta)                  // [B, C, h, w]
                    guard let unguidedCalls, guidance.guides(step.t) else { return u }
                    // u + g·(u − u(no prompt)), the second pass at β = 1 (dropped captions' β in training).
                    let empty = unguidedCalls.velocity(x, step: step, beta: 1)        // [B, C, h, w]
                    let g = Float(guidance.scale)
                    return u + (u - empty) * g
                }
                if preview != nil { latest = (x, u, step.s) }
                return u
            } adjust: { x, step in
                let adjusted = plan.edit?.constrain(x, noise: noise, s: step.s) ?? x
                if preview != nil, let last = latest { latest = (adjusted, last.u, last.s) }
                return adjusted
            } afterStep: { (index) async throws(PipelineError) in
                if let preview, let (x, u, s) = latest, previewSteps?.contains(index + 1) ?? true {
                    let estimate = s == 0 ? x : x - u * s                              // [B, C, H, W] at t = 0
                    var pictures: [RGBImage] = []
                    for part in Ops.split(estimate, parts: batch.count, axis: 0) {
                        let decoded = try decoder.decode(part.reshaped(shape))
                        // Seamless blending only for the last step's picture (the final image).
                        pictures.append(plan.edit?.composite(decoded, seamless: index + 1 == plan.steps) ?? decoded)
                    }
                    preview(GenerationPreview(step: index + 1, steps: plan.steps, images: batch, pictures: pictures))
                }
                let report = GenerationProgress(
                    step: index + 1, steps: plan.steps, images: batch,
                    completedCalls: timings.denoiserCalls.count + callDurations.count, totalCalls: totalCalls,
                    elapsed: clock.now - start)
                if let progress, progress(report) == .cancel { throw .cancelled }
                try checkCancelled()
                await Task.yield()
            }
            timings.denoiserCalls += callDurations
            samples += Ops.split(x0, parts: batch.count, axis: 0).map { $0.reshaped(shape) }
        }

        var images: [GeneratedImage] = []
        for (index, x0) in samples.enumerated() {
            try checkCancelled()
            var decodeTime = Duration.zero, pngTime = Duration.zero
            let image = try stage(&decodeTime) { () throws(PipelineError) -> RGBImage in
                let decoded = try decoder.decode(x0)
                return plan.edit?.composite(decoded) ?? decoded
            }
            var metadata = ImageMetadata(
                prompt: plan.prompt, seed: plan.seeds[index], sampler: plan.sampler.name, steps: plan.steps,
                width: image.width, height: image.height, guidance: plan.guidance, model: info.name,
                modelSHA256: info.sha256)
            if plan.config.precision != .fp32 { metadata.precision = plan.config.precision.rawValue }
            if let edit = plan.edit {
                metadata.operation = edit.operation
                metadata.inputSHA256 = edit.inputSHA256
                metadata.editSettings = edit.settings
            }
            let png = try stage(&pngTime) { () throws(PipelineError) -> [UInt8] in
                try writer.encode(image, metadata: plan.config.includeMetadata ? metadata : nil)
            }
            timings.decode.append(decodeTime)
            timings.png.append(pngTime)
            images.append(GeneratedImage(
                index: index, seed: plan.seeds[index], image: image, png: png, metadata: metadata))
        }
        timings.total = clock.now - start + plan.tokenizeDuration
        return GenerationResult(plan: plan, images: images, timings: timings)
    }

    /// The initial noise of a batch: image `i` is `torch.manual_seed(seeds[i]); torch.randn(shape)`,
    /// `[B, C, H, W]`.
    public static func noise(seeds: [UInt64], shape: [Int]) -> Tensor {
        var storage: [Float] = []
        storage.reserveCapacity(seeds.count * shape.reduce(1, *))
        for seed in seeds {
            var generator = TorchGenerator(seed: seed)
            storage += generator.randn(shape: shape).storage                       // [C, H, W]
        }
        return Tensor(shape: [seeds.count] + shape, storage: storage)
    }
}
