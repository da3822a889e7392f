// Convolution cases: the fast conv2d (im2col + sgemm) at layers of the v2 decoder, against its
// naive twin and against one sgemm of the same M, N, K (what the packing and banding cost).
// FLOPs count 2·Co·Ho·Wo·Ci·k·k per image.
import Foundation
import StrobeTensor

/// One conv layer `[1, ci, side, side] → [1, co, side, side]`, 3×3, stride 1, padding 1.
struct ConvLayer {
    let name: String, ci: Int, co: Int, side: Int
    var shape: String { "\(ci)→\(co) 3x3 \(side)²" }
    var flops: Double { 2 * Double(co * side * side * ci * 9) }

    func fast() -> Case {
        let x = data([1, ci, side, side], seed: 20), w = data([co, ci, 3, 3], seed: 21), b = data([co], seed: 22)
        return Case(name: name, shape: shape, flops: flops) { Ops.conv2d(x, weight: w, bias: b, padding: 1).storage[0] }
    }

    func naive() -> Case {
        let x = data([1, ci, side, side], seed: 20), w = data([co, ci, 3, 3], seed: 21), b = data([co], seed: 22)
        return Case(name: name + " naive", shape: shape, flops: flops) { Naive.conv2d(x, weight: w, bias: b, padding: 1).storage[0] }
    }

    /// The product the fast path computes, as one matmul: weight [Co, K] · col [K, Ho·Wo].
    func sgemm() -> Case {
        let a = data([co, ci * 9], seed: 23), b = data([ci * 9, side * side], seed: 24)
        return Case(name: name + " sgemm", shape: "M=\(co) K=\(ci * 9) N=\(side * side)", flops: flops) {
            Ops.matmul(a, b).storage[0]
        }
    }
}

/// Times a slow case: one warm-up, then `runs` runs; median and best.
func measureSlow(_ c: Case, runs: Int, sink: inout Float) -> Result {
    let clock = ContinuousClock()
    sink += c.run()
    var times: [Double] = []
    for _ in 0..<runs {
        let start = clock.now
        sink += c.run()
        times.append(seconds(clock.now - start))
    }
    times.sort()
    return Result(name: c.name, shape: c.shape, runs: runs, medianSeconds: times[runs / 2], minSeconds: times[0], flops: c.flops)
}

/// The convolution table: each decoder layer fast and as one sgemm, the main layer also naive.
func runConvCases(minTime: Double, sink: inout Float) -> [Result] {
    let layers = [
        ConvLayer(name: "conv decoder 64→64", ci: 64, co: 64, side: 128),
        ConvLayer(name: "conv decoder 192→192", ci: 192, co: 192, side: 32),
        ConvLayer(name: "conv decoder 32→16", ci: 32, co: 16, side: 512),
        ConvLayer(name: "conv decoder 16→3", ci: 16, co: 3, side: 512),
    ]
    print("\nconvolution               shape                     median ms   best ms   median GFLOPS   best GFLOPS   runs")
    var results: [Result] = []
    func report(_ r: Result) {
        results.append(r)
        print(r.name.padding(toLength: 26, withPad: " ", startingAt: 0)
            + r.shape.padding(toLength: 26, withPad: " ", startingAt: 0)
            + String(format: "%9.3f %9.3f %15.1f %13.1f %6d", r.medianSeconds * 1e3, r.minSeconds * 1e3, r.medianGFLOPS, r.bestGFLOPS, r.runs))
    }
    for (i, layer) in layers.enumerated() {
        let fast = measure(layer.fast(), minTime: minTime, sink: &sink)
        report(fast)
        let gemm = measure(layer.sgemm(), minTime: minTime, sink: &sink)
        report(gemm)
        if i == 0 {
            let naive = measureSlow(layer.naive(), runs: 3, sink: &sink)
            report(naive)
            print(String(format: "  fast conv: %.1f× the naive twin", naive.medianSeconds / fast.medianSeconds))
        }
        print(String(format: "  fast conv: %.2f of one sgemm's rate at the same M, N, K", fast.medianGFLOPS / gemm.medianGFLOPS))
    }
    let x = data([1, 64, 128, 128], seed: 25), gain = data([64], seed: 26)
    let opCases: [Case] = [
        Case(name: "channelRMSNorm", shape: "[1, 64, 128, 128]", flops: 0) { Ops.channelRMSNorm(x, weight: gain).storage[0] },
        Case(name: "upsampleNearest 2×", shape: "[1, 64, 128, 128]", flops: 0) { Ops.upsampleNearest(x).storage[0] },
        Case(name: "silu", shape: "[1, 64, 128, 128]", flops: 0) { Ops.silu(x).storage[0] },
    ]
    for c in opCases {
        let r = measure(c, minTime: minTime / 4, sink: &sink)
        print(r.name.padding(toLength: 26, withPad: " ", startingAt: 0)
            + r.shape.padding(toLength: 26, withPad: " ", startingAt: 0)
            + String(format: "%9.3f %9.3f %6d", r.medianSeconds * 1e3, r.minSeconds * 1e3, r.runs))
    }
    return results
}
