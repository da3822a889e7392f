// GEMM benchmark: GFLOPS of the tensor core's matrix product at square sizes and at the shapes
// of a small DiT denoiser (hidden 512, 256 tokens, MLP ratio 4, batch 1, 64-wide heads), and
// the v2 decoder's 3×3 convolutions (ConvCases.swift).
//
// Usage: GEMMBenchmark [--threads N] [--json PATH] [--min-time SECONDS]
//
// Each case is set up outside the timed part, run twice to warm up, then timed over several
// runs (at least 5, and at least --min-time seconds in all); the median and the best are
// reported. FLOPs count 2·M·N·K per product.
import Foundation
import StrobeTensor

struct Options {
    var threads: Int?
    var jsonPath: String?
    var minTime = 1.0

    init(_ arguments: [String]) {
        var rest = arguments.dropFirst()
        while let argument = rest.popFirst() {
            switch argument {
            case "--threads":
                guard let value = rest.popFirst().flatMap(Int.init), value > 0 else { Options.fail("--threads needs a positive integer") }
                threads = value
            case "--json":
                guard let value = rest.popFirst() else { Options.fail("--json needs a path") }
                jsonPath = value
            case "--min-time":
                guard let value = rest.popFirst().flatMap(Double.init), value > 0 else { Options.fail("--min-time needs seconds") }
                minTime = value
            case "-h", "--help":
                print("usage: GEMMBenchmark [--threads N] [--json PATH] [--min-time SECONDS]")
                exit(0)
            default:
                Options.fail("unknown argument \(argument)")
            }
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("GEMMBenchmark: \(message)\n".utf8))
        exit(2)
    }
}

/// One benchmark case: a closure timed as a whole, and the FLOPs it performs.
struct Case {
    let name: String
    let shape: String
    let flops: Double
    let run: () -> Float  // returns an element of the result so the work cannot be skipped
}

struct Result {
    let name: String, shape: String
    let runs: Int
    let medianSeconds: Double, minSeconds: Double
    let flops: Double
    var medianGFLOPS: Double { flops / medianSeconds / 1e9 }
    var bestGFLOPS: Double { flops / minSeconds / 1e9 }
}

func seconds(_ duration: Duration) -> Double {
    let (s, attoseconds) = duration.components
    return Double(s) + Double(attoseconds) * 1e-18
}

func measure(_ c: Case, minTime: Double, sink: inout Float) -> Result {
    let clock = ContinuousClock()
    for _ in 0..<2 { sink += c.run() }  // warm-up
    var times: [Double] = []
    var total = 0.0
    while times.count < 5 || (total < minTime && times.count < 1000) {
        let start = clock.now
        sink += c.run()
        let t = seconds(clock.now - start)
        times.append(t)
        total += t
    }
    times.sort()
    return Result(
        name: c.name, shape: c.shape, runs: times.count, medianSeconds: times[times.count / 2],
        minSeconds: times[0], flops: c.flops)
}

/// Deterministic pseudo-random data in [-1, 1).
func data(_ shape: [Int], seed: UInt64) -> Tensor {
    var state = seed
    let count = shape.reduce(1, *)
    let values = (0..<count).map { _ -> Float in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(state >> 40) / Float(1 << 23) - 1
    }
    return Tensor(shape: shape, storage: values)
}

func matmulCase(_ name: String, m: Int, k: Int, n: Int, transposeB: Bool = false) -> Case {
    let a = data([m, k], seed: 1), b = data(transposeB ? [n, k] : [k, n], seed: 2)
    return Case(
        name: name, shape: "M=\(m) K=\(k) N=\(n)\(transposeB ? " (Bᵀ)" : "")", flops: 2 * Double(m * n * k),
        run: { Ops.matmul(a, b, transposeB: transposeB).storage[0] })
}

func linearCase(_ name: String, tokens: Int, inFeatures: Int, outFeatures: Int) -> Case {
    let x = data([tokens, inFeatures], seed: 3), w = data([outFeatures, inFeatures], seed: 4)
    let b = data([outFeatures], seed: 5)
    return Case(
        name: name, shape: "M=\(tokens) K=\(inFeatures) N=\(outFeatures)",
        flops: 2 * Double(tokens * inFeatures * outFeatures),
        run: { Ops.linear(x, weight: w, bias: b).storage[0] })
}

func attentionCase(tokens: Int, heads: Int, headDim: Int) -> Case {
    let width = heads * headDim
    let q = data([tokens, width], seed: 6), k = data([tokens, width], seed: 7), v = data([tokens, width], seed: 8)
    return Case(
        name: "attention (whole op)", shape: "L=\(tokens) H=\(heads) Dh=\(headDim)",
        flops: 4 * Double(tokens * tokens * width),
        run: { Ops.attention(q: q, k: k, v: v, heads: heads).storage[0] })
}

let options = Options(CommandLine.arguments)
let coreName = BLAS.prepare()
if let threads = options.threads { Parallel.threads = threads }
let coreTypeEnv = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "(unset)"
print("OpenBLAS core: \(coreName)   OPENBLAS_CORETYPE=\(coreTypeEnv)")
print("threads: \(Parallel.threads) (single-threaded BLAS calls on fixed tiles)")

let hidden = 512, tokens = 256
let cases: [Case] = [
    matmulCase("square", m: 1024, k: 1024, n: 1024),
    linearCase("DiT qkv (linear)", tokens: tokens, inFeatures: hidden, outFeatures: 3 * hidden),
    linearCase("DiT proj (linear)", tokens: tokens, inFeatures: hidden, outFeatures: hidden),
    linearCase("DiT mlp up (linear)", tokens: tokens, inFeatures: hidden, outFeatures: 4 * hidden),
    linearCase("DiT mlp down (linear)", tokens: tokens, inFeatures: 4 * hidden, outFeatures: hidden),
    matmulCase("attention QKᵀ per head", m: tokens, k: 64, n: tokens, transposeB: true),
    matmulCase("attention PV per head", m: tokens, k: tokens, n: 64),
    attentionCase(tokens: tokens, heads: hidden / 64, headDim: 64),
    matmulCase("square", m: 2048, k: 2048, n: 2048),
]

var sink: Float = 0
var results: [Result] = []
let header = "case".padding(toLength: 26, withPad: " ", startingAt: 0)
    + "shape".padding(toLength: 26, withPad: " ", startingAt: 0)
    + "median ms   best ms   median GFLOPS   best GFLOPS   runs"
print(header)
for c in cases {
    let r = measure(c, minTime: options.minTime, sink: &sink)
    results.append(r)
    let line = r.name.padding(toLength: 26, withPad: " ", startingAt: 0)
        + r.shape.padding(toLength: 26, withPad: " ", startingAt: 0)
        + String(format: "%9.3f %9.3f %15.1f %13.1f %6d", r.medianSeconds * 1e3, r.minSeconds * 1e3, r.medianGFLOPS, r.bestGFLOPS, r.runs)
    print(line)
}

// The non-BLAS ops at the denoiser's activation sizes, for scale (time only).
let x = data([tokens, hidden], seed: 9), wide = data([tokens, 4 * hidden], seed: 10)
let scores = data([8, tokens, tokens], seed: 11), gain = data([hidden], seed: 12)
let qk = data([tokens, hidden], seed: 13)
let rope = RotaryTable(rows: RotaryTable.gridPositions(height: 16, width: 16).rows,
                       columns: RotaryTable.gridPositions(height: 16, width: 16).columns, headDim: 64)
let image = data([3, 256, 256], seed: 14)
let opCases: [Case] = [
    Case(name: "layerNorm", shape: "[256, 512]", flops: 0) { Ops.layerNorm(x).storage[0] },
    Case(name: "rmsNorm", shape: "[256, 512]", flops: 0) { Ops.rmsNorm(x, weight: gain).storage[0] },
    Case(name: "modulate x*(1+s)+b", shape: "[256, 512]", flops: 0) { (x * (1 + gain) + gain).storage[0] },
    Case(name: "gelu", shape: "[256, 2048]", flops: 0) { Ops.gelu(wide).storage[0] },
    Case(name: "silu", shape: "[256, 2048]", flops: 0) { Ops.silu(wide).storage[0] },
    Case(name: "softmax", shape: "[8, 256, 256]", flops: 0) { Ops.softmax(scores).storage[0] },
    Case(name: "rope2D", shape: "[256, 8x64]", flops: 0) { Ops.applyRotary(qk, rope, heads: 8).storage[0] },
    Case(name: "patchify p=16", shape: "[3, 256, 256]", flops: 0) { Ops.patchify(image, patchSize: 16).storage[0] },
]
print("\nother ops                 shape                     median ms   best ms   runs")
for c in opCases {
    let r = measure(c, minTime: options.minTime / 4, sink: &sink)
    print(r.name.padding(toLength: 26, withPad: " ", startingAt: 0)
        + r.shape.padding(toLength: 26, withPad: " ", startingAt: 0)
        + String(format: "%9.3f %9.3f %6d", r.medianSeconds * 1e3, r.minSeconds * 1e3, r.runs))
}
results += runConvCases(minTime: options.minTime, sink: &sink)
if sink.isNaN { print("(checksum NaN)") }

if let path = options.jsonPath {
    func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
    let entries = results.map { r in
        "    {\"name\": \(quoted(r.name)), \"shape\": \(quoted(r.shape)), \"runs\": \(r.runs), "
            + "\"median_ms\": \(r.medianSeconds * 1e3), \"min_ms\": \(r.minSeconds * 1e3), "
            + "\"median_gflops\": \(r.medianGFLOPS), \"best_gflops\": \(r.bestGFLOPS)}"
    }
    let json = "{\n  \"openblas_core\": \(quoted(coreName)),\n  \"openblas_coretype_env\": \(quoted(coreTypeEnv)),\n"
        + "  \"threads\": \(Parallel.threads),\n"
        + "  \"results\": [\n" + entries.joined(separator: ",\n") + "\n  ]\n}\n"
    do {
        try json.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        Options.fail("cannot write \(path): \(error)")
    }
}
