// Naive twins of the convolutional ops: direct loops from the definitions, sums in Float64.

extension Naive {
    /// Twin of `Ops.conv2d`: for every output element, bias plus the sum over input channels
    /// and kernel positions that fall inside the input (the padding contributes zeros).
    ///
    /// `x [B, Ci, H, W]`, `weight [Co, Ci, k, k]`, `bias [Co]` → `[B, Co, Ho, Wo]`.
    public static func conv2d(
        _ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride s: Int = 1, padding p: Int = 0
    ) -> Tensor {
        let g = Conv2DShape(input: x.shape, weight: weight.shape, bias: bias?.shape, stride: s, padding: p)
        let (ci, h, w, k) = (g.inChannels, g.height, g.width, g.kernel)
        var out = Tensor(shape: g.outShape)
        var index = 0
        for b in 0..<g.batch {
            for o in 0..<g.outChannels {
                for oy in 0..<g.outHeight {
                    for ox in 0..<g.outWidth {
                        var sum = Double(bias?.storage[o] ?? 0)
                        for c in 0..<ci {
                            for ky in 0..<k {
                                let iy = oy * s - p + ky
                                guard iy >= 0 && iy < h else { continue }
                                for kx in 0..<k {
                                    let ix = ox * s - p + kx
                                    guard ix >= 0 && ix < w else { continue }
                                    sum += Double(x.storage[((b * ci + c) * h + iy) * w + ix])
                                        * Double(weight.storage[((o * ci + c) * k + ky) * k + kx])
                                }
                            }
                        }
                        out.storage[index] = Float(sum)
                        index += 1
                    }
                }
            }
        }
        return out
    }

    /// Twin of `Ops.channelRMSNorm`: `x / sqrt(mean_c x² + eps) · weight[c]` per pixel, in Float64.
    ///
    /// `x [B, C, ...]`, `weight [C]` → the shape of `x`.
    public static func channelRMSNorm(_ x: Tensor, weight: Tensor? = nil, eps: Float = 1e-6) -> Tensor {
        precondition(x.rank >= 2, "channelRMSNorm: input must be [B, C, ...], got \(x.shape)")
        let channels = x.shape[1]
        precondition(weight == nil || weight!.shape == [channels], "channelRMSNorm: weight should be [\(channels)]")
        guard x.count > 0 else { return x }
        let pixels = x.count / (x.shape[0] * channels)
        var out = x
        for b in 0..<x.shape[0] {
            for q in 0..<pixels {
                var squares = 0.0
                for c in 0..<channels {
                    let v = Double(x.storage[(b * channels + c) * pixels + q])
                    squares += v * v
                }
                let inv = 1 / (squares / Double(channels) + Double(eps)).squareRoot()
                for c in 0..<channels {
                    let i = (b * channels + c) * pixels + q
                    out.storage[i] = Float(Double(x.storage[i]) * inv * Double(weight?.storage[c] ?? 1))
                }
            }
        }
        return out
    }

    /// Twin of `Ops.upsampleNearest`: `out[..., y, x] = in[..., y / f, x / f]`.
    ///
    /// `x [..., H, W]` → `[..., f·H, f·W]`.
    public static func upsampleNearest(_ x: Tensor, factor f: Int = 2) -> Tensor {
        precondition(x.rank >= 2 && f >= 1, "upsampleNearest: input \(x.shape), factor \(f)")
        let h = x.shape[x.rank - 2], w = x.shape[x.rank - 1]
        var out = Tensor(shape: Array(x.shape.dropLast(2)) + [h * f, w * f])
        let planes = h * w == 0 ? 0 : x.count / (h * w)
        for plane in 0..<planes {
            for y in 0..<(h * f) {
                for xo in 0..<(w * f) {
                    out.storage[(plane * h * f + y) * w * f + xo] = x.storage[(plane * h + y / f) * w + xo / f]
                }
            }
        }
        return out
    }
}

extension Naive {
    /// Twin of `Ops.upsampleBilinear2x`, from the definition of bilinear interpolation with
    /// half-pixel centres: output index d of an axis of n inputs reads the source coordinate
    /// `s = (d + ½)/2 − ½` clamped to [0, n − 1], blending ⌊s⌋ and the next index by the
    /// fraction of s; the sum of the four weighted inputs in Float64.
    ///
    /// `x [..., H, W]` → `[..., 2H, 2W]`.
    public static func upsampleBilinear2x(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 2, "upsampleBilinear2x: input must be [..., H, W], got \(x.shape)")
        let h = x.shape[x.rank - 2], w = x.shape[x.rank - 1]
        var out = Tensor(shape: Array(x.shape.dropLast(2)) + [2 * h, 2 * w])
        /// The two source indices and the weight of the second, along an axis of `n`.
        func source(_ d: Int, _ n: Int) -> (Int, Int, Double) {
            let s = min(max((Double(d) + 0.5) / 2 - 0.5, 0), Double(n - 1))
            let lo = Int(s.rounded(.down))
            return (lo, min(lo + 1, n - 1), s - Double(lo))
        }
        let planes = h * w == 0 ? 0 : x.count / (h * w)
        for plane in 0..<planes {
            for oy in 0..<(2 * h) {
                let (y0, y1, fy) = source(oy, h)
                for ox in 0..<(2 * w) {
                    let (x0, x1, fx) = source(ox, w)
                    func at(_ y: Int, _ col: Int) -> Double { Double(x.storage[(plane * h + y) * w + col]) }
                    let value = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1))
                        + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1))
                    out.storage[(plane * 2 * h + oy) * 2 * w + ox] = Float(value)
                }
            }
        }
        return out
    }
}
