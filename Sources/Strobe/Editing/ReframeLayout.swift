/// Where a reframe's original and its output lie on the canvas the sampler works on.
///
/// A pixel-space model (v1) draws in 16-pixel patches, and its images step a little between
/// patches. Where the original's border with the drawn area falls on that grid, the blending's
/// step there adds to the model's own, and the border shows. On a dev set of 10 scenes (seed 777,
/// not the evaluation's), v1's local seam ratio along the border (the step across it over the
/// steps beside it) was 1.69–1.80 where the border fell on the patch grid (21:9 centred at
/// x = 176; 16:9 anchored left, x = 256) and 0.64–0.66 where it fell mid-patch (16:9 centred at
/// x = 104; canvases of 592 and 624 pixels centred at x = 168 and 184).
///
/// So for such a model the sampler works on a canvas one `multiple` wider (or taller) that puts
/// the borders mid-patch, the original placed there at its anchor's position plus a pad, and the
/// output is cut from it: the same size, anchor and pixels as without the pad; the cut-away strip
/// is drawn and discarded. It costs one more column (or row) of tokens, 2.6 % at v1's 21:9. On
/// the same dev set v1's 21:9 border went from 1.80 to 0.66 (seam ratio 1.18 to 0.57), and 16:9
/// anchored left from 1.69 to 0.66.
///
/// A latent model (v2) decodes its cells into pixels through a convolutional decoder: no grid of
/// its reaches the image, and the same shift by half a latent cell measured mixed (6 dev scenes,
/// the GPU sitting's v2, seam ratio 21:9 1.04 → 0.92, 16:9 0.65 → 0.84), so it gets no pad.
struct ReframeLayout: Equatable {
    /// The output canvas.
    let output: ImageSize
    /// The canvas the sampler works on: the output's, or one `multiple` wider and/or taller.
    let working: ImageSize
    /// The output's top-left corner on the working canvas.
    let outputX: Int, outputY: Int
    /// The original's top-left corner on the output canvas (the anchor's position).
    let originalX: Int, originalY: Int

    /// - Parameters:
    ///   - original: the original's size (its sides multiples of `grid`).
    ///   - canvas: the output canvas, which contains it.
    ///   - grid: the model's patch grid in pixels (v1's 16), or nil for a model whose grid does not
    ///     reach the image (v2): then the working canvas is the output's.
    ///   - multiple: what the working canvas's sides must be multiples of (a multiple of `grid`).
    ///   - maxSide: the longest side the model takes; no pad past it.
    init(original: ImageSize, canvas: ImageSize, anchor: Anchor, grid: Int?, multiple: Int, maxSide: Int) {
        let origin = anchor.origin(of: original, on: canvas)
        /// The pad before the output along one axis: puts the original's borders with the drawn
        /// area (those not on the canvas's edge) mid-patch.
        func pad(origin o: Int, length n: Int, canvas c: Int) -> Int {
            guard let grid, o > 0 || o + n < c else { return 0 }       // no grid, or no border on this axis
            let p = ((grid / 2 - o % grid) % grid + grid) % grid
            return p > 0 && c + multiple <= maxSide ? p : 0
        }
        let px = pad(origin: origin.x, length: original.width, canvas: canvas.width)
        let py = pad(origin: origin.y, length: original.height, canvas: canvas.height)
        output = canvas
        working = ImageSize(width: canvas.width + (px > 0 ? multiple : 0), height: canvas.height + (py > 0 ? multiple : 0))
        (outputX, outputY) = (px, py)
        (originalX, originalY) = origin
    }
}
