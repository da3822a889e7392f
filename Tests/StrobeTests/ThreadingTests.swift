import Foundation
import Testing
@testable import Strobe

/// Thread counts and concurrent generations (docs/architecture.md, "Reproducibility": identical bytes whatever the thread
/// count). The tensor core runs single-threaded BLAS calls on fixed tiles side by side, so the
/// thread count cannot change any product.
@Suite struct ThreadingTests {
    static var engine: StrobeEngine { PipelineTests.engine }
    static var fixtureSize: ImageSize { PipelineTests.fixtureSize }
    static func compare(_ a: [Float], _ b: [Float]) -> (maxAbs: Float, psnr: Double) { PipelineTests.compare(a, b) }

    @Test func sameConfigGivesIdenticalBytes() async throws {
        var config = GenerationConfig(prompt: "a lighthouse on the left", size: Self.fixtureSize, seed: 7)
        config.threads = 1
        let one = try await Self.engine.generate(config).images[0].png
        config.threads = 2
        let two = try await Self.engine.generate(config).images[0].png
        let again = try await Self.engine.generate(config).images[0].png
        let sameAcrossThreads = one == two, sameAcrossRuns = two == again
        #expect(sameAcrossThreads, "1 thread vs 2 threads")
        #expect(sameAcrossRuns, "two runs")
        config.seed = 8
        let other = try await Self.engine.generate(config).images[0]
        let differs = other.png != two
        #expect(differs)
        #expect(other.image != (try PNGCodec.decode(two)).image)
    }

    /// At 256x256 the products are large enough to be split over both threads (OpenBLAS's own
    /// threaded sgemm differs from its single-threaded one in the last bits; Strobe's tiling
    /// must not).
    @Test func threadCountDoesNotChangeLargeImages() async throws {
        var config = GenerationConfig(prompt: "a tree", seed: 4, steps: 1)
        config.threads = 1
        let one = try await Self.engine.generate(config).images[0]
        config.threads = 2
        let two = try await Self.engine.generate(config).images[0]
        #expect(one.image.pixels == two.image.pixels, "pixels differ between 1 and 2 threads")
        let same = one.png == two.png
        #expect(same, "PNG bytes differ between 1 and 2 threads")
    }

    /// Eight tasks at once on one loaded engine give the images each gives alone, byte for byte.
    /// Small images (one tile per product) and 256x256 ones (several tiles per product); the
    /// tasks differ in prompt (one empty), seed, sampler and thread count, and two of them run
    /// the same configuration.
    @Test(arguments: [ImageSize(width: 48, height: 32), ImageSize(width: 256, height: 256)])
    func concurrentGenerationsMatchSequential(size: ImageSize) async throws {
        let prompts = ["birds over the sea", "a lighthouse on the left", "", "snowy peaks at dusk"]
        var configs = (0..<7).map { i in
            var config = GenerationConfig(
                prompt: prompts[i % prompts.count], size: size, seed: UInt64(20 + i), steps: size.width > 64 ? 1 : 4)
            config.sampler = i % 3 == 2 ? .full : .flash
            config.threads = 1 + i % 2
            return config
        }
        configs.append(configs[0])
        var sequential: [[UInt8]] = []
        for config in configs { sequential.append(try await Self.engine.generate(config).images[0].png) }
        let concurrent = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for (i, config) in configs.enumerated() {
                group.addTask { (i, try await Self.engine.generate(config).images[0].png) }
            }
            var out = [[UInt8]](repeating: [], count: configs.count)
            for try await (i, png) in group { out[i] = png }
            return out
        }
        let same = concurrent == sequential
        #expect(same)
        #expect(Set(sequential).count == 7, "the seven different configurations give seven different images")
    }
}
