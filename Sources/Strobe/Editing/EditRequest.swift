/// What to do with an image: modify it with a prompt, repaint a masked region, or reframe it to
/// another aspect ratio (``StrobeEngine/edit(_:progress:)``).
///
/// ```swift
/// let input = try InputImage.read(path: "lighthouse.png")
/// var request = EditRequest(input: input, operation: .modify(strength: 0.6))
/// request.config.prompt = "a lighthouse on the left at night"
/// let result = try await engine.edit(request)
/// ```
public struct EditRequest: Sendable {
    /// The image to start from.
    public var input: InputImage
    /// The edit.
    public var operation: EditOperation
    /// Prompt, seed, count, sampler, steps, threads, metadata and precision, as for text to
    /// image. `size` sets the working size of a modification or inpainting (default: the
    /// model's size for the input's nearest aspect ratio); `aspectRatio` is unused. An empty
    /// prompt means: the prompt the input records when Strobe made it, else none
    /// (unconditional); ``StrobeEngine/edit(_:progress:)`` reports which.
    public var config: GenerationConfig
    /// Extra guidance towards the prompt (``PromptGuidance``); nil: the operation's default,
    /// ``PromptGuidance/modifications`` for a modification, ``PromptGuidance/off`` for an
    /// inpainting (where it measured worse) and a reframe (which draws what continues the image,
    /// and refuses guidance). Without a prompt there is nothing to guide towards, and none is used.
    public var promptGuidance: PromptGuidance?
    /// An inpainting's layout steps (``PartialSampler``): the first quarter of its time in this
    /// many small steps, so the repainted region is laid out seeing the image; nil: the default,
    /// ``defaultLayoutSteps`` with the flash sampler (`n − ⌊calls/4⌋` more network calls, the
    /// calls' flash jumps that start above `¾·t₀` replaced: 3 more at 4 steps from strength 1) and none with the full
    /// sampler, whose steps are small already. 0 turns them off; a modification, a reframe or the
    /// full sampler takes no other value.
    public var layoutSteps: Int?

    /// An inpainting's layout steps with the flash sampler when ``layoutSteps`` is nil.
    public static let defaultLayoutSteps = 4
    /// The layout steps accepted.
    public static let layoutStepsRange = 0...16

    public init(input: InputImage, operation: EditOperation, config: GenerationConfig = GenerationConfig(prompt: ""),
                promptGuidance: PromptGuidance? = nil, layoutSteps: Int? = nil) {
        self.input = input
        self.operation = operation
        self.config = config
        self.promptGuidance = promptGuidance
        self.layoutSteps = layoutSteps
    }
}

/// The three edits.
public enum EditOperation: Sendable {
    /// Start from the input at time `strength` ∈ [0, 1] and sample to 0: 0 returns the input, 1
    /// ignores it. The flash sampler jumps over `linspace(strength, 0, k + 1)` with
    /// `k = max(1, ⌈strength · steps⌉)` network calls (TVM's flow map takes any start time, so
    /// strength is never snapped to the step grid); the full sampler likewise.
    case modify(strength: Double)
    /// Repaint where `mask` says (from time `strength`, default 1: from noise); elsewhere the
    /// output equals the (fitted) input exactly. The flash sampler runs ``EditRequest/layoutSteps``
    /// small steps over the first quarter of the time, then the jumps of `⌈strength · steps⌉` below it.
    case inpaint(mask: EditMask, strength: Double)
    /// Extend the image to `ratio` (or an explicit `size`), the original placed at `anchor`
    /// at its own size and kept unchanged; the new area is drawn from noise, the known region
    /// blended in at every step.
    case reframe(ratio: AspectRatio?, size: ImageSize?, anchor: Anchor)

    /// Whether this is an inpainting.
    var isInpaint: Bool { if case .inpaint = self { true } else { false } }

    /// The operation's name in metadata: `modify`, `inpaint` or `reframe`.
    public var name: String {
        switch self {
        case .modify: "modify"
        case .inpaint: "inpaint"
        case .reframe: "reframe"
        }
    }
}

/// Where the original sits in a reframed image.
public enum Anchor: String, CaseIterable, Codable, Sendable {
    case center, left, right, top, bottom
    case topLeft = "top-left", topRight = "top-right", bottomLeft = "bottom-left", bottomRight = "bottom-right"

    /// The original's top-left corner on a `canvas` for an original of `size`.
    func origin(of size: ImageSize, on canvas: ImageSize) -> (x: Int, y: Int) {
        let (dx, dy) = (canvas.width - size.width, canvas.height - size.height)
        let x: Int, y: Int
        switch self {
        case .left, .topLeft, .bottomLeft: x = 0
        case .right, .topRight, .bottomRight: x = dx
        default: x = dx / 2
        }
        switch self {
        case .top, .topLeft, .topRight: y = 0
        case .bottom, .bottomLeft, .bottomRight: y = dy
        default: y = dy / 2
        }
        return (x, y)
    }
}

/// Which pixels an inpainting may change: 1 = repaint, 0 = keep, in between = blend.
///
/// From a mask image, both conventions users bring: an image with transparent pixels follows
/// OpenAI's (transparent = edit: `1 − alpha`); an opaque image (an alpha plane that is opaque
/// everywhere included) is white on black (its luminance: white = edit).
public struct EditMask: Sendable, Equatable {
    /// Width and height in pixels.
    public let width: Int, height: Int
    /// Row-major, `width · height`, in [0, 1].
    public let values: [Float]

    /// A mask from values (clamped to [0, 1]).
    public init(width: Int, height: Int, values: [Float]) {
        precondition(values.count == width * height, "EditMask: \(values.count) values for \(width)x\(height)")
        self.width = width
        self.height = height
        self.values = values.map { $0.isNaN ? 0 : min(max($0, 0), 1) }
    }

    /// A mask read from an image (see the conventions above).
    public init(image: InputImage) {
        let picture = image.image
        let plane = picture.width * picture.height
        let values: [Float]
        // An alpha plane counts only when some pixel is transparent: editors often save a
        // white-on-black mask as RGBA with alpha 255 everywhere.
        if let alpha = image.alpha, alpha.contains(where: { $0 < 1 - 0.5 / 255 }) {
            values = alpha.map { 1 - $0 }
        } else {
            values = (0..<plane).map { i in
                0.2126 * picture.pixels[i] + 0.7152 * picture.pixels[plane + i] + 0.0722 * picture.pixels[2 * plane + i]
            }
        }
        self.init(width: picture.width, height: picture.height, values: values)
    }

    /// The mask resampled and cropped as ``RGBImage/fitted(to:)`` fits an image of its size;
    /// values below 1/255 become 0, so that what the mask keeps stays exact.
    func fitted(to size: ImageSize) -> EditMask {
        let image = try! RGBImage(width: width, height: height, pixels: values + values + values)
        let fitted = image.fitted(to: size)
        let plane = size.width * size.height
        return EditMask(width: size.width, height: size.height,
                        values: fitted.pixels.prefix(plane).map { $0 < 1.0 / 255 ? 0 : $0 })
    }
}
