import Foundation
import Testing
@testable import Strobe

/// A valid file and ways to build broken ones from raw header text.
enum ValidFile {
    static let metadata = WeightsWriter.strobeMetadata(
        architectureJSON: #"{"family":"test"}"#,
        samplerDefaults: SamplerDefaults(flashSteps: 4, fullSteps: 100, guidance: 2),
        tokenizerModel: Data([7, 7, 7]))

    static func bytes() -> [UInt8] {
        WeightsWriter.encode(
            tensors: [
                "a": .init(Tensor(shape: [2, 3], repeating: 0.5)),
                "b": .init(Tensor(shape: [4], repeating: 2), as: .f16),
            ],
            metadata: metadata)
    }

    /// A file with `header` (raw JSON text) and `dataSize` zero bytes of data.
    static func raw(header: String, dataSize: Int, declaredLength: UInt64? = nil) -> [UInt8] {
        let text = Array(header.utf8)
        var file: [UInt8] = []
        withUnsafeBytes(of: (declaredLength ?? UInt64(text.count)).littleEndian) { file += $0 }
        return file + text + [UInt8](repeating: 0, count: dataSize)
    }

    /// Header JSON with Strobe's metadata and the given tensor entries.
    static func header(_ entries: String, metadata: [String: String] = metadata) -> String {
        let fields = metadata.keys.sorted().map {
            "\(WeightsWriter.quote($0)):\(WeightsWriter.quote(metadata[$0]!))"
        }
        return "{\"__metadata__\":{\(fields.joined(separator: ","))}" + (entries.isEmpty ? "" : ",\(entries)") + "}"
    }
}

/// Every kind of malformed file gives its own clear error and never crashes.
@Suite struct WeightsMalformedTests {
    func problems(_ bytes: [UInt8]) throws -> [WeightsProblem] {
        let path = try TemporaryFile.write(bytes)
        do {
            _ = try WeightsFile(path: path)
        } catch {
            #expect(error.description.contains(path))
            return error.problems
        }
        Issue.record("the file opened, but it is malformed")
        return []
    }

    @Test func validFileOpens() throws {
        let file = try WeightsFile(path: try TemporaryFile.write(ValidFile.bytes()))
        #expect(file.tensor("b")?.storage == [2, 2, 2, 2])
    }

    @Test func truncatedInTheData() throws {
        let bytes = ValidFile.bytes()
        let found = try problems(Array(bytes.dropLast(3)))
        guard case .offsetsOutOfBounds(let name, _, _, _)? = found.first else {
            Issue.record("got \(found)")
            return
        }
        #expect(name == "b")
    }

    @Test func truncatedAtEveryLengthNeverOpensNorCrashes() throws {
        let bytes = ValidFile.bytes()
        let directory = try TemporaryFile.directory()
        for length in 0..<bytes.count {
            let url = directory.appendingPathComponent("cut-\(length)")
            try Data(bytes[0..<length]).write(to: url)
            #expect(throws: WeightsError.self, "cut at \(length)") { try WeightsFile(path: url.path) }
        }
    }

    @Test func emptyFile() throws {
        #expect(try problems([]) == [.tooSmall(size: 0)])
        #expect(try problems([1, 2, 3]) == [.tooSmall(size: 3)])
    }

    @Test func headerLengthBeyondTheFile() throws {
        let bytes = ValidFile.raw(header: "{}", dataSize: 0, declaredLength: 1_000)
        #expect(try problems(bytes) == [.headerLengthOutOfBounds(length: 1_000, fileSize: 10)])
        let huge = ValidFile.raw(header: "{}", dataSize: 0, declaredLength: .max)
        #expect(try problems(huge) == [.headerLengthOutOfBounds(length: .max, fileSize: 10)])
    }

    @Test func invalidJSON() throws {
        let found = try problems(ValidFile.raw(header: "{\"a\": [1, 2", dataSize: 0))
        guard case .invalidHeaderJSON? = found.first, found.count == 1 else {
            Issue.record("got \(found)")
            return
        }
        #expect(try problems(ValidFile.raw(header: "[1, 2]", dataSize: 0))
            == [.invalidHeaderJSON(reason: "the top level is not an object")])
        // Invalid UTF-8 in the header.
        var bytes = ValidFile.raw(header: "{\"ab\":1}", dataSize: 0)
        bytes[10] = 0xFF
        guard case .invalidHeaderJSON? = try problems(bytes).first else {
            Issue.record("invalid UTF-8 accepted")
            return
        }
    }

    @Test func overlappingOffsets() throws {
        let header = ValidFile.header(
            #""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}"#)
        #expect(try problems(ValidFile.raw(header: header, dataSize: 12)) == [.overlappingTensors("a", "b")])
    }

    @Test func offsetsPastTheEnd() throws {
        let header = ValidFile.header(#""a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}"#)
        #expect(try problems(ValidFile.raw(header: header, dataSize: 12))
            == [.offsetsOutOfBounds(tensor: "a", begin: 8, end: 16, dataSize: 12)])
    }

    @Test func byteSizeNotMatchingDTypeTimesShape() throws {
        let header = ValidFile.header(#""a":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}"#)
        #expect(try problems(ValidFile.raw(header: header, dataSize: 8))
            == [.byteSizeMismatch(tensor: "a", expected: 6, actual: 8)])
        // A shape whose byte count overflows is a mismatch, not a crash.
        let overflow = ValidFile.header(
            #""a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}"#)
        #expect(try problems(ValidFile.raw(header: overflow, dataSize: 8))
            == [.byteSizeMismatch(tensor: "a", expected: .max, actual: 8)])
    }

    @Test func unknownDType() throws {
        let header = ValidFile.header(#""a":{"dtype":"Q4_K","shape":[2],"data_offsets":[0,8]}"#)
        #expect(try problems(ValidFile.raw(header: header, dataSize: 8))
            == [.unknownDType(tensor: "a", dtype: "Q4_K")])
    }

    @Test func malformedEntries() throws {
        let header = ValidFile.header(
            #""a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]},"b":{"dtype":"F32","data_offsets":[0,8]},"c":{"dtype":"F32","shape":[2],"data_offsets":[8,0]},"d":7,"e":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}"#)
        let found = try problems(ValidFile.raw(header: header, dataSize: 8))
        #expect(found.count == 5)
        #expect(found.allSatisfy { if case .malformedEntry = $0 { true } else { false } })
    }

    @Test func missingRequiredMetadata() throws {
        var metadata = ValidFile.metadata
        metadata[StrobeMetadata.Key.tokenizer] = nil
        metadata[StrobeMetadata.Key.architecture] = nil
        let header = ValidFile.header("", metadata: metadata)
        #expect(try problems(ValidFile.raw(header: header, dataSize: 0)) == [
            .missingMetadata(key: StrobeMetadata.Key.architecture),
            .missingMetadata(key: StrobeMetadata.Key.tokenizer),
        ])
        // A plain safetensors file with no metadata at all opens only when asked.
        let plain = try TemporaryFile.write(ValidFile.raw(header: "{}", dataSize: 0))
        #expect(throws: WeightsError.self) { try WeightsFile(path: plain) }
        #expect(try WeightsFile(path: plain, requireStrobeMetadata: false).strobe == nil)
    }

    @Test func invalidMetadataValues() throws {
        var metadata = ValidFile.metadata
        metadata[StrobeMetadata.Key.formatVersion] = "7"
        metadata[StrobeMetadata.Key.architecture] = "[1]"
        metadata[StrobeMetadata.Key.samplerDefaults] = #"{"flash_steps":4}"#
        metadata[StrobeMetadata.Key.tokenizer] = "not base64!"
        let found = try problems(ValidFile.raw(header: ValidFile.header("", metadata: metadata), dataSize: 0))
        #expect(found.count == 4)
        #expect(found.first == .unsupportedFormatVersion("7"))
        let nonString = "{\"__metadata__\":{\"strobe.format_version\":1}}"
        #expect(try problems(ValidFile.raw(header: nonString, dataSize: 0))
            == [.malformedMetadata(reason: "value of 'strobe.format_version' is not a string")])
    }

    @Test func problemsAreCollectedInOneError() throws {
        let header = ValidFile.header(
            #""a":{"dtype":"Q8","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[3],"data_offsets":[0,8]},"c":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}"#)
        let found = try problems(ValidFile.raw(header: header, dataSize: 8))
        #expect(found == [
            .unknownDType(tensor: "a", dtype: "Q8"),
            .byteSizeMismatch(tensor: "b", expected: 12, actual: 8),
            .offsetsOutOfBounds(tensor: "c", begin: 0, end: 16, dataSize: 8),
        ])
    }

    @Test func missingFileAndDirectory() throws {
        let directory = try TemporaryFile.directory()
        let missing = directory.appendingPathComponent("nope.safetensors").path
        #expect(throws: WeightsError(path: missing, problems: [.unreadable(reason: "No such file or directory")])) {
            try WeightsFile(path: missing)
        }
        #expect(throws: WeightsError(path: directory.path, problems: [.unreadable(reason: "it is a directory")])) {
            try WeightsFile(path: directory.path)
        }
    }
}
