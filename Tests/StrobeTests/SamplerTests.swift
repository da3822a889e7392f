import Foundation
import Testing
@testable import Strobe

/// Time grids and sampler schedules against numbers computed with the Python reference.
@Suite struct SamplerTests {
    /// Made with `[float(np.float32((K - i) / K)) for i in range(K + 1)]`
    /// (python/strobe_reference/sampling.py `time_grid`).
    static let pythonGrids: [Int: [Float]] = [
        1: [1.0, 0.0],
        3: [1.0, 0.6666666865348816, 0.3333333432674408, 0.0],
        4: [1.0, 0.75, 0.5, 0.25, 0.0],
        7: [1.0, 0.8571428656578064, 0.7142857313156128, 0.5714285969734192, 0.4285714328289032,
            0.2857142984867096, 0.1428571492433548, 0.0],
        10: [1.0, 0.8999999761581421, 0.800000011920929, 0.699999988079071, 0.6000000238418579, 0.5,
             0.4000000059604645, 0.30000001192092896, 0.20000000298023224, 0.10000000149011612, 0.0],
    ]

    @Test func timeGridMatchesPython() {
        for (steps, expected) in Self.pythonGrids {
            #expect(TimeGrid.uniform(steps: steps) == expected, "grid for \(steps) steps")
        }
        // K = 100, a few entries: `g = time_grid(100); g[1], g[3], g[7], g[33], g[67], g[99]`.
        let grid = TimeGrid.uniform(steps: 100)
        let picks: [Int: Float] = [1: 0.9900000095367432, 3: 0.9700000286102295, 7: 0.9300000071525574,
                                   33: 0.6700000166893005, 67: 0.33000001311302185, 99: 0.009999999776482582]
        for (i, value) in picks { #expect(grid[i] == value, "t_\(i) of 100") }
        #expect(grid.count == 101 && grid.first == 1 && grid.last == 0)
    }

    /// Deltas in Float32: `np.float32(s) - np.float32(t)` for the first steps of the 100-grid.
    @Test func fullDeltasMatchPython() throws {
        let sampler = try FullSampler(steps: 100)
        let expected: [Float] = [-0.009999990463256836, -0.009999990463256836, -0.009999990463256836,
                                 -0.010000050067901611, -0.009999990463256836]
        #expect(Array(sampler.schedule.prefix(5).map(\.delta)) == expected)
        #expect(sampler.schedule.allSatisfy { $0.gap == 0 })
        #expect(sampler.steps == 100 && sampler.name == "full")
    }

    @Test func flashJumpsUseTheGap() throws {
        let sampler = try FlashSampler(steps: 4)
        #expect(sampler.schedule.map(\.t) == [1, 0.75, 0.5, 0.25])
        #expect(sampler.schedule.map(\.s) == [0.75, 0.5, 0.25, 0])
        #expect(sampler.schedule.map(\.gap) == [0.25, 0.25, 0.25, 0.25])
        #expect(sampler.schedule.allSatisfy { $0.gap == -$0.delta })
        #expect(sampler.name == "flash")
    }

    @Test func stepRanges() throws {
        #expect(throws: PipelineError.invalidSteps(sampler: "flash", steps: 11, allowed: 1...10)) {
            try FlashSampler(steps: 11)
        }
        #expect(throws: PipelineError.invalidSteps(sampler: "flash", steps: 0, allowed: 1...10)) {
            try SamplerKind.flash.sampler(steps: 0)
        }
        #expect(throws: PipelineError.invalidSteps(sampler: "full", steps: 1001, allowed: 1...1000)) {
            try FullSampler(steps: 1001)
        }
        #expect(try FullSampler(steps: 1000).schedule.count == 1000)
        #expect(try SamplerKind.full.sampler(steps: 1).steps == 1)
        #expect(PipelineError.invalidSteps(sampler: "flash", steps: 11, allowed: 1...10).description
            == "11 steps is out of range for the flash sampler (1...10)")
    }

    /// The loop the engine runs applies `x + delta · u` per step, calls back after each, and
    /// stops at the first error the callback throws.
    @Test func runLoopAppliesUpdates() async throws {
        let sampler = try FlashSampler(steps: 2)
        var seen: [Int] = []
        let x0 = await sampler.run(from: Tensor(shape: [1], storage: [1]), velocity: { x, _ in x }) { seen.append($0) }
        // x ← x + (−0.5)·x twice: 1 → 0.5 → 0.25.
        #expect(x0.storage == [0.25] && seen == [0, 1])
        var calls = 0
        await #expect(throws: PipelineError.cancelled) {
            _ = try await sampler.run(from: Tensor(shape: [1], storage: [1]), velocity: { (x, _) throws(PipelineError) in
                calls += 1
                return x
            }) { (_) async throws(PipelineError) in throw .cancelled }
        }
        #expect(calls == 1)
    }
}

@Suite struct SHA256Tests {
    /// FIPS 180-2 examples and `sha256sum` of a few messages.
    @Test func knownVectors() {
        func hex(_ text: String) -> String { SHA256.hash(Array(text.utf8)).hex }
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hash(million).hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Feeding the message in pieces of any size gives the one-shot digest.
    @Test func incrementalUpdates() {
        let message = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = SHA256.hash(message)
        for piece in [1, 3, 55, 56, 63, 64, 65, 200] {
            var hash = SHA256()
            for start in stride(from: 0, to: message.count, by: piece) {
                hash.update(Array(message[start..<min(start + piece, message.count)]))
            }
            #expect(hash.finalize() == whole, "pieces of \(piece)")
        }
        // Lengths around the padding boundary (`head -c N /dev/zero | tr '\0' a | sha256sum`).
        let boundary: [Int: String] = [
            55: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            56: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            63: "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            64: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            65: "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",
        ]
        for (length, expected) in boundary {
            #expect(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: length)).hex == expected, "\(length) bytes")
        }
    }

    /// Against coreutils' `sha256sum`, an independent implementation, on a file of about 1 MB.
    @Test func fileHashMatchesSha256sum() throws {
        let path = ModelParityTests.directory.appendingPathComponent("random.safetensors").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let expected = try #require(output.split(separator: " ").first.map(String.init))
        #expect(expected.count == 64)
        #expect(SHA256.hash(fileAt: path)?.hex == expected)
    }
}
