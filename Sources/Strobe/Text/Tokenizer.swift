import Foundation
import SentencePieceShim

/// A SentencePiece tokenizer, used the way T5 uses it: text is encoded to ids and the
/// end-of-sequence id is appended.
///
/// `Tokenizer` is `Sendable`: after loading, the underlying
/// `sentencepiece::SentencePieceProcessor` is never mutated, and its `Encode`/`Decode`
/// are `const` and safe to call from several threads at once, so one instance can be
/// shared between tasks.
///
/// ```swift
/// let tokenizer = try Tokenizer(modelFile: url)
/// let ids = tokenizer.encode("snowy mountains at dusk")   // [..., tokenizer.eosID!]
/// let text = try tokenizer.decode(ids)
/// ```
public final class Tokenizer: @unchecked Sendable {
    // Owned; immutable after init; freed in deinit. Safe to share (see the type's note).
    private let handle: OpaquePointer

    /// Number of pieces in the vocabulary; every id is in `0..<vocabularySize`.
    public let vocabularySize: Int
    /// The end-of-sequence id (`</s>`), or nil if the model has none.
    public let eosID: Int32?
    /// The id of unknown text (`<unk>`), or nil if the model has none.
    public let unknownID: Int32?
    /// The padding id (`<pad>`), or nil if the model has none.
    public let padID: Int32?
    /// The beginning-of-sequence id (`<s>`), or nil if the model has none (as in T5).
    public let bosID: Int32?

    /// Loads a serialized SentencePiece model (a `.model` file).
    /// - Throws: ``TokenizerError/modelNotFound(path:message:)`` if the file cannot be opened,
    ///   ``TokenizerError/invalidModel(message:)`` if it is not a valid model.
    public convenience init(modelFile: URL) throws(TokenizerError) {
        let path = modelFile.path
        var handle: OpaquePointer?
        let status = strobe_spm_load_file(path, &handle)
        guard status == STROBE_SPM_OK, let handle else {
            throw TokenizerError(status: status, path: path)
        }
        self.init(handle: handle)
    }

    /// Loads a model from the bytes of a `.model` file (a serialized `ModelProto`).
    /// - Throws: ``TokenizerError/invalidModel(message:)`` if the bytes are not a valid model.
    public convenience init(modelData: Data) throws(TokenizerError) {
        var handle: OpaquePointer?
        let status = modelData.withUnsafeBytes { bytes in
            strobe_spm_load_bytes(bytes.baseAddress, bytes.count, &handle)
        }
        guard status == STROBE_SPM_OK, let handle else {
            throw TokenizerError(status: status)
        }
        self.init(handle: handle)
    }

    private init(handle: OpaquePointer) {
        self.handle = handle
        vocabularySize = Int(strobe_spm_piece_count(handle))
        func special(_ id: Int32) -> Int32? { id >= 0 ? id : nil }
        eosID = special(strobe_spm_eos_id(handle))
        unknownID = special(strobe_spm_unk_id(handle))
        padID = special(strobe_spm_pad_id(handle))
        bosID = special(strobe_spm_bos_id(handle))
    }

    deinit { strobe_spm_free(handle) }

    /// Encodes UTF-8 text to ids with the model's normalization (e.g. NFKC) and, when
    /// `addEOS` is true, appends ``eosID`` (nothing is appended if the model has none).
    /// The empty string encodes to `[eosID]`.
    ///
    /// Encoding cannot fail for a loaded model except by running out of memory, which traps.
    public func encode(_ text: String, addEOS: Bool = true) -> [Int32] {
        var text = text
        return text.withUTF8 { utf8 in
            encode(utf8: UnsafeRawBufferPointer(utf8), eos: addEOS ? eosID : nil)
        }
    }

    /// Decodes ids back to text. Control ids (padding, end of sequence) decode to nothing.
    /// - Throws: ``TokenizerError/invalidID(message:)`` if an id is outside `0..<vocabularySize`.
    public func decode(_ ids: [Int32]) throws(TokenizerError) -> String {
        var text: UnsafeMutablePointer<CChar>?
        var length = 0
        let status = ids.withUnsafeBufferPointer { ids in
            strobe_spm_decode(handle, ids.baseAddress, ids.count, &text, &length)
        }
        guard status == STROBE_SPM_OK, let text else { throw TokenizerError(status: status) }
        defer { strobe_spm_string_free(text) }
        return Self.string(text, length)
    }

    /// The piece (vocabulary entry) for `id`, e.g. `"▁lake"` or `"<0xE2>"`.
    /// - Throws: ``TokenizerError/invalidID(message:)`` if `id` is outside `0..<vocabularySize`.
    public func piece(for id: Int32) throws(TokenizerError) -> String {
        var piece: UnsafeMutablePointer<CChar>?
        var length = 0
        let status = strobe_spm_id_to_piece(handle, id, &piece, &length)
        guard status == STROBE_SPM_OK, let piece else { throw TokenizerError(status: status) }
        defer { strobe_spm_string_free(piece) }
        return Self.string(piece, length)
    }

    // Encodes into a Swift-owned array: a first guess of capacity, retried once if short
    // (NFKC can expand text, so the id count is not bounded by the byte count).
    private func encode(utf8: UnsafeRawBufferPointer, eos: Int32?) -> [Int32] {
        let text = utf8.baseAddress?.assumingMemoryBound(to: CChar.self)
        var capacity = utf8.count + 1
        while true {
            var status = STROBE_SPM_OK
            var count = 0
            let ids = [Int32](unsafeUninitializedCapacity: capacity + 1) { buffer, initialized in
                status = strobe_spm_encode(handle, text, utf8.count, buffer.baseAddress, capacity, &count)
                initialized = 0
                guard status == STROBE_SPM_OK else { return }
                initialized = count
                if let eos {
                    buffer[count] = eos
                    initialized += 1
                }
            }
            if status == STROBE_SPM_OK { return ids }
            guard status == STROBE_SPM_BUFFER_TOO_SMALL, count > capacity else {
                fatalError("SentencePiece encode failed: \(TokenizerError(status: status).message)")
            }
            capacity = count
        }
    }

    private static func string(_ pointer: UnsafePointer<CChar>, _ length: Int) -> String {
        let bytes = UnsafeRawBufferPointer(start: pointer, count: length)
        return String(decoding: bytes, as: UTF8.self)
    }
}
