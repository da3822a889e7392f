import StrobeTensor

/// A prompt prepared for the model's denoiser: once per request, cached by token ids
/// (``ConditioningCache``) and reused by every step.
enum PreparedPrompt: Sendable {
    /// v1: the pooled text and each block's cross-attention keys and values.
    case cross(TextConditioning)
    /// v2: the pooled text and the text stream's input.
    case joint(JointTextConditioning)

    /// Encodes and prepares one prompt's token ids for `model`.
    init(model: LoadedModel, ids: [Int32]) {
        let text = model.encodeText(ids)                                            // [L, Dt]
        switch model {
        case .pixel(let m): self = .cross(m.denoiser.prepare(text: text))
        case .latent(let m): self = .joint(m.denoiser.prepare(text: text))
        }
    }

    /// Floats held, for the cache's accounting.
    var floatCount: Int {
        switch self {
        case .cross(let c): c.pooled.count + c.keys.reduce(0) { $0 + $1.count } + c.values.reduce(0) { $0 + $1.count }
        case .joint(let c): c.floatCount
        }
    }
}

/// The denoiser calls of one batch size: the model, the prepared prompt, the fill input of an
/// edit and the buffers planned once and reused by every step and every batch of that size. Not `Sendable`: it belongs to one sampling loop.
final class BatchDenoiser {
    private let model: LoadedModel
    private let prompt: PreparedPrompt
    private let fill: Tensor?
    private let workspace: DenoiserWorkspace?
    private let latentWorkspace: MMDiTWorkspace?
    /// Images per call.
    let batch: Int

    /// Calls for `batch` states of `shape` `[C, h, w]` with matrix products in `precision`;
    /// `fill [C + 1, h, w]` (v2 only) is given to every image of the batch.
    init(model: LoadedModel, prompt: PreparedPrompt, batch: Int, shape: [Int], precision: Precision, fill: Tensor?) {
        self.model = model
        self.prompt = prompt
        self.batch = batch
        if let fill {
            self.fill = Ops.concat(Array(repeating: fill.reshaped([1] + fill.shape), count: batch), axis: 0)  // [B, C + 1, h, w]
        } else {
            self.fill = nil
        }
        switch (model, prompt) {
        case (.pixel(let m), _):
            workspace = m.denoiser.makeWorkspace(batch: batch, height: shape[1], width: shape[2], precision: precision)
            latentWorkspace = nil
        case (.latent(let m), .joint(let conditioning)):
            workspace = nil
            latentWorkspace = m.denoiser.makeWorkspace(
                batch: batch, height: shape[1], width: shape[2], textLength: conditioning.length, precision: precision)
        case (.latent, .cross):
            preconditionFailure("BatchDenoiser: a prompt prepared for another model")
        }
    }

    /// The velocity of the states `x [B, C, h, w]` for `step`, at guidance input `beta`.
    func velocity(_ x: Tensor, step: SamplerStep, beta: Float) -> Tensor {
        switch (model, prompt) {
        case (.pixel(let m), .cross(let conditioning)):
            m.denoiser.velocity(
                x: x, t: step.t, gap: step.gap, beta: beta, conditioning: conditioning, workspace: workspace!)
        case (.latent(let m), .joint(let conditioning)):
            m.denoiser.velocity(
                z: x, t: step.t, gap: step.gap, beta: beta, conditioning: conditioning, fill: fill,
                workspace: latentWorkspace!)
        default:
            preconditionFailure("BatchDenoiser: a prompt prepared for another model")
        }
    }
}
