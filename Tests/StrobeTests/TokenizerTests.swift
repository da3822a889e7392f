import Foundation
import SentencePieceShim
import Strobe
import Testing

/// The golden cases written by python/strobe_tools/make_tokenizer_fixture.py (see Fixtures/tokenizer/README.md).
struct TokenizerFixture: Decodable {
    struct Case: Decodable {
        let text: String
        let ids: [Int32]
        let decoded: String
    }
    let sentencepiece_version: String
    let vocab_size: Int
    let pad_id: Int32
    let eos_id: Int32
    let unk_id: Int32
    let bos_id: Int32
    let cases: [Case]
    /// Arbitrary id sequences (possibly invalid UTF-8 byte pieces) and Python's decode of them.
    let decode_cases: [DecodeCase]

    struct DecodeCase: Decodable {
        let ids: [Int32]
        let decoded: String
    }

    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        .appendingPathComponent("tokenizer")
    static let modelURL = directory.appendingPathComponent("tokenizer.model")

    static func load() throws -> TokenizerFixture {
        let data = try Data(contentsOf: directory.appendingPathComponent("cases.json"))
        return try JSONDecoder().decode(TokenizerFixture.self, from: data)
    }
}

/// The first position where two id sequences differ, or nil if they are equal.
private func firstDifference(_ a: [Int32], _ b: [Int32]) -> Int? {
    if a == b { return nil }
    let common = min(a.count, b.count)
    return (0..<common).first { a[$0] != b[$0] } ?? common
}

/// A small deterministic generator, so "random" corrupt models are the same on every run.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Tokenizer")
struct TokenizerTests {
    let fixture: TokenizerFixture
    let tokenizer: Tokenizer

    init() throws {
        fixture = try TokenizerFixture.load()
        tokenizer = try Tokenizer(modelFile: TokenizerFixture.modelURL)
    }

    @Test func fixtureCoversTheCorpus() {
        #expect(fixture.cases.count >= 200)
        #expect(fixture.cases.contains { $0.text.isEmpty })
        #expect(fixture.cases.filter { $0.ids.count >= 1000 }.count >= 3)
    }

    @Test func vocabularyAndSpecialIDsMatchPython() {
        #expect(tokenizer.vocabularySize == fixture.vocab_size)
        #expect(tokenizer.padID == fixture.pad_id)
        #expect(tokenizer.eosID == fixture.eos_id)
        #expect(tokenizer.unknownID == fixture.unk_id)
        #expect(tokenizer.bosID == nil && fixture.bos_id == -1)
    }

    @Test func idsMatchPythonForEveryPrompt() {
        var mismatches = 0
        for (index, golden) in fixture.cases.enumerated() {
            let ids = tokenizer.encode(golden.text)
            guard let position = firstDifference(ids, golden.ids) else { continue }
            if mismatches == 0 {
                Issue.record("""
                    case \(index) \(golden.text.debugDescription): first difference at id \(position) \
                    (Swift \(ids.dropFirst(position).prefix(8)), Python sentencepiece \
                    \(fixture.sentencepiece_version) \(golden.ids.dropFirst(position).prefix(8)))
                    """)
            }
            mismatches += 1
        }
        #expect(mismatches == 0, "\(mismatches) of \(fixture.cases.count) prompts differ")
    }

    @Test func decodeMatchesPython() throws {
        for (index, golden) in fixture.cases.enumerated() {
            let text = try tokenizer.decode(golden.ids)
            #expect(text == golden.decoded, "case \(index) \(golden.text.debugDescription)")
            if text != golden.decoded { break }
        }
    }

    @Test func decodeOfArbitraryIDsMatchesPython() throws {
        #expect(!fixture.decode_cases.isEmpty)
        for golden in fixture.decode_cases {
            let text = try tokenizer.decode(golden.ids)
            #expect(text == golden.decoded, "ids \(golden.ids)")
            if text != golden.decoded { break }
        }
    }

    @Test func addEOSAppendsExactlyTheEndOfSequenceID() throws {
        let eos = try #require(tokenizer.eosID)
        #expect(tokenizer.encode("") == [eos])
        #expect(tokenizer.encode("", addEOS: false) == [])
        let text = "a red hot-air balloon over desert dunes at night"
        #expect(tokenizer.encode(text) == tokenizer.encode(text, addEOS: false) + [eos])
        #expect(try tokenizer.decode(tokenizer.encode(text)) == text)
    }

    @Test func pieces() throws {
        #expect(try tokenizer.piece(for: try #require(tokenizer.eosID)) == "</s>")
        #expect(try tokenizer.piece(for: try #require(tokenizer.padID)) == "<pad>")
        #expect(try tokenizer.piece(for: try #require(tokenizer.unknownID)) == "<unk>")
        #expect(throws: TokenizerError.self) { try tokenizer.piece(for: Int32(tokenizer.vocabularySize)) }
    }

    @Test func decodeRejectsOutOfRangeIDs() {
        for bad: Int32 in [-1, Int32(tokenizer.vocabularySize), .max] {
            let error = #expect(throws: TokenizerError.self) { try tokenizer.decode([5, bad]) }
            guard case .invalidID(let message) = error else {
                Issue.record("expected .invalidID for \(bad), got \(String(describing: error))")
                continue
            }
            #expect(message.contains("\(bad)"), "\(message)")
        }
    }

    @Test func loadingFromBytesEqualsLoadingFromFile() throws {
        let fromBytes = try Tokenizer(modelData: Data(contentsOf: TokenizerFixture.modelURL))
        #expect(fromBytes.vocabularySize == tokenizer.vocabularySize)
        #expect(fromBytes.eosID == tokenizer.eosID)
        for golden in fixture.cases {
            #expect(fromBytes.encode(golden.text) == tokenizer.encode(golden.text))
        }
    }

    @Test func missingFileGivesModelNotFound() {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("strobe-no-such-tokenizer-\(UUID().uuidString).model")
        let error = #expect(throws: TokenizerError.self) { try Tokenizer(modelFile: url) }
        guard case .modelNotFound(let path, let message) = error else {
            Issue.record("expected .modelNotFound, got \(String(describing: error))")
            return
        }
        #expect(path == url.path)
        #expect(message.contains("No such file"), "SentencePiece's message: \(message)")
    }

    @Test(arguments: [0, 16, 1000, 100_000])
    func randomBytesGiveInvalidModel(count: Int) {
        var rng = SplitMix64(state: UInt64(count) &+ 42)
        let bytes = Data((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &rng) })
        let error = #expect(throws: TokenizerError.self) { try Tokenizer(modelData: bytes) }
        guard case .invalidModel(let message) = error else {
            Issue.record("expected .invalidModel, got \(String(describing: error))")
            return
        }
        #expect(!message.isEmpty)
    }

    @Test(arguments: [0.001, 0.1, 0.5, 0.9, 0.999])
    func truncatedModelGivesInvalidModel(fraction: Double) throws {
        let model = try Data(contentsOf: TokenizerFixture.modelURL)
        let truncated = model.prefix(Int(Double(model.count) * fraction))
        let error = #expect(throws: TokenizerError.self) { try Tokenizer(modelData: truncated) }
        guard case .invalidModel(let message) = error else {
            Issue.record("expected .invalidModel, got \(String(describing: error))")
            return
        }
        #expect(!message.isEmpty)
    }

    @Test func concurrentEncodesAgree() async {
        let texts = fixture.cases.map(\.text)
        let shared = tokenizer
        let expected = texts.map { shared.encode($0) }
        let results = await withTaskGroup(of: [[Int32]].self) { group in
            for task in 0..<8 {
                group.addTask {
                    // Each task walks the corpus from a different starting point.
                    let order = texts.indices.map { ($0 + task * 29) % texts.count }
                    var ids = [[Int32]](repeating: [], count: texts.count)
                    for i in order { ids[i] = shared.encode(texts[i]) }
                    return ids
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 8)
        for ids in results { #expect(ids == expected) }
    }

    @Test func cAPIEncodeAllocAndBufferTooSmall() throws {
        var handle: OpaquePointer?
        #expect(strobe_spm_load_file(TokenizerFixture.modelURL.path, &handle) == STROBE_SPM_OK)
        defer { strobe_spm_free(handle) }
        var text = "snowy mountains at dusk with a lake"
        let expected = tokenizer.encode(text, addEOS: false)
        text.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { chars in
                var ids: UnsafeMutablePointer<Int32>?
                var count = 0
                #expect(strobe_spm_encode_alloc(handle, chars.baseAddress, chars.count, &ids, &count) == STROBE_SPM_OK)
                #expect(Array(UnsafeBufferPointer(start: ids, count: count)) == expected)
                strobe_spm_ids_free(ids)

                var small = [Int32](repeating: -7, count: 2)
                #expect(strobe_spm_encode(handle, chars.baseAddress, chars.count, &small, 2, &count)
                    == STROBE_SPM_BUFFER_TOO_SMALL)
                #expect(count == expected.count)
                #expect(small == [-7, -7])
            }
        }
    }
}
