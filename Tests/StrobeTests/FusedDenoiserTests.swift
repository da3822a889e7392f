import Foundation
import StrobeTensor
import Testing
@testable import Strobe

/// The fused, workspace-planned denoiser path against its op-by-op twin (`referenceXHat`) on the
/// random fixture model: one image, a batch with one prompt, a batch with padded prompts, and a
/// workspace reused across calls.
@Suite struct FusedDenoiserTests {
    @Test func fusedPathMatchesReferencePath() throws {
        let model = try StrobeModel(weights: try ModelParityTests.modelFile())
        let (x, _, batch, texts) = try ModelParityTests.batchInputs()
        let denoiser = model.denoiser
        let cases: [(String, Tensor, TextConditioning)] = [
            ("one image", x, denoiser.prepare(text: texts[0])),
            ("two images, one prompt", batch, denoiser.prepare(text: texts[0])),
            ("two images, two padded prompts", batch, denoiser.prepare(texts: texts)),
        ]
        for (label, input, conditioning) in cases {
            let workspace = denoiser.makeWorkspace(
                batch: input.rank == 4 ? input.shape[0] : 1, height: input.shape[input.rank - 2],
                width: input.shape[input.rank - 1])
            // Two calls through one workspace: the second must not see the first's leftovers.
            for (t, gap, beta) in [(Float(0.9), Float(0.4), Float(0.5)), (Float(0.3), Float(0), Float(1))] {
                let fused = denoiser.xHat(
                    x: input, t: t, gap: gap, beta: beta, conditioning: conditioning, workspace: workspace)
                let reference = denoiser.referenceXHat(x: input, t: t, gap: gap, beta: beta, conditioning: conditioning)
                let diff = ModelParityTests.maxAbsDiff(fused, reference)
                #expect(fused.shape == reference.shape, "\(label)")
                #expect(diff <= 1e-5, "\(label), t \(t): fused and reference differ by \(diff) (max abs)")
            }
        }
    }

    @Test func fusedPathDoesNotDependOnTheThreadCount() throws {
        let model = try StrobeModel(weights: try ModelParityTests.modelFile())
        let expected = try ModelParityTests.goldenTensors()
        let x = try #require(expected.tensor("forward.x"))
        let conditioning = model.denoiser.prepare(text: try #require(expected.tensor("text.0")))
        let results = [1, 2, 3].map { threads in
            Parallel.withThreads(threads) {
                model.denoiser.xHat(x: x, t: 0.7, gap: 0.2, beta: 0.5, conditioning: conditioning)
            }
        }
        #expect(results[0].storage == results[1].storage)
        #expect(results[0].storage == results[2].storage)
    }
}
