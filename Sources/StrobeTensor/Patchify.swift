/// Image ⇄ token conversion for patch-based transformers.
///
/// Layout (shared with the PyTorch reference):
/// - tokens are the `(H/p)·(W/p)` patches in row-major order over (patch row, patch column):
///   token `t = ph·(W/p) + pw`;
/// - a token's features run over (channel, row in patch, column in patch):
///   feature `f = c·p·p + py·p + px`;
/// - so `tokens[t, f] = image[c, ph·p + py, pw·p + px]`, which in torch reads
///   `x.reshape(C, H/p, p, W/p, p).permute(1, 3, 0, 2, 4).reshape((H/p)*(W/p), C*p*p)`.
extension Ops {
    /// `image [C, H, W]` -> `tokens [(H/p)·(W/p), C·p·p]` (layout above).
    public static func patchify(_ image: Tensor, patchSize p: Int) -> Tensor {
        precondition(image.rank == 3, "patchify: image must be [C, H, W], got \(image.shape)")
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        precondition(
            p > 0 && h % p == 0 && w % p == 0, "patchify: patch size \(p) does not divide image \(image.shape)")
        return image.reshaped([c, h / p, p, w / p, p])
            .permuted([1, 3, 0, 2, 4])
            .reshaped([(h / p) * (w / p), c * p * p])
    }

    /// `tokens [(H/p)·(W/p), C·p·p]` -> `image [C, H, W]`, the inverse of `patchify`.
    public static func unpatchify(
        _ tokens: Tensor, channels c: Int, height h: Int, width w: Int, patchSize p: Int
    ) -> Tensor {
        precondition(
            p > 0 && h % p == 0 && w % p == 0, "unpatchify: patch size \(p) does not divide \(h)x\(w)")
        precondition(
            tokens.shape == [(h / p) * (w / p), c * p * p],
            "unpatchify: tokens \(tokens.shape) should be [\((h / p) * (w / p)), \(c * p * p)] for C=\(c) H=\(h) W=\(w) p=\(p)")
        return tokens.reshaped([h / p, w / p, c, p, p])
            .permuted([2, 0, 3, 1, 4])
            .reshaped([c, h, w])
    }
}
