// RMS normalisation over the channel axis of NCHW tensors, per pixel.
//
// Shape legend:  B batch   C channels   P pixels per channel (H·W, or the product of all axes after C)
//
// The reference is the v2 autoencoder's `ChannelRMSNorm` (python/strobe_training/v2/autoencoder.py):
//
//     rms = torch.rsqrt(x.pow(2).mean(1, keepdim=True) + eps)    # [B, 1, H, W]
//     y   = (x * rms) * weight[None, :, None, None]              # [B, C, H, W]
//
// computed here in the same order: Σ_c x² in Float, divided by C (torch's mean is a sum, then a
// division), plus eps, then 1 / sqrt (torch's rsqrt on the CPU is a division by a square root),
// then x times that, then times the weight. The sum over channels follows torch's CPU reduction
// for pixels it vectorises (`multi_row_sum` in aten's SumKernel.cpp): channels are added in
// order into blocks of 16 and the block sums cascade into up to three further accumulators,
// so for most pixels the result is torch's to the bit; the last few pixels of each image, which
// torch reduces by another path, may differ in the last bit.

extension Ops {
    /// RMS normalisation over the channels of each pixel, as the v2 autoencoder's
    /// `ChannelRMSNorm`: `y[b, c, p] = (x[b, c, p] · 1/√(mean_c x[b, c, p]² + eps)) · weight[c]`.
    ///
    /// The result does not depend on the thread count. `Naive.channelRMSNorm` is the twin.
    ///
    /// - Parameters:
    ///   - x: `[B, C, ...]` (NCHW: `[B, C, H, W]`), at least two axes.
    ///   - weight: `[C]` or nil (no scaling).
    ///   - eps: added to the mean square.
    /// - Returns: the same shape as `x`.
    public static func channelRMSNorm(_ x: Tensor, weight: Tensor? = nil, eps: Float = 1e-6) -> Tensor {
        channelRMSNorm(x, weight: weight, eps: eps, thenSiLU: false)
    }

    /// `silu(channelRMSNorm(x, weight:, eps:))` in one pass over memory, equal to the two ops to
    /// the bit (the same lane-wise arithmetic): the v2 autoencoder's norm–SiLU pairs, which at
    /// full resolution are memory-bound. Twin: the composition of the two ops' naive twins.
    public static func channelRMSNormSiLU(_ x: Tensor, weight: Tensor? = nil, eps: Float = 1e-6) -> Tensor {
        channelRMSNorm(x, weight: weight, eps: eps, thenSiLU: true)
    }

    private static func channelRMSNorm(_ x: Tensor, weight: Tensor?, eps: Float, thenSiLU: Bool) -> Tensor {
        precondition(x.rank >= 2, "channelRMSNorm: input must be [B, C, ...], got \(x.shape)")
        let channels = x.shape[1]
        if let weight {
            precondition(weight.shape == [channels], "channelRMSNorm: weight \(weight.shape) should be [\(channels)] for input \(x.shape)")
        }
        guard x.count > 0 else { return x }
        let pixels = x.count / (x.shape[0] * channels)
        let groups = (pixels + 7) / 8  // lanes of 8 pixels per image
        let out = x.storage.withUnsafeBufferPointer { px in
            (weight?.storage ?? []).withUnsafeBufferPointer { pw in
                [Float](unsafeUninitializedCapacity: x.count) { po, initialized in
                    let src = UncheckedSendable(px.baseAddress!), dst = SharedPointer(po.baseAddress!)
                    let w = UncheckedSendable(weight == nil ? nil : pw.baseAddress)
                    Parallel.forEachChunk(count: x.shape[0] * groups, workPerItem: 8 * 4 * channels) { items in
                        for item in items {
                            let image = item / groups, p0 = (item % groups) * 8
                            let offset = image * channels * pixels + p0
                            ChannelNormKernel.run(
                                src.value + offset, dst.base + offset, lanes: min(8, pixels - p0),
                                channels: channels, stride: pixels, weight: w.value, eps: eps, thenSiLU: thenSiLU)
                        }
                    }
                    initialized = x.count
                }
            }
        }
        return Tensor(shape: x.shape, storage: out)
    }
}

/// One group of up to eight pixels of one image: their channel sums, then their outputs.
enum ChannelNormKernel {
    typealias V = FastMath.V

    static func run(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, lanes: Int, channels: Int, stride: Int,
        weight: UnsafePointer<Float>?, eps: Float, thenSiLU: Bool
    ) {
        @inline(__always) func load(_ c: Int) -> V {
            let row = x + c * stride
            if lanes == 8 { return UnsafeRawPointer(row).loadUnaligned(as: V.self) }
            var v = V()
            for i in 0..<lanes { v[i] = row[i] }
            return v
        }
        let sum = cascadeSum(count: channels) { c in let v = load(c); return v * v }
        let inv = 1 / (sum / Float(channels) + eps).squareRoot()  // [8]
        for c in 0..<channels {
            var v = load(c) * inv
            if let weight { v = v * weight[c] }
            if thenSiLU { v = SiLU()(v) }
            let row = y + c * stride
            if lanes == 8 {
                UnsafeMutableRawPointer(row).storeBytes(of: v, as: V.self)
            } else {
                for i in 0..<lanes { row[i] = v[i] }
            }
        }
    }

    /// `Σ_{i < count} term(i)` in torch's order for reductions over a strided axis
    /// (`multi_row_sum`): terms added in order into blocks of 2^L (L = max(4, ⌈log₂ count⌉ / 4)),
    /// each full block added into a cascade of three more accumulators that carry on when the
    /// index crosses a multiple of 2^(L·j); the remainder and the levels are added last.
    @inline(__always)
    static func cascadeSum(count: Int, _ term: (Int) -> V) -> V {
        let ceilLog2 = count <= 1 ? 0 : Int.bitWidth - (count - 1).leadingZeroBitCount
        let power = max(4, ceilLog2 / 4), step = 1 << power, mask = step - 1
        var acc = (V(), V(), V(), V())
        var i = 0
        while i + step <= count {
            for _ in 0..<step {
                acc.0 += term(i)
                i += 1
            }
            acc.1 += acc.0
            acc.0 = V()
            if i & (mask << power) != 0 { continue }
            acc.2 += acc.1
            acc.1 = V()
            if i & (mask << (2 * power)) != 0 { continue }
            acc.3 += acc.2
            acc.2 = V()
        }
        while i < count {
            acc.0 += term(i)
            i += 1
        }
        return ((acc.0 + acc.1) + acc.2) + acc.3
    }
}
