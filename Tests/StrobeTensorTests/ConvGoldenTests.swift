import Foundation
import StrobeKernels
import StrobeTensor
import Testing

/// The conv fixture (`Fixtures/conv/golden.safetensors`, made by
/// `python -m strobe_tools.make_conv_fixtures`; see `Fixtures/conv/README.md`): F32 tensors by name
/// and the parameters of its `strobe.conv_fixtures` metadata.
struct ConvFixture: Sendable {
    struct Conv: Sendable { let stride: Int, padding: Int, bias: Bool }

    let tensors: [String: Tensor]
    /// Conv cases by name; channel norm eps by case name; the decoder's blocks per level, eps
    /// and upsampling mode (`"bilinear"` or `"nearest"`).
    let conv: [String: Conv], normEps: [String: Float], decoderBlocks: [Int], decoderEps: Float
    let decoderUpsample: String

    static let shared: ConvFixture = {
        let url = Bundle.module.url(forResource: "Fixtures/conv/golden", withExtension: "safetensors")!
        return ConvFixture(try! Data(contentsOf: url))
    }()

    /// Reads a safetensors file of F32 tensors (8-byte little-endian header length, JSON header, data).
    init(_ data: Data) {
        let bytes = [UInt8](data)
        let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try! JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as! [String: Any]
        var tensors: [String: Tensor] = [:]
        for (name, entry) in header where name != "__metadata__" {
            let entry = entry as! [String: Any]
            precondition(entry["dtype"] as! String == "F32", "\(name): fixture tensors are F32")
            let shape = entry["shape"] as! [Int], range = entry["data_offsets"] as! [Int]
            let start = 8 + length + range[0]
            let values = (0..<(range[1] - range[0]) / 4).map { i in
                Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[start + 4 * i + $1]) << (8 * $1) })
            }
            tensors[name] = Tensor(shape: shape, storage: values)
        }
        self.tensors = tensors
        let metadata = header["__metadata__"] as! [String: String]
        let cases = try! JSONSerialization.jsonObject(with: Data(metadata["strobe.conv_fixtures"]!.utf8)) as! [String: Any]
        conv = (cases["conv"] as! [String: [String: Any]]).mapValues {
            Conv(stride: $0["stride"] as! Int, padding: $0["padding"] as! Int, bias: $0["bias"] as! Bool)
        }
        normEps = (cases["norm"] as! [String: [String: Any]]).mapValues { Float($0["eps"] as! Double) }
        let decoder = cases["decoder"] as! [String: Any]
        decoderBlocks = decoder["decoder_blocks"] as! [Int]
        decoderEps = Float(decoder["eps"] as! Double)
        decoderUpsample = decoder["upsample"] as? String ?? "nearest"
    }

    subscript(_ name: String) -> Tensor {
        guard let t = tensors[name] else { fatalError("conv fixture has no tensor \(name)") }
        return t
    }
}

/// Largest |got − want| over max(1, largest |want|).
func scaledError(_ got: Tensor, _ want: Tensor) -> Float {
    maxAbsDiff(got, want) / max(1, maxAbs(want))
}

@Suite("Convolutional ops against PyTorch (golden fixtures)")
struct ConvGoldenTests {
    let fixture = ConvFixture.shared

    @Test("conv2d and its naive twin match torch.nn.functional.conv2d")
    func conv() {
        #expect(fixture.conv.count == 7)
        for (name, c) in fixture.conv.sorted(by: { $0.key < $1.key }) {
            let x = fixture["conv.\(name).x"], w = fixture["conv.\(name).weight"], want = fixture["conv.\(name).out"]
            let bias = c.bias ? fixture["conv.\(name).bias"] : nil
            let (s, p) = (c.stride, c.padding)
            let fast = Ops.conv2d(x, weight: w, bias: bias, stride: s, padding: p)
            let naive = Naive.conv2d(x, weight: w, bias: bias, stride: s, padding: p)
            #expect(fast.shape == want.shape, "\(name): shape \(fast.shape) vs torch \(want.shape)")
            let (eFast, eNaive) = (scaledError(fast, want), scaledError(naive, want))
            #expect(eFast <= 1e-5, "\(name): fast vs torch, max abs error \(eFast) of scale")
            #expect(eNaive <= 1e-5, "\(name): naive vs torch, max abs error \(eNaive) of scale")
        }
    }

    @Test("channel RMS norm matches the reference ChannelRMSNorm, mostly to the bit")
    func channelNorm() {
        for (name, eps) in fixture.normEps.sorted(by: { $0.key < $1.key }) {
            let x = fixture["norm.\(name).x"], w = fixture["norm.\(name).weight"], want = fixture["norm.\(name).out"]
            let fast = Ops.channelRMSNorm(x, weight: w, eps: eps)
            let naive = Naive.channelRMSNorm(x, weight: w, eps: eps)
            #expect(scaledError(fast, want) <= 1e-6, "\(name): fast vs torch, max abs error \(scaledError(fast, want)) of scale")
            #expect(scaledError(naive, want) <= 1e-6, "\(name): naive vs torch, max abs error \(scaledError(naive, want)) of scale")
            // Same formula and order of operations as torch: the pixels torch reduces in its
            // vectorised bulk path (the first 64·⌊P/64⌋ of each image, with AVX2 or AVX-512)
            // agree to the bit; the rest (its tail path adds channels in another order) within eps.
            let (channels, pixels) = (x.shape[1], x.shape[2] * x.shape[3])
            var mismatches = 0, bulk = 0
            for b in 0..<x.shape[0] {
                for c in 0..<channels {
                    for q in 0..<(pixels / 64 * 64) {
                        let i = (b * channels + c) * pixels + q
                        bulk += 1
                        if fast.storage[i] != want.storage[i] { mismatches += 1 }
                    }
                }
            }
            #expect(bulk > 0 && mismatches == 0, "\(name): \(mismatches) of \(bulk) bulk-path elements differ from torch")
        }
    }

    @Test("nearest 2× upsampling and SiLU match torch")
    func upsampleAndSiLU() {
        let up = fixture["up.out"]
        #expect(Ops.upsampleNearest(fixture["up.x"]) == up)
        #expect(Naive.upsampleNearest(fixture["up.x"]) == up)
        let silu = Ops.silu(fixture["silu.x"]), want = fixture["silu.out"]
        let worst = zip(silu.storage, want.storage).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst <= 1e-6, "silu: max relative error \(worst)")
    }

    @Test("bilinear 2× upsampling matches torch to the bit; its naive twin to 1e-6")
    func upsampleBilinear() {
        for name in ["odd", "even", "one"] {
            let x = fixture["bilinear.\(name).x"], want = fixture["bilinear.\(name).out"]
            let fast = Ops.upsampleBilinear2x(x), naive = Naive.upsampleBilinear2x(x)
            #expect(fast.shape == want.shape, "\(name): shape \(fast.shape) vs torch \(want.shape)")
            // The fixture was made by torch's AVX-512 kernel, which its compiler built with fused
            // multiply–adds; the Swift op does the same fused operations in the same order.
            let differing = zip(fast.storage, want.storage).filter { $0 != $1 }.count
            #expect(differing == 0, "\(name): \(differing) of \(want.count) elements differ from torch (max \(maxAbsDiff(fast, want)))")
            #expect(scaledError(naive, want) <= 1e-6, "\(name): naive vs torch, max abs error \(scaledError(naive, want)) of scale")
        }
        // Thread count: a tensor large enough to be split over threads gives the same bits.
        let big = Tensor(shape: [1, 8, 64, 48], storage: (0..<(8 * 64 * 48)).map { Float(sin(Double($0) * 0.37)) })
        let one = Parallel.withThreads(1) { Ops.upsampleBilinear2x(big) }
        let four = Parallel.withThreads(4) { Ops.upsampleBilinear2x(big) }
        #expect(one == four)
        #expect(scaledError(one, Naive.upsampleBilinear2x(big)) <= 1e-6)
        // The C row kernel's builds (AVX2 + FMA, and baseline with fmaf calls) agree to the bit.
        let rows = big.storage, w = 48
        let baseline = strobe_bilinear2x_row_variant("baseline")!
        for isa in ["avx2"] {
            guard let build = strobe_bilinear2x_row_variant(isa) else { continue }
            for r in stride(from: 0, to: 8 * 64 - 1, by: 37) {
                var (a, b) = ([Float](repeating: 0, count: 2 * w), [Float](repeating: 1, count: 2 * w))
                rows.withUnsafeBufferPointer { p in
                    baseline(p.baseAddress! + r * w, p.baseAddress! + (r + 1) * w, 0.75, 0.25, w, &a)
                    build(p.baseAddress! + r * w, p.baseAddress! + (r + 1) * w, 0.75, 0.25, w, &b)
                }
                #expect(a == b, "\(isa) and baseline differ on row \(r)")
            }
        }
    }

    @Test("a small v2 decoder built from the ops matches the reference Decoder")
    func decoder() {
        let (blocks, eps) = (fixture.decoderBlocks, fixture.decoderEps)
        func param(_ name: String) -> Tensor { fixture["decoder.param.\(name)"] }
        func conv(_ x: Tensor, _ name: String) -> Tensor {
            Ops.conv2d(x, weight: param(name + ".weight"), bias: param(name + ".bias"), padding: 1)
        }
        func normSiLU(_ x: Tensor, _ name: String) -> Tensor {
            Ops.silu(Ops.channelRMSNorm(x, weight: param(name + ".weight"), eps: eps))
        }
        func resBlock(_ x: Tensor, _ name: String) -> Tensor {                  // [B, c, H, W]
            let y = conv(normSiLU(x, name + ".norm1"), name + ".conv1")
            return x + conv(normSiLU(y, name + ".norm2"), name + ".conv2")
        }
        var x = conv(fixture["decoder.z"], "conv_in")                           // [1, 12, 3, 2]
        for j in 0..<blocks[0] { x = resBlock(x, "blocks0.\(j)") }
        for i in 1..<blocks.count {
            let up = fixture.decoderUpsample == "bilinear" ? Ops.upsampleBilinear2x(x) : Ops.upsampleNearest(x)
            x = conv(up, "ups.\(i - 1).conv")                                  // [1, c, 2·, 2·]
            for j in 0..<blocks[i] { x = resBlock(x, "ups.\(i - 1).blocks.\(j)") }
        }
        x = (conv(normSiLU(x, "norm_out"), "conv_out") + 1) / 2               // [1, 3, 48, 32]
        let want = fixture["decoder.out"]
        #expect(x.shape == [1, 3, 48, 32])
        #expect(scaledError(x, want) <= 1e-5, "decoder: max abs error \(scaledError(x, want)) of scale \(maxAbs(want))")
    }
}
