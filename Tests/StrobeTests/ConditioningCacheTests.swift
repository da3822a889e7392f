import Foundation
import Testing
@testable import Strobe

/// The engine's prompt cache: a hit gives the same images as a fresh encoding, entries are
/// evicted least recently used first, and nothing larger than the capacity is kept.
@Suite struct ConditioningCacheTests {
    @Test func repeatedPromptHitsTheCacheAndGivesTheSameImage() async throws {
        let engine = try StrobeEngine(modelPath: PipelineTests.modelPath)
        var config = GenerationConfig(prompt: try PipelineTests.prompt0(), seed: 5, steps: 2)
        config.size = PipelineTests.fixtureSize
        let first = try await engine.generate(config)
        #expect(engine.conditioningCache.count == 1)
        let second = try await engine.generate(config)
        #expect(engine.conditioningCache.count == 1)
        #expect(first.images[0].png == second.images[0].png)
        config.prompt = "another prompt"
        _ = try await engine.generate(config)
        #expect(engine.conditioningCache.count == 2)
    }

    @Test func evictsLeastRecentlyUsedWithinCapacity() throws {
        let engine = try StrobeEngine(modelPath: PipelineTests.modelPath)
        let prompts: [[Int32]] = [[5, 1], [6, 1], [7, 1]]
        let prepared = prompts.map { PreparedPrompt(model: engine.model, ids: $0) }
        let size = prepared[0].floatCount
        guard case .cross(let first) = prepared[0] else { Issue.record("a v1 model prepares cross-attention"); return }
        #expect(size == first.pooled.count + first.keys.reduce(0) { $0 + $1.count } + first.values.reduce(0) { $0 + $1.count })
        let cache = ConditioningCache(capacityFloats: 2 * size)
        cache.insert(prepared[0], for: prompts[0])
        cache.insert(prepared[1], for: prompts[1])
        #expect(cache.value(for: prompts[0]) != nil)                       // 0 is now the most recent
        cache.insert(prepared[2], for: prompts[2])                         // evicts 1
        #expect(cache.count == 2)
        #expect(cache.value(for: prompts[1]) == nil)
        #expect(cache.value(for: prompts[0]) != nil && cache.value(for: prompts[2]) != nil)
        let tiny = ConditioningCache(capacityFloats: size - 1)
        tiny.insert(prepared[0], for: prompts[0])
        #expect(tiny.count == 0)
    }
}
