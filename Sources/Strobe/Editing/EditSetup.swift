import StrobeTensor

// Shape legend
//   C   channels of the sampler's state (3 for pixels, the latent channels for v2)
//   H, W  the working size in pixels;  h, w  the state's size (H, W, or H/16, W/16 for latents)

/// An edit resolved for the sampling loop (``GenerationPlan/edit``): the known image, where and
/// how much the sampler may change it, and the time sampling starts from.
public struct EditSetup: Sendable {
    /// `modify`, `inpaint` or `reframe`.
    public let operation: String
    /// The known image in the sampler's space (``SampleSpace/encode(_:)``), `[C, h, w]`.
    let known: Tensor
    /// The known image's pixels (the fitted input, or the reframe canvas with the original placed).
    let knownPixels: RGBImage
    /// Per cell of the state `[h·w]`, how much the sampler's state replaces the known one after
    /// each step but the last (the mask feathered inwards, averaged over each cell); nil:
    /// everywhere (a modification).
    let blend: [Float]?
    /// The fill input of a model that has one, `[C + 1, h, w]`: the known state where a cell is
    /// wholly outside the mask, then that keep map (1 where the content is given); nil for a
    /// modification or a model without fill.
    let fill: Tensor?
    /// Per pixel `[H·W]`, the final composite's weight of the generated image: 0 keeps the known
    /// pixel exactly; nil: the generated image as it is.
    let keep: [Float]?
    /// The time sampling starts from: `(1 − t₀)·known + t₀·noise`.
    public let startTime: Float
    /// SHA-256 of the input file.
    public let inputSHA256: String
    /// Settings recorded in the metadata (`strength`, `anchor`, the mask's size).
    public let settings: [String: String]
    /// The output's place on the canvas the sampler works on (``knownPixels``' size), when the
    /// output is only part of it (a reframe, ``ReframeLayout``); nil: the whole canvas.
    let outputRegion: (x: Int, y: Int, size: ImageSize)?

    /// Extra guidance towards the prompt (``PromptGuidance/off`` for none).
    public let guidance: PromptGuidance
    /// The empty prompt's token ids, for the guidance's second pass (nil without guidance).
    let unconditionalIDs: [Int32]?

    /// The size the sampler works at: the output's, or a reframe's larger working canvas.
    public var workingSize: ImageSize { ImageSize(width: knownPixels.width, height: knownPixels.height) }
    /// Where the prompt came from: `given`, `recorded in the input` or `none`.
    public let promptSource: String

    /// The starting point for `noise [B, C, H, W]`: `(1 − t₀)·known + t₀·noise`.
    func start(noise: Tensor) -> Tensor {
        let t0 = startTime, perImage = known.count
        var x = noise
        for i in 0..<x.storage.count { x.storage[i] = (1 - t0) * known.storage[i % perImage] + t0 * noise.storage[i] }
        return x
    }

    /// After the step that landed on time `s` > 0: the known region put back at its noise level,
    /// `x ← b·x + (1 − b)·((1 − s)·known + s·noise)`. The last step's output (`s` = 0) is left
    /// whole: it is the model's picture of the whole canvas, and ``composite(_:)`` puts the known
    /// pixels back and blends the drawn ones into them.
    func constrain(_ x: Tensor, noise: Tensor, s: Float) -> Tensor {
        guard let blend, s > 0 else { return x }
        let plane = blend.count
        var out = x
        let perImage = known.count
        for i in 0..<out.storage.count {
            let b = blend[i % plane]
            if b == 1 { continue }
            let k = known.storage[i % perImage]
            out.storage[i] = b * x.storage[i] + (1 - b) * ((1 - s) * k + s * noise.storage[i])
        }
        return out
    }

    /// The final image: `keep·(generated + D) + (1 − keep)·known`, exact where `keep` is 0, cut
    /// to ``outputRegion``. `D` is
    /// the seamless-blending correction over the pixels the sampler drew (`keep > 0`): it removes
    /// the step where they meet the known ones and keeps their gradients; the smooth part of the
    /// difference along the border goes through ``SeamBlend``, its fine part fades in over a band
    /// (``BorderBand``). `seamless` false leaves `D` out, for the previews after each step, which it
    /// would slow.
    func composite(_ generated: RGBImage, seamless: Bool = true) -> RGBImage {
        guard let keep else {
            precondition(outputRegion == nil, "composite: an output region without a mask")
            return generated
        }
        let plane = keep.count
        precondition(generated.width == knownPixels.width && generated.height == knownPixels.height,
                     "composite: a \(generated.width)x\(generated.height) image for a \(workingSize) canvas")
        let correction = seamless ? seamlessCorrection(generated, region: keep.map { $0 > 0 }) : nil  // [3, H, W]
        var pixels = generated.pixels
        for i in 0..<pixels.count {
            let w = keep[i % plane]
            let drawn = min(1, max(0, generated.pixels[i] + (correction?[i] ?? 0)))
            pixels[i] = w == 0 ? knownPixels.pixels[i] : w * drawn + (1 - w) * knownPixels.pixels[i]
        }
        let whole = try! RGBImage(width: generated.width, height: generated.height, pixels: pixels)
        guard let outputRegion else { return whole }
        return whole.cropped(x: outputRegion.x, y: outputRegion.y, size: outputRegion.size)
    }

    /// `D [3, H, W]` of ``composite(_:seamless:)`` over `region [H·W]`: the blending of the smooth
    /// difference along the border plus the fade of its fine part.
    private func seamlessCorrection(_ generated: RGBImage, region: [Bool]) -> [Float] {
        let (known, drawn) = (knownPixels.pixels, generated.pixels)
        let (w, h) = (generated.width, generated.height)
        let band = BorderBand.width(forWidth: w, height: h)
        let onRing = BorderBand.ring(region, width: w, height: h)
        let fine = BorderBand.fine(known: known, generated: drawn, onRing: onRing, width: w, height: h, band: band)
        let smooth = (0..<known.count).map { known[$0] - drawn[$0] - fine[$0] }          // [3, H, W]
        let blended = SeamBlend.correction(known: known, generated: drawn, region: region, width: w, height: h,
                                           boundary: smooth)
        let faded = BorderBand.fade(fine: fine, region: region, onRing: onRing, width: w, height: h, band: band)
        return zip(blended, faded).map { $0 + $1 }
    }

    /// - Parameters:
    ///   - space: the sampler's space, which encodes the known pixels.
    ///   - fill: whether the model takes a fill input (v2); used when there is a mask.
    ///   - outputRegion: the output's place on `knownPixels`' canvas, when it is only part of it.
    ///   - guidance, unconditionalIDs: extra guidance towards the prompt, and the empty prompt's ids.
    init(operation: String, knownPixels: RGBImage, mask: [Float]?, startTime: Float, inputSHA256: String,
         settings: [String: String], promptSource: String, space: any SampleSpace, fill: Bool,
         outputRegion: (x: Int, y: Int, size: ImageSize)? = nil, guidance: PromptGuidance = .off,
         unconditionalIDs: [Int32]? = nil, featherRadius: Int = 8) {
        precondition(guidance.scale == 0 || unconditionalIDs != nil, "EditSetup: guidance without the empty prompt's ids")
        let (width, height) = (knownPixels.width, knownPixels.height)
        self.operation = operation
        self.knownPixels = knownPixels
        self.known = space.encode(knownPixels)                                          // [C, h, w]
        self.keep = mask
        self.blend = mask.map {
            space.cellMeans(Self.featherInwards($0, width: width, height: height, radius: featherRadius),
                            width: width, height: height)
        }
        if fill, let mask {
            let given = space.cellMeans(mask, width: width, height: height).map { $0 == 0 ? Float(1) : 0 }  // [h·w]
            let plane = given.count
            var storage = known.storage.enumerated().map { $0.element * given[$0.offset % plane] }
            storage += given
            self.fill = Tensor(shape: [known.shape[0] + 1] + Array(known.shape.dropFirst()), storage: storage)
        } else {
            self.fill = nil
        }
        self.startTime = startTime
        self.inputSHA256 = inputSHA256
        self.settings = settings
        self.promptSource = promptSource
        self.outputRegion = outputRegion
        self.guidance = guidance
        self.unconditionalIDs = guidance.scale > 0 ? unconditionalIDs : nil
    }

    /// `mask · blur(mask)`: 0 wherever the mask is 0, ramping up over about `radius` pixels
    /// inside it, so the sampler's image meets the known one without a seam.
    static func featherInwards(_ mask: [Float], width: Int, height: Int, radius: Int) -> [Float] {
        guard radius > 0 else { return mask }
        var blurred = mask
        for _ in 0..<2 {
            blurred = boxBlur(blurred, width: width, height: height, radius: radius, horizontal: true)
            blurred = boxBlur(blurred, width: width, height: height, radius: radius, horizontal: false)
        }
        return zip(mask, blurred).map { m, b in m == 0 ? 0 : min(1, m * min(1, 2 * b)) }
    }

    private static func boxBlur(_ x: [Float], width: Int, height: Int, radius: Int, horizontal: Bool) -> [Float] {
        var out = x
        let (lines, length) = horizontal ? (height, width) : (width, height)
        for line in 0..<lines {
            func index(_ i: Int) -> Int { horizontal ? line * width + i : i * width + line }
            for i in 0..<length {
                var sum: Float = 0
                for j in (i - radius)...(i + radius) { sum += x[index(min(max(j, 0), length - 1))] }
                out[index(i)] = sum / Float(2 * radius + 1)
            }
        }
        return out
    }
}
