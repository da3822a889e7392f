import Foundation
import Testing
@testable import Strobe

/// One broken weights file (or path) and the words its error must contain: the table that
/// both the library (``BadWeightsTests/libraryRefuses(_:)``) and the command line
/// (``BadWeightsTests/commandLineRefuses(_:)``) are run against.
struct BadWeights: Sendable, CustomTestStringConvertible {
    /// What is wrong, as docs/reliability.md's "Bad input" table says it.
    let name: String
    /// Makes the bad model in `directory` and returns its path.
    let make: @Sendable (URL) throws -> String
    /// Words the error message must contain (besides the model's path).
    let words: [String]

    var testDescription: String { name }

    /// Writes `bytes` as `model.safetensors` in `directory`.
    static func file(_ bytes: @escaping @Sendable () throws -> [UInt8]) -> @Sendable (URL) throws -> String {
        { directory in
            let url = directory.appendingPathComponent("model.safetensors")
            try Data(bytes()).write(to: url)
            return url.path
        }
    }

    /// The fixture model's bytes.
    static func fixture() throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: PipelineTests.modelPath)))
    }

    /// The fixture model's length of header JSON.
    static func fixtureHeaderLength() throws -> Int {
        let bytes = try fixture()
        return Int(bytes[0..<8].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
    }

    /// The fixture model re-encoded after `edit` changes its tensors and metadata.
    static func edited(
        _ edit: @escaping @Sendable (inout [String: WeightsWriter.Entry], inout [String: String]) throws -> Void
    ) -> @Sendable (URL) throws -> String {
        file {
            let source = try ModelParityTests.modelFile()
            var tensors: [String: WeightsWriter.Entry] = [:]
            for name in source.tensors.keys { tensors[name] = .init(source.tensor(name)!) }
            var metadata = source.metadata
            try edit(&tensors, &metadata)
            return WeightsWriter.encode(tensors: tensors, metadata: metadata)
        }
    }

    /// Replaces value `index` of tensor `name` with `value`.
    static func poisoned(_ name: String, index: Int, _ value: Float) -> @Sendable (URL) throws -> String {
        edited { tensors, _ in
            var storage = tensors[name]!.tensor.storage
            storage[index] = value
            tensors[name] = .init(Tensor(shape: tensors[name]!.tensor.shape, storage: storage))
        }
    }

    static let architecture = try! ModelParityTests.modelFile().strobe!.architectureJSON

    static let cases: [BadWeights] = [
        BadWeights(name: "directory instead of a file", make: { $0.path }, words: ["cannot read the file: it is a directory"]),
        BadWeights(name: "empty file", make: file { [] },
                   words: ["file is 0 bytes, smaller than the 8-byte header length field"]),
        BadWeights(name: "truncated to 4 bytes", make: file { Array(try fixture().prefix(4)) },
                   words: ["file is 4 bytes, smaller than the 8-byte header length field"]),
        BadWeights(name: "truncated inside the header", make: file { Array(try fixture().prefix(1_000)) },
                   words: ["header length", "does not fit in a file of 1000 bytes"]),
        BadWeights(name: "truncated inside the data",
                   make: file { Array(try fixture().prefix(8 + (try fixtureHeaderLength()) + 100)) },
                   words: ["reach past the data section (100 bytes)"]),
        BadWeights(name: "truncated by one byte", make: file { Array(try fixture().dropLast()) },
                   words: ["tensor 'text_encoder.relative_bias.weight'", "reach past the data section"]),
        BadWeights(name: "header length beyond the file", make: file {
            ValidFile.raw(header: "{}", dataSize: 0, declaredLength: 1 << 40)
        }, words: ["header length 1099511627776 does not fit in a file of 10 bytes"]),
        BadWeights(name: "header is not JSON", make: file { ValidFile.raw(header: "{\"a\": [1, 2", dataSize: 0) },
                   words: ["header is not a JSON object"]),
        BadWeights(name: "offsets outside the data", make: file {
            ValidFile.raw(header: ValidFile.header(#""a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}"#), dataSize: 12)
        }, words: ["tensor 'a': bytes 8..<16 reach past the data section (12 bytes)"]),
        BadWeights(name: "overlapping tensors", make: file {
            ValidFile.raw(header: ValidFile.header(
                #""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}"#),
                dataSize: 12)
        }, words: ["tensors 'a' and 'b' overlap"]),
        BadWeights(name: "dtype not matching the byte size", make: file {
            ValidFile.raw(header: ValidFile.header(#""a":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}"#), dataSize: 8)
        }, words: ["tensor 'a': 8 bytes, but dtype × shape needs 6"]),
        BadWeights(name: "unknown dtype", make: file {
            ValidFile.raw(header: ValidFile.header(#""a":{"dtype":"Q4_K","shape":[2],"data_offsets":[0,8]}"#), dataSize: 8)
        }, words: ["tensor 'a': unknown dtype 'Q4_K' (known: F32, F16, BF16)"]),
        BadWeights(name: "missing tensor", make: edited { tensors, _ in tensors["denoiser.final_linear.bias"] = nil },
                   words: ["missing tensor 'denoiser.final_linear.bias'"]),
        BadWeights(name: "extra tensor", make: edited { tensors, _ in
            tensors["denoiser.extra.weight"] = .init(Tensor(shape: [2], repeating: 1))
        }, words: ["unexpected tensor 'denoiser.extra.weight'"]),
        BadWeights(name: "wrong shape", make: edited { tensors, _ in
            let weight = tensors["denoiser.final_linear.weight"]!.tensor                    // [192, 48]
            tensors["denoiser.final_linear.weight"] = .init(weight.reshaped([48, 192]))
        }, words: ["tensor 'denoiser.final_linear.weight': shape [48, 192], expected [192, 48]"]),
        BadWeights(name: "wrong format version", make: edited { _, metadata in
            metadata[StrobeMetadata.Key.formatVersion] = "2"
        }, words: ["format version '2' is not supported (this reader knows 1)"]),
        BadWeights(name: "architecture contradicting the tensors", make: edited { _, metadata in
            metadata[StrobeMetadata.Key.architecture] = architecture.replacingOccurrences(of: "\"depth\":2", with: "\"depth\":3")
        }, words: ["missing tensor 'denoiser.blocks.2.attn.qkv.weight'"]),
        BadWeights(name: "architecture that is not valid", make: edited { _, metadata in
            metadata[StrobeMetadata.Key.architecture] = architecture.replacingOccurrences(
                of: "\"hidden_size\":48", with: "\"hidden_size\":47")
        }, words: ["architecture: denoiser.hidden_size 47 is not divisible by denoiser.num_heads 2"]),
        BadWeights(name: "tokenizer that is not a SentencePiece model", make: edited { _, metadata in
            metadata[StrobeMetadata.Key.tokenizer] = Data("this is not a SentencePiece model".utf8).base64EncodedString()
        }, words: ["metadata 'strobe.tokenizer': not a SentencePiece model"]),
        BadWeights(name: "NaN weight", make: poisoned("denoiser.blocks.1.fc2.weight", index: 17, .nan),
                   words: ["tensor 'denoiser.blocks.1.fc2.weight': 1 value is NaN or infinite (the first at index 17)"]),
        BadWeights(name: "infinite weights", make: edited { tensors, _ in
            let embedding = tensors["text_encoder.embed.weight"]!.tensor
            var storage = embedding.storage
            storage[3] = .infinity
            storage[40] = -.infinity
            tensors["text_encoder.embed.weight"] = .init(Tensor(shape: embedding.shape, storage: storage))
        }, words: ["tensor 'text_encoder.embed.weight': 2 values are NaN or infinite (the first at index 3)"]),
        BadWeights(name: "infinity stored as F16", make: edited { tensors, _ in
            var storage = tensors["denoiser.patch_embed.bias"]!.tensor.storage
            storage[0] = 70_000                                                             // beyond F16's range
            tensors["denoiser.patch_embed.bias"] = .init(Tensor(shape: [storage.count], storage: storage), as: .f16)
        }, words: ["tensor 'denoiser.patch_embed.bias': 1 value is NaN or infinite (the first at index 0)"]),
    ]
}
