import StrobeBLAS
import StrobeKernels

// 2-D convolution, NCHW, fp32, as `torch.nn.functional.conv2d(x, weight, bias, stride, padding)`
// with one group and no dilation.
//
// Shape legend:
//   B  batch            Ci, Co  input and output channels     k  kernel side (square)
//   H, W  input side    Ho, Wo  output side = (H + 2p − k) / s + 1   (s stride, p zero padding)
//   K  = Ci·k·k, the inner dimension of the product      n  output pixels of one band = rows·Wo
//
// The fast path cuts each image's output into bands of whole output rows, packs the band's
// input patches into a matrix (im2col, `Im2Col.swift`) and multiplies it by the weight in one
// single-threaded sgemm:  out[b][Co, band] = weight[Co, K] · col[K, n] (+ bias).  Bands are
// spread over threads. Their size depends only on the shapes, and each band is one sgemm call,
// so the result is the same at any thread count. A 1×1 convolution with stride 1 and no
// padding reads the input directly, without packing. A 3×3, stride-1, padding-1 convolution
// with few output channels (at most `directMaxOutChannels`) on an AVX-512 CPU runs a direct
// kernel instead (`StrobeKernels/conv3x3.c`): there im2col + sgemm is memory-bound, each packed
// element feeding only Co multiply–adds.

/// The geometry of a 2-D convolution, checked once: NCHW input, `[Co, Ci, k, k]` weight.
public struct Conv2DShape: Sendable, Equatable {
    /// Images, input channels, input height and width.
    public let batch: Int, inChannels: Int, height: Int, width: Int
    /// Output channels, kernel side, stride and zero padding (the same on every side).
    public let outChannels: Int, kernel: Int, stride: Int, padding: Int
    /// Output height and width: `(side + 2·padding − kernel) / stride + 1`.
    public let outHeight: Int, outWidth: Int

    /// Checks the shapes of a convolution's operands and works out its output size.
    ///
    /// - Precondition: `input` is `[B, Ci, H, W]`, `weight` is `[Co, Ci, k, k]`, `bias` (if any)
    ///   is `[Co]`, `stride ≥ 1`, `padding ≥ 0`, and the padded input is at least `k` on each side.
    public init(input: [Int], weight: [Int], bias: [Int]? = nil, stride: Int, padding: Int) {
        precondition(input.count == 4, "conv2d: input must be [B, C, H, W], got \(input)")
        precondition(
            weight.count == 4 && weight[2] == weight[3] && weight[2] >= 1,
            "conv2d: weight must be [Co, Ci, k, k] with a square kernel, got \(weight)")
        precondition(
            weight[1] == input[1],
            "conv2d: weight \(weight) takes \(weight[1]) input channels, input \(input) has \(input[1])")
        precondition(stride >= 1 && padding >= 0, "conv2d: stride \(stride) must be ≥ 1 and padding \(padding) ≥ 0")
        if let bias {
            precondition(bias == [weight[0]], "conv2d: bias \(bias) should be [\(weight[0])] for weight \(weight)")
        }
        let k = weight[2]
        precondition(
            input[2] + 2 * padding >= k && input[3] + 2 * padding >= k,
            "conv2d: input \(input) padded by \(padding) is smaller than the \(k)x\(k) kernel")
        (batch, inChannels, height, width) = (input[0], input[1], input[2], input[3])
        (outChannels, kernel, self.stride, self.padding) = (weight[0], k, stride, padding)
        outHeight = (height + 2 * padding - k) / stride + 1
        outWidth = (width + 2 * padding - k) / stride + 1
    }

    /// `[B, Co, Ho, Wo]`.
    public var outShape: [Int] { [batch, outChannels, outHeight, outWidth] }

    /// The product's inner dimension `K = Ci·k·k`.
    public var patchSize: Int { inChannels * kernel * kernel }

    /// Multiply–adds of the whole convolution (`B·Co·Ho·Wo·K`); FLOPs are twice this.
    public var multiplyAdds: Int { batch * outChannels * outHeight * outWidth * patchSize }

    /// The most output channels the direct 3×3 kernel takes (above, im2col + sgemm is faster).
    static let directMaxOutChannels = 32

    /// Whether this convolution runs the direct 3×3 kernel (see the file's comment).
    var runsDirect: Bool {
        kernel == 3 && stride == 1 && padding == 1 && outChannels <= Self.directMaxOutChannels && inChannels > 0
            && strobe_conv3x3_available() != 0
    }

    /// Whether the input, seen as `[Ci, H·W]` per image, is already the packed matrix.
    var readsInputDirectly: Bool { kernel == 1 && stride == 1 && padding == 0 }

    /// Floats of one band's packed input (none when the input is read directly).
    var scratchCount: Int { readsInputDirectly ? 0 : patchSize * bandRows * outWidth }

    /// Output rows per band: a packed band of about 2^19 floats (2 MiB: at 512² the full-size
    /// levels get several rows per product, 10 % faster than 512 KiB), at least one row,
    /// and at least four bands per image when there are four rows. A function of the shape only.
    var bandRows: Int {
        let budget = max(1, (1 << 19) / max(1, patchSize * outWidth))
        return max(1, min(budget, (outHeight + 3) / 4))
    }
}

extension Ops {
    /// 2-D convolution of NCHW images, as `torch.nn.functional.conv2d(x, weight, bias,
    /// stride=stride, padding=padding)` (one group, no dilation, zero padding).
    ///
    /// Runs as im2col + sgemm on bands of output rows, in parallel, or (3×3, stride 1, padding 1,
    /// at most 32 output channels, on AVX-512) as a direct kernel over rows; the result does not
    /// depend on the thread count. `Naive.conv2d` is the direct-loop twin.
    ///
    /// - Parameters:
    ///   - x: `[B, Ci, H, W]`.
    ///   - weight: `[Co, Ci, k, k]`.
    ///   - bias: `[Co]` or nil.
    ///   - stride: step of the kernel in both directions (≥ 1).
    ///   - padding: zero rows and columns added on every side (≥ 0); `k / 2` keeps the size at stride 1.
    /// - Returns: `[B, Co, Ho, Wo]`, `Ho = (H + 2·padding − k) / stride + 1` (likewise `Wo`).
    public static func conv2d(
        _ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0
    ) -> Tensor {
        let g = Conv2DShape(input: x.shape, weight: weight.shape, bias: bias?.shape, stride: stride, padding: padding)
        let total = g.outShape.reduce(1, *)
        guard total > 0 else { return Tensor(shape: g.outShape) }
        guard g.patchSize > 0 else {  // no input channels: the output is the bias
            return Naive.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
        }
        if g.runsDirect { return directConv3x3(x, weight: weight, bias: bias, shape: g) }
        BLAS.prepare()
        let rows = g.bandRows, bands = (g.outHeight + rows - 1) / rows
        let out = x.storage.withUnsafeBufferPointer { px in
            weight.storage.withUnsafeBufferPointer { pw in
                (bias?.storage ?? []).withUnsafeBufferPointer { pb in
                    [Float](unsafeUninitializedCapacity: total) { po, initialized in
                        let src = UncheckedSendable(px.baseAddress!), w = UncheckedSendable(pw.baseAddress!)
                        let b = UncheckedSendable(bias == nil ? nil : pb.baseAddress)
                        let dst = SharedPointer(po.baseAddress!)
                        // One work item per band of one image: [Co, rows·Wo] outputs of K multiply–adds.
                        Parallel.forEachChunk(count: g.batch * bands, workPerItem: 2 * g.outChannels * rows * g.outWidth * g.patchSize) { items in
                            var scratch = [Float](repeating: 0, count: g.scratchCount)
                            scratch.withUnsafeMutableBufferPointer { ps in
                                for item in items {
                                    let image = item / bands, y0 = (item % bands) * rows
                                    convBand(
                                        g, rows: y0..<min(g.outHeight, y0 + rows),
                                        image: src.value + image * g.inChannels * g.height * g.width,
                                        weight: w.value, bias: b.value, out: dst.base + image * g.outChannels * g.outHeight * g.outWidth,
                                        scratch: ps.baseAddress)
                                }
                            }
                        }
                        initialized = total
                    }
                }
            }
        }
        return Tensor(shape: g.outShape, storage: out)
    }

    /// The direct 3×3 path: rows of each image spread over threads, each output computed by one
    /// chain of fused multiply–adds in a fixed order (the same at any thread count).
    private static func directConv3x3(_ x: Tensor, weight: Tensor, bias: Tensor?, shape g: Conv2DShape) -> Tensor {
        var packed = [Float](repeating: 0, count: (g.outChannels + 15) / 16 * g.inChannels * 9 * 16)
        weight.storage.withUnsafeBufferPointer { pw in
            packed.withUnsafeMutableBufferPointer { pp in
                strobe_conv3x3_pack(pw.baseAddress!, g.outChannels, g.inChannels, pp.baseAddress!)
            }
        }
        let total = g.outShape.reduce(1, *)
        let out = x.storage.withUnsafeBufferPointer { px in
            packed.withUnsafeBufferPointer { pp in
                (bias?.storage ?? []).withUnsafeBufferPointer { pb in
                    [Float](unsafeUninitializedCapacity: total) { po, initialized in
                        let src = UncheckedSendable(px.baseAddress!), w = UncheckedSendable(pp.baseAddress!)
                        let b = UncheckedSendable(bias == nil ? nil : pb.baseAddress)
                        let dst = SharedPointer(po.baseAddress!)
                        let (ci, co, h, wd) = (g.inChannels, g.outChannels, g.height, g.width)
                        Parallel.forEachChunk(count: g.batch * h, workPerItem: 2 * co * wd * ci * 9) { items in
                            for item in items {
                                let image = item / h, y = item % h
                                strobe_conv3x3_rows(
                                    src.value + image * ci * h * wd, ci, h, wd, w.value, b.value, co, y, y + 1,
                                    dst.base + image * co * h * wd)
                            }
                        }
                        initialized = total
                    }
                }
            }
        }
        return Tensor(shape: g.outShape, storage: out)
    }

    /// One band of output rows of one image: `out[Co, band]` (inside `[Co, Ho·Wo]`) from the
    /// image `[Ci, H, W]`: the bias, plus `weight[Co, K] · col[K, n]` in one sgemm call.
    private static func convBand(
        _ g: Conv2DShape, rows: Range<Int>, image: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>?
    ) {
        let plane = g.outHeight * g.outWidth, n = rows.count * g.outWidth, k = g.patchSize, co = g.outChannels
        let c = out + rows.lowerBound * g.outWidth  // [Co, n], row stride Ho·Wo
        let (col, ldCol): (UnsafePointer<Float>, Int)  // [K, n]
        if g.readsInputDirectly {
            (col, ldCol) = (image + rows.lowerBound * g.width, g.height * g.width)  // inside [Ci, H·W]
        } else {
            Im2Col.pack(g, image: image, rows: rows, into: scratch!)
            (col, ldCol) = (UnsafePointer(scratch!), n)
        }
        for o in 0..<co { (c + o * plane).update(repeating: bias?[o] ?? 0, count: n) }
        strobe_sgemm(0, 0, Int32(co), Int32(n), Int32(k), 1, weight, Int32(k), col, Int32(ldCol), 1, c, Int32(plane))
    }
}
