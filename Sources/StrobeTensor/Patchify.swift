/// Image ⇄ token conversion for patch-based transformers.
///
/// Layout (shared with the PyTorch reference):
/// - tokens are the `(H/p)·(W/p)` patches in row-major order over (patch row, patch column):
///   token `t = ph·(W/p) + pw`;
/// - a token's features run over (channel, row in patch, column in patch):
///   feature `f = c·p·p + py·p + px`;
/// - so `tokens[t, f] = image[c, ph·p + py, pw·p + px]`, which in torch reads
///   `x.reshape(C, H/p, p, W/p, p).permute(1, 3, 0, 2, 4).reshape((H/p)*(W/p), C*p*p)`.
///
/// A batch of `B` images gives `B·N` tokens, image `b`'s first. The naive twins are
/// `Naive.patchify` and `Naive.unpatchify`.
public struct PatchLayout: Sendable, Equatable {
    /// Images, channels, height and width in pixels, patch side.
    public let batch: Int, channels: Int, height: Int, width: Int, patchSize: Int

    /// A layout; the patch size must divide both sides.
    public init(batch: Int = 1, channels: Int, height: Int, width: Int, patchSize p: Int) {
        precondition(
            batch >= 1 && channels >= 1 && p > 0 && height > 0 && width > 0 && height % p == 0 && width % p == 0,
            "patchify: patch size \(p) must divide \(batch) images of \(channels)x\(height)x\(width)")
        self.batch = batch
        self.channels = channels
        self.height = height
        self.width = width
        self.patchSize = p
    }

    /// Tokens per image `N = (H/p)·(W/p)`.
    public var tokensPerImage: Int { (height / patchSize) * (width / patchSize) }
    /// Features per token `P = C·p·p`.
    public var features: Int { channels * patchSize * patchSize }

    /// `images [B, C, H, W]` → `tokens [B·N, P]`.
    public func patchify(_ images: UnsafePointer<Float>, into tokens: UnsafeMutablePointer<Float>) {
        forEachRow { image, token, count in (tokens + token).update(from: images + image, count: count) }
    }

    /// `tokens [B·N, P]` → `images [B, C, H, W]`, the inverse of ``patchify(_:into:)``.
    public func unpatchify(_ tokens: UnsafePointer<Float>, into images: UnsafeMutablePointer<Float>) {
        forEachRow { image, token, count in (images + image).update(from: tokens + token, count: count) }
    }

    /// Visits every row of every patch: `copy(offset in the images, offset in the tokens, p)`.
    private func forEachRow(_ copy: (Int, Int, Int) -> Void) {
        let p = patchSize, columns = width / p, n = tokensPerImage
        for b in 0..<batch {
            for ph in 0..<(height / p) {
                for pw in 0..<columns {
                    let token = b * n + ph * columns + pw
                    for ch in 0..<channels {
                        for py in 0..<p {
                            let image = ((b * channels + ch) * height + ph * p + py) * width + pw * p
                            copy(image, token * features + (ch * p + py) * p, p)
                        }
                    }
                }
            }
        }
    }
}

extension Ops {
    /// `image [C, H, W]` → `tokens [N, P]`, or `images [B, C, H, W]` → `[B, N, P]` (layout of
    /// ``PatchLayout``).
    public static func patchify(_ image: Tensor, patchSize p: Int) -> Tensor {
        precondition(image.rank == 3 || image.rank == 4, "patchify: image must be [C, H, W] or [B, C, H, W], got \(image.shape)")
        let dims = image.rank == 4 ? image.shape : [1] + image.shape
        let layout = PatchLayout(batch: dims[0], channels: dims[1], height: dims[2], width: dims[3], patchSize: p)
        var out = Tensor(shape: (image.rank == 4 ? [dims[0]] : []) + [layout.tokensPerImage, layout.features])
        image.storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { layout.patchify(src.baseAddress!, into: $0.baseAddress!) }
        }
        return out
    }

    /// `tokens [N, P]` → `image [C, H, W]`, or `[B, N, P]` → `[B, C, H, W]`: the inverse of
    /// ``patchify(_:patchSize:)``.
    public static func unpatchify(
        _ tokens: Tensor, channels c: Int, height h: Int, width w: Int, patchSize p: Int
    ) -> Tensor {
        precondition(tokens.rank == 2 || tokens.rank == 3, "unpatchify: tokens must be [N, P] or [B, N, P], got \(tokens.shape)")
        let batch = tokens.rank == 3 ? tokens.shape[0] : 1
        let layout = PatchLayout(batch: batch, channels: c, height: h, width: w, patchSize: p)
        precondition(
            Array(tokens.shape.suffix(2)) == [layout.tokensPerImage, layout.features],
            "unpatchify: tokens \(tokens.shape) should be [\(layout.tokensPerImage), \(layout.features)] per image for C=\(c) H=\(h) W=\(w) p=\(p)")
        var out = Tensor(shape: (tokens.rank == 3 ? [batch] : []) + [c, h, w])
        tokens.storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { layout.unpatchify(src.baseAddress!, into: $0.baseAddress!) }
        }
        return out
    }
}
