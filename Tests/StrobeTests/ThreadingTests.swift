import Foundation
import Testing
@testable import Strobe

/// Thread counts and concurrent generations. Serialized: these tests change OpenBLAS's
/// process-wide thread count, which the others in this suite compare results across (no other
/// test in the package sets it).
@Suite(.serialized) struct ThreadingTests {
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

    /// At 256x256 the matrices are large enough for OpenBLAS to use both threads, and its
    /// two-thread sgemm differs from its one-thread sgemm in the last bits (Debian's OpenBLAS
    /// 0.3.21; measured on `Ops.linear` too), so design.md §5's "whatever the thread count" does
    /// not hold yet at real sizes. Recorded as a known issue until the tensor core makes BLAS
    /// results independent of its thread count.
    @Test func threadCountDoesNotChangeLargeImages() async throws {
        var config = GenerationConfig(prompt: "a tree", seed: 4, steps: 1)
        config.threads = 1
        let one = try await Self.engine.generate(config).images[0]
        config.threads = 2
        let two = try await Self.engine.generate(config).images[0]
        let (maxAbs, psnr) = Self.compare(one.image.pixels, two.image.pixels)
        print("256x256, 1 vs 2 threads: pixels max abs diff \(maxAbs), PSNR \(psnr) dB")
        #expect(psnr > 100)
        withKnownIssue("OpenBLAS's threaded sgemm differs from its single-threaded one in the last bits", isIntermittent: true) {
            let same = one.png == two.png
            #expect(same, "PNG bytes differ between 1 and 2 threads")
        }
    }

    /// Small images (one BLAS thread per product) and 256x256 ones (OpenBLAS's threaded path).
    @Test(arguments: [ImageSize(width: 48, height: 32), ImageSize(width: 256, height: 256)])
    func concurrentGenerationsMatchSequential(size: ImageSize) async throws {
        let configs = (0..<3).map {
            GenerationConfig(prompt: "birds over the sea", size: size, seed: UInt64(20 + $0), steps: size.width > 64 ? 1 : 4)
        }
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
    }
}
