// Autoencoder benchmark: the v2 latent decoder (and encoder) of the Swift engine at a given size,
// with the standard configuration's channel widths (AutoencoderConfig.standard) and random
// weights, loaded through the real loader from a temporary weights file.
//
// Usage: AutoencoderBenchmark [--threads N] [--side PIXELS] [--runs N]
//
// Each measurement runs twice to warm up, then `--runs` times (default 7); median and best are
// reported. Setup (weights, inputs) is outside the timed part. The last table times the
// decoder's ops at their sizes, one kind at a time, to show where the time goes.
import Foundation
import Strobe
import StrobeTensor

struct Options {
    var threads: Int?
    var side = 512
    var runs = 7

    init(_ arguments: [String]) {
        var rest = arguments.dropFirst()
        func positive(_ name: String) -> Int {
            guard let value = rest.popFirst().flatMap(Int.init), value > 0 else { Options.fail("\(name) needs a positive integer") }
            return value
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--threads": threads = positive(argument)
            case "--side": side = positive(argument)
            case "--runs": runs = positive(argument)
            case "-h", "--help":
                print("usage: AutoencoderBenchmark [--threads N] [--side PIXELS] [--runs N]")
                exit(0)
            default: Options.fail("unknown argument \(argument)")
            }
        }
        if side % AutoencoderConfig.factor != 0 { Options.fail("--side must be a multiple of \(AutoencoderConfig.factor)") }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("AutoencoderBenchmark: \(message)\n".utf8))
        exit(2)
    }
}

/// Deterministic pseudo-random data in [-scale, scale).
func data(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var state = seed
    let values = (0..<shape.reduce(1, *)).map { _ -> Float in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (Float(state >> 40) / Float(1 << 23) - 1) * scale
    }
    return Tensor(shape: shape, storage: values)
}

/// Median and best seconds of `runs` timed calls after two warm-up calls.
func measure(runs: Int, _ body: () -> Float) -> (median: Double, best: Double) {
    let clock = ContinuousClock()
    var sink: Float = 0
    for _ in 0..<2 { sink += body() }
    var times: [Double] = []
    for _ in 0..<runs {
        let start = clock.now
        sink += body()
        let (s, atto) = (clock.now - start).components
        times.append(Double(s) + Double(atto) * 1e-18)
    }
    if sink.isNaN { print("(checksum NaN)") }
    times.sort()
    return (times[runs / 2], times[0])
}

func line(_ name: String, _ t: (median: Double, best: Double)) {
    print(name.padding(toLength: 44, withPad: " ", startingAt: 0) + String(format: "%10.1f %9.1f", t.median * 1e3, t.best * 1e3))
}

let options = Options(CommandLine.arguments)
let coreName = BLAS.prepare()
if let threads = options.threads { Parallel.threads = threads }
let config = AutoencoderConfig.standard

// Random weights, written to a temporary file and read back through LatentAutoencoder's loader.
var tensors: [String: WeightsWriter.Entry] = [:]
for (i, (name, shape)) in AutoencoderCheckpoint.expectedTensorShapes(for: config).sorted(by: { $0.key < $1.key }).enumerated() {
    let seed = UInt64(100 + i)
    let t: Tensor
    if shape.count == 4 {                                              // conv weight: variance 1 / fan-in
        t = data(shape, seed: seed, scale: (3 / Float(shape.dropFirst().reduce(1, *))).squareRoot())
    } else if name.hasSuffix("norm1.weight") || name.hasSuffix("norm2.weight") || name.hasSuffix("norm_out.weight")
        || name.hasSuffix("latent_std") {
        t = data(shape, seed: seed, scale: 0.2) + 1                     // around 1, positive
    } else {
        t = data(shape, seed: seed, scale: 0.1)                         // biases, latent mean
    }
    tensors[name] = .init(t)
}
let path = FileManager.default.temporaryDirectory.appendingPathComponent("strobe-ae-bench-\(getpid()).safetensors").path
try Data(WeightsWriter.encode(tensors: tensors, metadata: [:])).write(to: URL(fileURLWithPath: path))
let autoencoder = try LatentAutoencoder(file: try WeightsFile(path: path, requireStrobeMetadata: false), config: config)
try? FileManager.default.removeItem(atPath: path)

let side = options.side, h = side / AutoencoderConfig.factor
let latent = data([1, config.latentChannels, h, h], seed: 7)
let image = data([1, 3, side, side], seed: 8, scale: 0.5) + 0.5
print("OpenBLAS core: \(coreName)   threads: \(Parallel.threads)   image \(side)², latent [1, \(config.latentChannels), \(h), \(h)]")
print("decoder channels \(config.decoderChannels), blocks \(config.decoderBlocks), \(config.upsample) upsampling")
print("\n" + "measurement".padding(toLength: 44, withPad: " ", startingAt: 0) + " median ms   best ms")
line("decode (normalised latent → image)", measure(runs: options.runs) { autoencoder.decode(latent).storage[0] })
line("encode (image → normalised latent)", measure(runs: options.runs) { autoencoder.encode(image).storage[0] })

// Where the decoder's time goes: each kind of op at the sizes the decoder runs it.
var sizes: [(c: Int, side: Int)] = [(config.decoderChannels[0], h)]
for i in 1..<config.decoderChannels.count { sizes.append((config.decoderChannels[i], h << i)) }
let inputs = (0..<sizes.count).map { i in data([1, i == 0 ? sizes[0].c : sizes[i - 1].c, sizes[i].side / (i == 0 ? 1 : 2), sizes[i].side / (i == 0 ? 1 : 2)], seed: 30 + UInt64(i)) }
let blocks = config.decoderBlocks
line("  upsampling (4 × bilinear 2×)", measure(runs: options.runs) {
    (1..<sizes.count).map { Ops.upsampleBilinear2x(inputs[$0]).storage[0] }.reduce(0, +)
})
let activations = sizes.map { data([1, $0.c, $0.side, $0.side], seed: 50) }
let normWeights = sizes.map { data([$0.c], seed: 51) + 1 }
line("  norm + SiLU (every one the decoder runs)", measure(runs: options.runs) {
    var s: Float = 0
    for (i, x) in activations.enumerated() {
        let count = 2 * blocks[i] + (i == sizes.count - 1 ? 1 : 0)
        for _ in 0..<count { s += Ops.channelRMSNormSiLU(x, weight: normWeights[i]).storage[0] }
    }
    return s
})
line("  residual adds", measure(runs: options.runs) {
    activations.enumerated().map { i, x in (0..<blocks[i]).map { _ in (x + x).storage[0] }.reduce(0, +) }.reduce(0, +)
})
