import Foundation
import Testing
@testable import Strobe

/// Golden values from `python/strobe_tools/make_rng_fixture.py` (see Fixtures/rng/README.md).
struct TorchRandnFixture: Decodable {
    struct Case: Decodable, CustomTestStringConvertible {
        var seed: String
        var n: Int
        var head: [UInt32]
        var tail: [UInt32]
        var sum: Double
        var testDescription: String { "seed \(seed), n \(n)" }
    }
    struct Sequence: Decodable {
        var seed: String
        var counts: [Int]
        var head: [UInt32]
        var tail: [UInt32]
        var sum: Double
    }
    struct Kernel: Decodable {
        var capability: String
        var cases: [Case]
        var sequences: [Sequence]
    }
    var torch: String
    var kernels: [String: Kernel]

    static let shared: TorchRandnFixture = {
        let url = Bundle.module.url(forResource: "Fixtures/rng/torch_randn", withExtension: "json")!
        return try! JSONDecoder().decode(TorchRandnFixture.self, from: Data(contentsOf: url))
    }()
}

/// Checks `values` against a fixture record, describing the first mismatch.
private func expectMatches(_ values: [Float], head: [UInt32], tail: [UInt32], sum: Double, _ label: String) {
    let bits = values.map(\.bitPattern)
    let gotHead = Array(bits.prefix(head.count))
    let gotTail = Array(bits.suffix(tail.count))
    #expect(values.count >= head.count + tail.count, "\(label): \(values.count) values")
    if let i = zip(gotHead, head).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
        Issue.record("\(label): head differs at \(i): got \(values[i]) want \(Float(bitPattern: head[i]))")
    }
    if let i = zip(gotTail, tail).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
        let k = values.count - tail.count + i
        Issue.record("\(label): tail differs at \(k): got \(values[k]) want \(Float(bitPattern: tail[i]))")
    }
    var total = 0.0
    for v in values { total += Double(v) }
    #expect(total == sum, "\(label): sum \(total) want \(sum), diff \(total - sum)")
}

@Suite("TorchGenerator")
struct RandomTests {
    @Test("randn matches torch (AVX2/AVX-512 kernel)", arguments: TorchRandnFixture.shared.kernels["vectorized"]!.cases)
    func vectorized(_ c: TorchRandnFixture.Case) {
        let values = TorchGenerator.normal(seed: UInt64(c.seed)!, count: c.n, kernel: .vectorized)
        #expect(values.count == c.n)
        expectMatches(values, head: c.head, tail: c.tail, sum: c.sum, "vectorized \(c.testDescription)")
    }

    @Test("randn matches torch (default-capability kernel)", arguments: TorchRandnFixture.shared.kernels["scalar"]!.cases)
    func scalar(_ c: TorchRandnFixture.Case) {
        let values = TorchGenerator.normal(seed: UInt64(c.seed)!, count: c.n, kernel: .scalar)
        expectMatches(values, head: c.head, tail: c.tail, sum: c.sum, "scalar \(c.testDescription)")
    }

    @Test("successive randn calls match successive torch calls")
    func sequences() {
        for s in TorchRandnFixture.shared.kernels["vectorized"]!.sequences {
            var generator = TorchGenerator(seed: UInt64(s.seed)!)
            var values: [Float] = []
            for n in s.counts { values += generator.randn(count: n) }
            expectMatches(values, head: s.head, tail: s.tail, sum: s.sum, "sequence seed \(s.seed) \(s.counts)")
        }
    }

    @Test("manual seed uses the low 32 bits and resets the cached normal")
    func seeding() {
        #expect(TorchGenerator.normal(seed: 5, count: 40) == TorchGenerator.normal(seed: 5 + (1 << 32), count: 40))
        var generator = TorchGenerator(seed: 3)
        _ = generator.randn(count: 1)  // leaves a cached sine value
        generator.manualSeed(3)
        #expect(generator.randn(count: 3) == TorchGenerator.normal(seed: 3, count: 3))
        #expect(generator.initialSeed == 3)
    }

    @Test("mt19937 reference output for seed 5489")
    func mersenneReference() {
        // The C++ standard requires the 10000th output of default-seeded mt19937 to be 4123659995.
        var engine = MersenneTwister(seed: 5489)
        var last: UInt32 = 0
        for _ in 0..<10000 { last = engine.next32() }
        #expect(last == 4_123_659_995)
    }

    @Test("randn(shape:) fills a row-major tensor")
    func shapedTensor() {
        var generator = TorchGenerator(seed: 42)
        let t = generator.randn(shape: [3, 4, 4])
        #expect(t.shape == [3, 4, 4])
        #expect(t.storage == TorchGenerator.normal(seed: 42, count: 48))
    }

    @Test("batch image i uses seed + i")
    func batchSeeds() {
        #expect(TorchGenerator.batchSeeds(base: 10, count: 3) == [10, 11, 12])
        #expect(TorchGenerator.batchSeed(base: .max, index: 1) == 0)
    }
}
