// Strobe's benchmarks for ordo-one/benchmark: one denoiser call at 256x256, flash 4 end to end,
// text encoding, and sgemm at a DiT shape and at 1024³. The model is the shipped default
// (Models/strobe-scenes.safetensors above the benchmark executable), or $STROBE_MODEL.
// Setup (loading the model, making inputs) happens outside the measured part.
import Benchmark
import Foundation
import Strobe
import StrobeBench
import StrobeTensor

/// The loaded engine, shared by the benchmarks.
let engine: StrobeEngine = {
    BLAS.prepare()
    do {
        return try StrobeEngine(modelPath: try ModelLocator.locate(explicit: nil))
    } catch {
        fatalError("StrobeBenchmarks: cannot load the model: \(error)")
    }
}()

let prompt = BenchSettings.defaultPrompts[0]

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .peakMemoryResident, .mallocCountTotal],
        warmupIterations: 2,
        maxDuration: .seconds(5),
        maxIterations: 50)

    Benchmark("denoiser call 256x256 (flash step 1 of 4)") { benchmark in
        guard let model = engine.model.pixel else { fatalError("the default model is a v1 (strobe-dit) model") }
        let denoiser = model.denoiser
        let conditioning = denoiser.prepare(text: engine.model.encodeText(try engine.tokenize(prompt)))
        let x = StrobeEngine.noise(seeds: [1], shape: [3, 256, 256])
        let beta = Float(1 / engine.metadata.samplerDefaults.guidance)
        // As the sampling loop runs it: buffers planned once, outside the measurement.
        let workspace = denoiser.makeWorkspace(batch: 1, height: 256, width: 256)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(denoiser.velocity(
                x: x, t: 1, gap: 0.25, beta: beta, conditioning: conditioning, workspace: workspace))
        }
    }

    Benchmark(
        "flash 4 end to end (prompt to PNG bytes)",
        configuration: .init(maxDuration: .seconds(8), maxIterations: 30)
    ) { benchmark in
        let config = GenerationConfig(prompt: prompt, seed: 1, sampler: .flash, steps: 4)
        for _ in benchmark.scaledIterations {
            blackHole(try await engine.generate(config).images[0].png.count)
        }
    }

    Benchmark("text encoding (tokenize and encode)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(engine.model.encodeText(try engine.tokenize(prompt)))
        }
    }

    Benchmark("sgemm DiT MLP fc1 256x256x1024 (Ops.linear)") { benchmark in
        let x = data([256, 256], seed: 1), weight = data([1024, 256], seed: 2), bias = data([1024], seed: 3)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(Ops.linear(x, weight: weight, bias: bias))
        }
    }

    Benchmark("sgemm 1024x1024x1024 (Ops.matmul)") { benchmark in
        let a = data([1024, 1024], seed: 4), b = data([1024, 1024], seed: 5)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(Ops.matmul(a, b))
        }
    }
}

/// Deterministic pseudo-random values in [−1, 1).
func data(_ shape: [Int], seed: UInt64) -> Tensor {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
    let values = (0..<shape.reduce(1, *)).map { _ -> Float in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(state >> 40) / Float(1 << 23) - 1
    }
    return Tensor(shape: shape, storage: values)
}
