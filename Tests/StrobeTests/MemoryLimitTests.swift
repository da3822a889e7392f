import Foundation
import Testing
@testable import Strobe

/// Requests that would need more memory than the machine has are refused before any work,
/// with the estimate in the message.
@Suite struct MemoryLimitTests {
    static let engine = PipelineTests.engine
    /// 256 images of 4096x4096 on the fixture model (patch 8: 262,144 tokens per image): the
    /// self-attention scores of one image alone are 275 GB.
    static let huge = GenerationConfig(prompt: "a lake", size: ImageSize(width: 4096, height: 4096), seed: 1, count: 256)

    @Test func hugeRequestIsRefusedWithTheEstimate() throws {
        let estimate = Self.engine.memoryEstimate(size: Self.huge.size!, count: 256, textTokens: 3)
        let total = try #require(SystemMemory.total())
        try #require(estimate.total > total, "this machine has \(total) bytes: the request would fit")
        let error = #expect(throws: PipelineError.self) { try Self.engine.plan(Self.huge) }
        guard case .insufficientMemory(let refused, let available)? = error else {
            Issue.record("expected insufficientMemory, got \(String(describing: error))")
            return
        }
        #expect(refused.count == 256 && refused.batch == 1 && refused.total > available)
        let message = error?.description ?? ""
        #expect(message.hasPrefix("this request needs about \(MemoryEstimate.format(refused.total)) of memory "
            + "(256 images of 4096x4096; while sampling: \(MemoryEstimate.format(refused.samples)) of sampled images and a "
            + "\(MemoryEstimate.format(refused.workingSet)) working set for a batch of 1; at the end: "
            + "\(MemoryEstimate.format(refused.results)) of results), but only \(MemoryEstimate.format(available)) "
            + "is available; ask for fewer or smaller images"), "\(message)")
    }

    @Test func commandLineRefusesHugeRequest() throws {
        let directory = try TemporaryFile.directory()
        let run = try CLITests.strobe(
            ["generate", "a lake", "--size", "4096x4096", "--count", "256", "-o", "big.png", "--model", CLITests.model],
            in: directory)
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("strobe: this request needs about "), "\(run.stderr)")
        #expect(run.stderr.contains("(256 images of 4096x4096; while sampling: ") && run.stderr.contains("is available"),
                "\(run.stderr)")
        #expect(try CLITests.files(directory).isEmpty)
    }

    /// Ordinary requests pass, and the estimate follows the request: results grow with the
    /// count, the working set with the batch and the size.
    @Test func estimateFollowsTheRequest() throws {
        let engine = Self.engine
        let small = engine.memoryEstimate(size: PipelineTests.fixtureSize, count: 1, textTokens: 8)
        #expect(small.total < 16 << 20, "\(small)")
        _ = try engine.plan(GenerationConfig(prompt: "a lake", size: PipelineTests.fixtureSize, count: 256))
        let square = ImageSize(width: 256, height: 256)
        let one = engine.memoryEstimate(size: square, count: 1, textTokens: 8)
        let four = engine.memoryEstimate(size: square, count: 4, textTokens: 8)
        #expect(four.results == 4 * one.results && four.workingSet == one.workingSet)
        let batched = try StrobeEngine(modelPath: PipelineTests.modelPath, maxBatch: 4)
            .memoryEstimate(size: square, count: 4, textTokens: 8)
        #expect(batched.batch == 4 && batched.results == four.results)
        #expect(batched.workingSet > one.workingSet, "activations grow with the batch (self-attention scores do not)")
        let larger = engine.memoryEstimate(size: ImageSize(width: 512, height: 512), count: 1, textTokens: 8)
        #expect(larger.workingSet > 4 * one.workingSet, "attention grows with the square of the tokens")
        // Absurd requests saturate instead of overflowing.
        let absurd = MemoryEstimate(architecture: try #require(engine.model.pixel).config,
                                    size: ImageSize(width: 1 << 40, height: 1 << 40), count: 1 << 40, batch: 1 << 40,
                                    textTokens: 1 << 40)
        #expect(absurd.total == .max)
        let absurdV2 = MemoryEstimate(architecture: MMDiTParityTests.model.config,
                                      size: ImageSize(width: 1 << 40, height: 1 << 40), count: 1 << 40, batch: 1 << 40,
                                      textTokens: 1 << 40)
        #expect(absurdV2.total == .max)
    }

    @Test func systemMemoryAndFormatting() throws {
        let total = try #require(SystemMemory.total())
        let available = try #require(SystemMemory.available())
        #expect(available > 0 && available <= total)
        #expect(MemoryEstimate.format(512) == "512 bytes")
        #expect(MemoryEstimate.format(1536) == "1.5 KiB")
        #expect(MemoryEstimate.format(3 << 30) == "3.0 GiB")
        #expect(MemoryEstimate.format(.max) == "8.0 EiB")
    }
}
