import Foundation

// Shape legend
//   B   images in one denoiser call    C   channels    H, W  image size in pixels
//   p   patch size                     N = (H/p)·(W/p) image tokens    P = C·p·p
//   D   denoiser width, Hh heads       M   MLP ratio
//   L   text tokens (with EOS)         Dt, Df, Ht  text width, feed-forward width, heads

/// How much memory one request needs on top of the loaded model, estimated from its plan and
/// the model's widths before any work starts.
///
/// Two moments can be the peak: the end, when every image's x₀, pixels and PNG are held, and
/// the sampling of the last batch, when every image's x₀ and the working set of the largest
/// stage are (one denoiser call on a batch, or encoding the prompt). A denoiser call holds its
/// images and the residual stream throughout, plus the largest of its phases: self-attention
/// (activations and scores, computed a group of heads at a time within a 16 MiB budget but
/// always at least one head's `N × N`), cross-attention, the MLP's hidden layer, or
/// (un)patchifying. Against the peak resident memory of real runs the estimate is a little
/// above what was used (docs/reliability.md, "Limits").
public struct MemoryEstimate: Sendable, Equatable, CustomStringConvertible {
    /// Images requested.
    public let count: Int
    /// Images per denoiser call.
    public let batch: Int
    /// Image size.
    public let size: ImageSize
    /// Bytes held at the end: x₀, pixels and PNG of every image.
    public let results: Int
    /// Bytes of the sampled images (x₀) held while the last batch is sampled.
    public let samples: Int
    /// Bytes of the largest stage's working set.
    public let workingSet: Int

    /// Bytes at the peak: while sampling the last batch (the earlier images' x₀ and the
    /// working set) or at the end (every image's results), whichever is more.
    public var total: Int { max(results, samples.addingClamped(workingSet)) }

    public var description: String {
        let images = count == 1 ? "1 image" : "\(count) images"
        return "\(images) of \(size); while sampling: \(Self.format(samples)) of sampled images and a "
            + "\(Self.format(workingSet)) working set for a batch of \(batch); at the end: \(Self.format(results)) of results"
    }

    private init(count: Int, batch: Int, size: ImageSize, results: Int, samples: Int, workingSet: Int) {
        (self.count, self.batch, self.size) = (count, batch, size)
        (self.results, self.samples, self.workingSet) = (results, samples, workingSet)
    }

    /// The same request sampled with `passes` denoisers side by side (an edit's guidance towards
    /// the prompt keeps a second one with its own buffers): the working set counted `passes` times.
    func withPasses(_ passes: Int) -> MemoryEstimate {
        MemoryEstimate(count: count, batch: batch, size: size, results: results, samples: samples,
                       workingSet: workingSet.multipliedClamped(by: max(passes, 1)))
    }

    /// Estimates a request for `count` images of `size`, `batch` per denoiser call, with a
    /// prompt of `textTokens` tokens (with EOS), on a model of `architecture`.
    public init(architecture: ArchitectureConfig, size: ImageSize, count: Int, batch: Int, textTokens: Int) {
        self.count = count
        self.batch = batch
        self.size = size
        let d = architecture.denoiser, t = architecture.text
        let float = MemoryLayout<Float>.size
        // Element counts in Int with saturating arithmetic: a request may be absurd.
        func product(_ factors: Int...) -> Int { factors.reduce(1) { $0.multipliedClamped(by: $1) } }
        let pixels = product(size.width, size.height)                               // H·W
        let image = product(d.channels, pixels)                                     // C·H·W
        let n = product(size.width / max(d.patchSize, 1), size.height / max(d.patchSize, 1))  // N
        let l = max(textTokens, 1)

        // Per image until the end: x₀ [C, H, W] and pixels [3, H, W] in fp32, and a PNG of at
        // most the raw bytes plus a filter byte per row and some chunk overhead.
        let png = product(3, pixels).addingClamped(size.height).addingClamped(64 << 10)
        samples = product(count, image, float)
        results = samples.addingClamped(product(count, product(3, pixels, float).addingClamped(png)))

        // One denoiser call on B images: what lives through the whole call (the sampler's x and
        // the call's input and output images, the residual stream and its normalised copy),
        // plus the largest of the block's phases, which do not overlap.
        let scoreBudget = AttentionLayout.defaultScoreBudget                        // floats
        func scores(_ rows: Int, _ columns: Int) -> Int {
            let perHead = product(rows, columns)
            let group = max(1, min(d.numHeads, scoreBudget / max(perHead, 1)))
            return product(group, perHead)
        }
        let tokens = product(batch, n)                                              // B·N
        let stream = product(3, batch, image).addingClamped(product(4, tokens, d.hiddenSize))
        let phases = [
            // self-attention: qkv, q, k and the output [B, N, D]; scores one image at a time
            product(6, tokens, d.hiddenSize).addingClamped(scores(n, n)),
            // cross-attention: the queries of all images against the text at once
            product(4, tokens, d.hiddenSize).addingClamped(scores(tokens, l)),
            // the MLP's hidden layer [B, N, M·D] and its GELU
            product(2, d.mlpRatio, tokens, d.hiddenSize),
            // (un)patchifying copies and the position tables
            product(4, batch, image).addingClamped(product(2, n, d.hiddenSize)),
        ]
        let denoiserFloats = stream.addingClamped(phases.max()!)
        // Encoding the prompt (before any image): activations [L, Dt], [L, Df] and scores [Ht, L, L].
        let textFloats = product(12, l, t.dModel)
            .addingClamped(product(3, l, t.dFF))
            .addingClamped(product(3, t.numHeads, l, l))
        // The prepared conditioning (keys and values per block) stays through the whole request.
        let conditioning = product(2, d.depth, l, d.hiddenSize)
        workingSet = product(max(denoiserFloats, textFloats).addingClamped(conditioning), float)
    }

    /// The estimate for a v2 (`strobe-mmdit`) model: latents `[C, H/16, W/16]` while sampling,
    /// the MMDiT call over `L + N` joint tokens (counted as the op-by-op reference path allocates,
    /// an upper bound for the planned workspace the engine uses), and the convolutional decoder at full
    /// resolution (which runs after sampling, one image at a time).
    public init(architecture: LatentArchitectureConfig, size: ImageSize, count: Int, batch: Int, textTokens: Int) {
        self.count = count
        self.batch = batch
        self.size = size
        let d = architecture.denoiser, t = architecture.text, f = architecture.latentFactor
        let float = MemoryLayout<Float>.size
        func product(_ factors: Int...) -> Int { factors.reduce(1) { $0.multipliedClamped(by: $1) } }
        let pixels = product(size.width, size.height)                               // H·W
        let latent = product(d.latentChannels, size.width / f, size.height / f)      // C·h·w
        let n = product(size.width / (f * d.patchSize), size.height / (f * d.patchSize))  // N
        let l = max(textTokens, 1), joint = n.addingClamped(l)                      // T = L + N

        let png = product(3, pixels).addingClamped(size.height).addingClamped(64 << 10)
        samples = product(count, latent, float)
        results = samples.addingClamped(product(count, product(3, pixels, float).addingClamped(png)))

        // One call on B latents, as the op-by-op path would allocate (an upper bound): the streams and their normalised, projected and
        // concatenated copies (about 16 of [B, T, D]), the MLP's hidden layer and its GELU, the
        // attention scores of one image's heads (as the attention op budgets them), the fill.
        let scoreBudget = AttentionLayout.defaultScoreBudget
        let perHead = product(joint, joint)
        let scores = product(max(1, min(d.numHeads, scoreBudget / max(perHead, 1))), perHead)
        let call = product(16, batch, joint, d.hiddenSize)
            .addingClamped(product(2, max(d.mlpRatio, d.textMLPRatio), batch, joint, d.hiddenSize))
            .addingClamped(scores).addingClamped(product(6, batch, latent))
        // The decoder of one image: its widest activations (16 channels at full size, the
        // bilinear upsampling's input and output, the convolution's im2col band) and the pixels.
        let decoder = product(4 * architecture.autoencoder.decoderChannels.last!, pixels).addingClamped(product(6, pixels))
        let textFloats = product(12, l, t.dModel)
            .addingClamped(product(3, l, t.dFF))
            .addingClamped(product(3, t.numHeads, l, l))
        let conditioning = product(l.addingClamped(1), d.hiddenSize)
        workingSet = product(max(call, decoder, textFloats).addingClamped(conditioning), float)
    }

    /// Bytes in binary units with one decimal (`"1.5 GiB"`).
    public static func format(_ bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f %@", value, units[unit])
    }
}

extension StrobeEngine {
    /// The memory a request for `count` images of `size` with a prompt of `textTokens` tokens
    /// (with EOS) needs on this engine (batches of up to ``maxBatch``), with `passes` network
    /// passes per step (``GenerationPlan/passesPerStep``).
    public func memoryEstimate(size: ImageSize, count: Int, textTokens: Int, passes: Int = 1) -> MemoryEstimate {
        let estimate = switch model.architecture {
        case .pixel(let config):
            MemoryEstimate(architecture: config, size: size, count: count, batch: min(maxBatch, count), textTokens: textTokens)
        case .latent(let config):
            MemoryEstimate(architecture: config, size: size, count: count, batch: min(maxBatch, count), textTokens: textTokens)
        }
        return estimate.withPasses(passes)
    }

    /// Refuses a request whose estimate exceeds the memory available now
    /// (``SystemMemory/available()``), instead of letting the system kill the process halfway.
    /// Nothing is refused when the available memory cannot be read.
    /// - Throws: ``PipelineError/insufficientMemory(estimate:available:)``.
    func checkMemory(size: ImageSize, count: Int, textTokens: Int, passes: Int = 1) throws(PipelineError) {
        let estimate = memoryEstimate(size: size, count: count, textTokens: textTokens, passes: passes)
        guard let available = SystemMemory.available(), estimate.total > available else { return }
        throw .insufficientMemory(estimate: estimate, available: available)
    }
}

fileprivate extension Int {
    /// `self × other`, saturating at `Int.max` (both non-negative).
    func multipliedClamped(by other: Int) -> Int {
        let (value, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? .max : value
    }

    /// `self + other`, saturating at `Int.max` (both non-negative).
    func addingClamped(_ other: Int) -> Int {
        let (value, overflow) = addingReportingOverflow(other)
        return overflow ? .max : value
    }
}
