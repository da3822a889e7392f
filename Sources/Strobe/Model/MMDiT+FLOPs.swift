// The arithmetic of one MMDiT call (MMDiT.swift), counted from the architecture as
// Denoiser+FLOPs.swift counts v1's: `strobe bench` uses the list to count FLOPs and to time
// sgemm at the same shapes.
//
// Shape legend
//   B   latents in the call     N = (h/p)·(w/p) image tokens     L   text tokens (with EOS)
//   T = L + N joint tokens      D   width; Hh heads of Dh        P, Pf  patch and fill features
//   M, Mt  the image and text MLP ratios                         E   sinusoid size

extension MMDiTConfig {
    /// Every matrix product of one MMDiT call on images of `width × height` pixels.
    ///
    /// - Parameters:
    ///   - images: latents `B` in the call.
    ///   - height: the image height in pixels (a multiple of 16·p).
    ///   - width: the image width in pixels (a multiple of 16·p).
    ///   - textLength: text tokens `L` (with EOS).
    ///   - prompts: prompts in the conditioning (1, or `images`): rows of the modulations.
    ///   - withFill: whether the call has a fill input (edits), which adds its projection.
    /// - Returns: the three scalar embedders, the patch (and fill) embedding; per block the two
    ///   modulations, the image and text projections to q, k, v (the last block's text to k, v),
    ///   per image and head QKᵀ `[T, Dh]·[Dh, T]` and P·V `[T, T]·[T, Dh]` (the last block's
    ///   queries are the N image tokens), the output projections and MLPs of both streams (the
    ///   last block's text stream has none); then the final modulation and linear. Not included:
    ///   the per-prompt work of ``MMDiT/prepare(texts:)`` (text pooling, the context embedding).
    public func matrixProducts(
        images: Int = 1, height: Int, width: Int, textLength: Int, prompts: Int = 1, withFill: Bool = false
    ) -> [MatrixProduct] {
        let side = AutoencoderConfig.factor * patchSize
        precondition(images >= 1 && textLength >= 1 && (prompts == 1 || prompts == images),
                     "matrixProducts: \(images) images, \(prompts) prompts, \(textLength) text tokens")
        precondition(height >= side && width >= side && height % side == 0 && width % side == 0,
                     "matrixProducts: \(width)x\(height) is not a multiple of \(side) pixels")
        let n = (height / side) * (width / side), l = textLength, t = n + l          // N, L, T
        let d = hiddenSize, dh = headDim, heads = numHeads, full = depth - 1          // blocks with a full text stream
        var products = [
            MatrixProduct(name: "embedders fc1", kind: .linear, m: 1, k: frequencyEmbeddingSize, n: d, count: 3),
            MatrixProduct(name: "embedders fc2", kind: .linear, m: 1, k: d, n: d, count: 3),
            MatrixProduct(name: "patch embedding", kind: .linear, m: images * n, k: patchFeatures, n: d, count: 1),
        ]
        if withFill && fill {
            products.append(MatrixProduct(name: "fill embedding", kind: .linear, m: images * n, k: fillFeatures, n: d, count: 1))
        }
        products += [
            MatrixProduct(name: "image modulation", kind: .linear, m: prompts, k: d, n: 6 * d, count: depth),
            MatrixProduct(name: "text modulation", kind: .linear, m: prompts, k: d, n: 6 * d, count: full),
            MatrixProduct(name: "last text modulation", kind: .linear, m: prompts, k: d, n: 2 * d, count: 1),
            MatrixProduct(name: "image qkv", kind: .linear, m: images * n, k: d, n: 3 * d, count: depth),
            MatrixProduct(name: "text qkv", kind: .linear, m: images * l, k: d, n: 3 * d, count: full),
            MatrixProduct(name: "last text kv", kind: .linear, m: images * l, k: d, n: 2 * d, count: 1),
            MatrixProduct(name: "joint QKᵀ", kind: .scores, m: t, k: dh, n: t, count: full * images * heads, group: heads),
            MatrixProduct(name: "joint P·V", kind: .values, m: t, k: t, n: dh, count: full * images * heads, group: heads),
            MatrixProduct(name: "last QKᵀ", kind: .scores, m: n, k: dh, n: t, count: images * heads, group: heads),
            MatrixProduct(name: "last P·V", kind: .values, m: n, k: t, n: dh, count: images * heads, group: heads),
            MatrixProduct(name: "image projection", kind: .linear, m: images * n, k: d, n: d, count: depth),
            MatrixProduct(name: "text projection", kind: .linear, m: images * l, k: d, n: d, count: full),
            MatrixProduct(name: "image MLP fc1", kind: .linear, m: images * n, k: d, n: mlpRatio * d, count: depth),
            MatrixProduct(name: "image MLP fc2", kind: .linear, m: images * n, k: mlpRatio * d, n: d, count: depth),
            MatrixProduct(name: "text MLP fc1", kind: .linear, m: images * l, k: d, n: textMLPRatio * d, count: full),
            MatrixProduct(name: "text MLP fc2", kind: .linear, m: images * l, k: textMLPRatio * d, n: d, count: full),
            MatrixProduct(name: "final modulation", kind: .linear, m: prompts, k: d, n: 2 * d, count: 1),
            MatrixProduct(name: "final linear", kind: .linear, m: images * n, k: d, n: patchFeatures, count: 1),
        ]
        return products
    }

    /// FLOPs of one call: the sum over ``matrixProducts(images:height:width:textLength:prompts:withFill:)``.
    public func flopsPerCall(
        images: Int = 1, height: Int, width: Int, textLength: Int, prompts: Int = 1, withFill: Bool = false
    ) -> Double {
        matrixProducts(images: images, height: height, width: width, textLength: textLength, prompts: prompts,
                       withFill: withFill).reduce(0) { $0 + $1.flops }
    }
}

extension ModelArchitecture {
    /// The matrix products of one denoiser call of this model on one image of `width × height`
    /// pixels with a prompt of `textLength` tokens (see ``DenoiserConfig`` and ``MMDiTConfig``'s lists).
    public func matrixProducts(height: Int, width: Int, textLength: Int) -> [MatrixProduct] {
        switch self {
        case .pixel(let config): config.denoiser.matrixProducts(height: height, width: width, textLength: textLength)
        case .latent(let config): config.denoiser.matrixProducts(height: height, width: width, textLength: textLength)
        }
    }

    /// FLOPs of one denoiser call: the sum over ``matrixProducts(height:width:textLength:)``.
    public func flopsPerCall(height: Int, width: Int, textLength: Int) -> Double {
        matrixProducts(height: height, width: width, textLength: textLength).reduce(0) { $0 + $1.flops }
    }
}
