// The arithmetic of one denoiser call: every matrix product it performs, with its shape and how
// many times it runs, counted analytically from the architecture (Denoiser.swift,
// Denoiser+Blocks.swift). `strobe bench` uses the same list twice: to count the call's FLOPs and
// to time sgemm at exactly those shapes, so that the two rates it compares cover the same work.
//
// Shape legend
//   B   images in the call      N = (H/p)·(W/p) image tokens     P = C·p·p patch features
//   D   width                   Hh heads of Dh = D/Hh            L   text tokens (with EOS)
//   E   sinusoid size           M   MLP ratio                    depth  DiT blocks

/// One kind of matrix product in a network call: `count` products `[m, k] · [k, n]`.
///
/// FLOPs count `2·m·k·n` per product (a multiply and an add per term). Element-wise work
/// (norms, activations, softmax, RoPE, modulation) is not counted.
public struct MatrixProduct: Sendable, Equatable, Codable {
    /// How the engine runs the product.
    public enum Kind: String, Sendable, Equatable, Codable {
        /// A linear layer `x [m, k] · Wᵀ` with `W [n, k]` and a bias (`Ops.linear`): one call,
        /// whose output tiles are spread over the threads.
        case linear
        /// Attention scores `Q_h [m, k] · K_hᵀ` with `K_h [n, k]`, one single-threaded product
        /// per head and image, an image's `group` heads side by side.
        case scores
        /// Attention output `P_h [m, k] · V_h [k, n]`, one single-threaded product per head and
        /// image, an image's `group` heads side by side.
        case values
    }

    /// What the product is, e.g. `"self-attention qkv"`.
    public let name: String
    /// How the engine runs it.
    public let kind: Kind
    /// Rows of the output.
    public let m: Int
    /// The inner (summed) dimension.
    public let k: Int
    /// Columns of the output.
    public let n: Int
    /// How many such products one call performs in all (over blocks, heads and images).
    public let count: Int
    /// How many of them the engine runs side by side at once (an image's heads for attention,
    /// 1 for a linear layer, whose single product is itself split into tiles).
    public let group: Int

    public init(name: String, kind: Kind, m: Int, k: Int, n: Int, count: Int, group: Int = 1) {
        precondition(m >= 0 && k >= 0 && n >= 0 && count >= 0 && group >= 1,
                     "MatrixProduct \(name): m \(m), k \(k), n \(n), count \(count), group \(group)")
        self.name = name
        self.kind = kind
        self.m = m
        self.k = k
        self.n = n
        self.count = count
        self.group = group
    }

    /// FLOPs of one product, `2·m·k·n`.
    public var flopsPerProduct: Double { 2 * Double(m) * Double(k) * Double(n) }
    /// FLOPs of all `count` products.
    public var flops: Double { flopsPerProduct * Double(count) }
}

extension DenoiserConfig {
    /// Every matrix product of one denoiser call, as the engine performs it.
    ///
    /// - Parameters:
    ///   - images: images `B` in the call (one batch `[B, C, H, W]`).
    ///   - height: the image height in pixels (a multiple of the patch size).
    ///   - width: the image width in pixels (a multiple of the patch size).
    ///   - textLength: text tokens `L` the cross-attention attends to (with EOS).
    ///   - prompts: prompts in the conditioning (1, or `images`): rows of the per-call
    ///     conditioning MLPs (the time, gap and guidance embedders always run on one row).
    /// - Returns: per call, in order: the three scalar embedders (`fc1` `[1, E]·[E, D]`, `fc2`
    ///   `[1, D]·[D, D]`), the patch embedding `[B·N, P]·[P, D]`; per block the modulation
    ///   `[prompts, D]·[D, 6D]`, self-attention qkv `[B·N, D]·[D, 3D]`, per head and image QKᵀ
    ///   `[N, Dh]·[Dh, N]` and P·V `[N, N]·[N, Dh]`, the projection `[B·N, D]·[D, D]`,
    ///   cross-attention's query and projection (`[B·N, D]·[D, D]` each) and per head its QKᵀ
    ///   `[B·N, Dh]·[Dh, L]` and P·V `[B·N, L]·[L, Dh]` (with one prompt the images' queries share
    ///   one product per head), the MLP `[B·N, D]·[D, M·D]` and `[B·N, M·D]·[M·D, D]`; then the
    ///   final modulation `[prompts, D]·[D, 2D]` and the final linear `[B·N, D]·[D, P]`.
    ///   Not included: the text-dependent work the engine does once per prompt
    ///   (``Denoiser/prepare(text:)``: the text pooling and each block's cross-attention keys
    ///   and values).
    public func matrixProducts(images: Int = 1, height: Int, width: Int, textLength: Int, prompts: Int = 1)
        -> [MatrixProduct]
    {
        precondition(images >= 1 && textLength >= 1 && (prompts == 1 || prompts == images),
                     "matrixProducts: \(images) images, \(prompts) prompts, \(textLength) text tokens")
        precondition(height >= patchSize && width >= patchSize && height % patchSize == 0 && width % patchSize == 0,
                     "matrixProducts: \(width)x\(height) is not a multiple of the patch size \(patchSize)")
        let tokens = (height / patchSize) * (width / patchSize)                     // N
        let rows = images * tokens                                                  // B·N
        let d = hiddenSize, dh = headDim, heads = numHeads
        // Attention runs image by image, the heads of one image side by side. Cross-attention
        // with one prompt puts all images' queries through one product per head.
        let (crossRows, crossCalls) = prompts == 1 ? (rows, 1) : (tokens, images)
        return [
            MatrixProduct(name: "embedders fc1", kind: .linear, m: 1, k: frequencyEmbeddingSize, n: d, count: 3),
            MatrixProduct(name: "embedders fc2", kind: .linear, m: 1, k: d, n: d, count: 3),
            MatrixProduct(name: "patch embedding", kind: .linear, m: rows, k: patchFeatures, n: d, count: 1),
            MatrixProduct(name: "modulation", kind: .linear, m: prompts, k: d, n: 6 * d, count: depth),
            MatrixProduct(name: "self-attention qkv", kind: .linear, m: rows, k: d, n: 3 * d, count: depth),
            MatrixProduct(name: "self-attention QKᵀ", kind: .scores, m: tokens, k: dh, n: tokens,
                          count: depth * images * heads, group: heads),
            MatrixProduct(name: "self-attention P·V", kind: .values, m: tokens, k: tokens, n: dh,
                          count: depth * images * heads, group: heads),
            MatrixProduct(name: "self-attention projection", kind: .linear, m: rows, k: d, n: d, count: depth),
            MatrixProduct(name: "cross-attention query", kind: .linear, m: rows, k: d, n: d, count: depth),
            MatrixProduct(name: "cross-attention QKᵀ", kind: .scores, m: crossRows, k: dh, n: textLength,
                          count: depth * crossCalls * heads, group: heads),
            MatrixProduct(name: "cross-attention P·V", kind: .values, m: crossRows, k: textLength, n: dh,
                          count: depth * crossCalls * heads, group: heads),
            MatrixProduct(name: "cross-attention projection", kind: .linear, m: rows, k: d, n: d, count: depth),
            MatrixProduct(name: "MLP fc1", kind: .linear, m: rows, k: d, n: mlpRatio * d, count: depth),
            MatrixProduct(name: "MLP fc2", kind: .linear, m: rows, k: mlpRatio * d, n: d, count: depth),
            MatrixProduct(name: "final modulation", kind: .linear, m: prompts, k: d, n: 2 * d, count: 1),
            MatrixProduct(name: "final linear", kind: .linear, m: rows, k: d, n: patchFeatures, count: 1),
        ]
    }

    /// FLOPs of one denoiser call: the sum over ``matrixProducts(images:height:width:textLength:prompts:)``.
    public func flopsPerCall(images: Int = 1, height: Int, width: Int, textLength: Int, prompts: Int = 1) -> Double {
        matrixProducts(images: images, height: height, width: width, textLength: textLength, prompts: prompts)
            .reduce(0) { $0 + $1.flops }
    }
}
