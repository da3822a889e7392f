import Foundation
import Testing
@testable import Strobe

/// Every broken weights file of ``BadWeights/cases`` is refused by the library with its own
/// clear error naming the file, and by `strobe generate --model BAD` with exit status 1, the
/// same words, and no output file.
@Suite struct BadWeightsTests {
    @Test(arguments: BadWeights.cases)
    func libraryRefuses(_ bad: BadWeights) throws {
        let path = try bad.make(try TemporaryFile.directory())
        let error = #expect(throws: PipelineError.self) { try StrobeEngine(modelPath: path) }
        let message = error?.description ?? ""
        #expect(message.hasPrefix("invalid weights file \(path) ("), "\(message)")
        for words in bad.words { #expect(message.contains(words), "\(bad.name): \(message)") }
    }

    @Test(arguments: BadWeights.cases)
    func commandLineRefuses(_ bad: BadWeights) throws {
        let path = try bad.make(try TemporaryFile.directory())
        let directory = try TemporaryFile.directory()
        let run = try CLITests.strobe(["generate", "a lake", "-o", "out.png", "--size", "48x32", "--model", path],
                                      in: directory)
        #expect(run.status == 1, "\(bad.name): \(run.stderr)")
        #expect(run.stderr.hasPrefix("strobe: invalid weights file \(path) ("), "\(run.stderr)")
        for words in bad.words { #expect(run.stderr.contains(words), "\(bad.name): \(run.stderr)") }
        #expect(try CLITests.files(directory).isEmpty)
    }

    @Test func missingModelFile() throws {
        let directory = try TemporaryFile.directory()
        let missing = directory.appendingPathComponent("nope.safetensors").path
        #expect(throws: PipelineError.modelNotFound(path: missing)) { try StrobeEngine(modelPath: missing) }
        // The command line's case is CLITests.missingModel.
    }

    /// Several problems are reported together, one line each.
    @Test func nonFiniteTensorsAreAllListed() throws {
        let make = BadWeights.edited { tensors, _ in
            for name in ["denoiser.t_embed.fc1.bias", "denoiser.blocks.0.mod.weight"] {
                var storage = tensors[name]!.tensor.storage
                storage[storage.count - 1] = .nan
                tensors[name] = .init(Tensor(shape: tensors[name]!.tensor.shape, storage: storage))
            }
        }
        let path = try make(try TemporaryFile.directory())
        let error = #expect(throws: WeightsError.self) { try StrobeModel(weights: try WeightsFile(path: path)) }
        #expect(error?.problems == [                                                // in loading order
            .nonFiniteValues(tensor: "denoiser.t_embed.fc1.bias", count: 1, first: 47),
            .nonFiniteValues(tensor: "denoiser.blocks.0.mod.weight", count: 1, first: 288 * 48 - 1),
        ])
    }

    /// The scan finds every kind of non-finite value (and no finite one) at any position.
    @Test func nonFiniteScan() {
        #expect(NonFiniteScan.find([]) == nil)
        #expect(NonFiniteScan.find([0, -0.0, 1, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                                    .leastNonzeroMagnitude, .ulpOfOne]) == nil)
        for bad: Float in [.nan, -.nan, .signalingNaN, .infinity, -.infinity] {
            var values = [Float](repeating: 1, count: 1_000)
            values[999] = bad
            values[500] = bad
            let found = NonFiniteScan.find(values)
            #expect(found?.count == 2 && found?.first == 500, "\(bad)")
        }
    }
}
