import Foundation
import Testing
@testable import Strobe

/// Reading weights files written by Python (Strobe's writer and the `safetensors` package), and
/// writing the same bytes from Swift.
@Suite struct WeightsTests {
    struct Expected: Decodable {
        struct Entry: Decodable {
            let dtype: String
            let shape: [Int]
            let bits: [UInt32]
        }
        let metadata: [String: String]
        let tensors: [String: Entry]
    }

    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        .appendingPathComponent("weights")

    static func expected() throws -> Expected {
        let data = try Data(contentsOf: directory.appendingPathComponent("expected.json"))
        return try JSONDecoder().decode(Expected.self, from: data)
    }

    @Test(arguments: ["strobe_writer.safetensors", "torch_safetensors.safetensors"])
    func loadsPythonWrittenFile(_ name: String) throws {
        let expected = try Self.expected()
        let file = try WeightsFile(path: Self.directory.appendingPathComponent(name).path)
        #expect(file.metadata == expected.metadata)
        #expect(Set(file.tensors.keys) == Set(expected.tensors.keys))
        for (tensorName, entry) in expected.tensors {
            let info = try #require(file.tensors[tensorName])
            #expect(info.dtype.rawValue == entry.dtype, "\(tensorName)")
            let tensor = try #require(file.tensor(tensorName))
            #expect(tensor.shape == entry.shape, "\(tensorName)")
            #expect(tensor.storage.map(\.bitPattern) == entry.bits, "\(tensorName) values differ")
        }
        let strobe = try #require(file.strobe)
        #expect(strobe.formatVersion == "1")
        #expect(strobe.samplerDefaults == SamplerDefaults(flashSteps: 4, fullSteps: 100, guidance: 2))
        #expect(strobe.modelName == "fixture été ☃")
        #expect(String(decoding: strobe.tokenizerModel.dropFirst(2), as: UTF8.self)
            == "hello not a real sentencepiece model")
    }

    /// Swift's writer produces the Python writer's bytes exactly, so what Swift writes loads in
    /// Python (the fixture script checks the Python writer's file with the `safetensors` package).
    @Test func swiftWriterMatchesPythonWriterByteForByte() throws {
        let url = Self.directory.appendingPathComponent("strobe_writer.safetensors")
        let pythonBytes = try [UInt8](Data(contentsOf: url))
        let file = try WeightsFile(path: url.path)
        var entries: [String: WeightsWriter.Entry] = [:]
        for (name, info) in file.tensors {
            entries[name] = .init(file.tensor(name)!, as: info.dtype)
        }
        let swiftBytes = WeightsWriter.encode(tensors: entries, metadata: file.metadata)
        #expect(swiftBytes == pythonBytes)
    }

    @Test func roundTripThroughSwiftWriter() throws {
        let values = (0..<24).map { Float($0) * 0.37 - 4 }
        let metadata = WeightsWriter.strobeMetadata(
            architectureJSON: #"{"family":"test"}"#,
            samplerDefaults: SamplerDefaults(flashSteps: 2, fullSteps: 50, guidance: 1.5),
            tokenizerModel: Data([1, 2, 3]), modelName: "round trip")
        let bytes = WeightsWriter.encode(
            tensors: [
                "a.weight": .init(Tensor(shape: [4, 6], storage: values)),
                "b.weight": .init(Tensor(shape: [2, 3, 4], storage: values), as: .bf16),
                "c.weight": .init(Tensor(shape: [24], storage: values), as: .f16),
            ],
            metadata: metadata)
        let path = try TemporaryFile.write(bytes)
        let file = try WeightsFile(path: path)
        #expect(file.tensor("a.weight")?.storage == values)
        #expect(file.tensor("b.weight")?.shape == [2, 3, 4])
        #expect(file.tensor("c.weight")?.storage == values.map { Float(Float16($0)) })
        #expect(file.tensor("b.weight")?.storage == values.map {
            HalfFloat.float(fromBF16: HalfFloat.bf16Bits(from: $0))
        })
        #expect(file.strobe?.samplerDefaults.fullSteps == 50)
        #expect(file.tensor("missing") == nil)
    }

    @Test func validateReportsEveryDifferenceAtOnce() throws {
        let bytes = WeightsWriter.encode(
            tensors: [
                "keep": .init(Tensor(shape: [2, 2], repeating: 1)),
                "wrong_shape": .init(Tensor(shape: [3], repeating: 1)),
                "surplus": .init(Tensor(shape: [1], repeating: 1)),
            ],
            metadata: ValidFile.metadata)
        let file = try WeightsFile(path: try TemporaryFile.write(bytes))
        let error = #expect(throws: WeightsError.self) {
            try file.validate(expected: ["keep": [2, 2], "wrong_shape": [4], "absent": [5]])
        }
        #expect(error?.problems == [
            .missingTensor("absent"),
            .shapeMismatch(tensor: "wrong_shape", expected: [4], actual: [3]),
            .unexpectedTensor("surplus"),
        ])
        #expect(error?.description.contains("missing tensor 'absent'") == true)
    }
}
