import Foundation
import StrobeTensor

/// Encodes weights files in Strobe's canonical layout (weights-format.md §1): names sorted,
/// tensors back to back (the safetensors package rejects gaps), the header JSON with sorted keys and ASCII escapes, padded with
/// spaces to an 8-byte boundary. `python/strobe_reference/weights.py` writes the same bytes.
public enum WeightsWriter {
    /// A tensor to write and the dtype to store it in.
    public struct Entry: Sendable {
        public var tensor: Tensor
        public var dtype: WeightsDType
        public init(_ tensor: Tensor, as dtype: WeightsDType = .f32) {
            self.tensor = tensor
            self.dtype = dtype
        }
    }

    /// The file's bytes for `tensors` and `metadata`.
    public static func encode(tensors: [String: Entry], metadata: [String: String]) -> [UInt8] {
        var data: [UInt8] = []
        var entries: [(String, String)] = []
        for name in tensors.keys.sorted(by: codePointOrder) {
            let entry = tensors[name]!
            let begin = data.count
            append(entry.tensor.storage, as: entry.dtype, to: &data)
            let shape = entry.tensor.shape.map(String.init).joined(separator: ",")
            entries.append((name,
                "{\"data_offsets\":[\(begin),\(data.count)],\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(shape)]}"))
        }
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted(by: codePointOrder)
                .map { "\(quote($0)):\(quote(metadata[$0]!))" }
            entries.append(("__metadata__", "{" + fields.joined(separator: ",") + "}"))
        }
        entries.sort { codePointOrder($0.0, $1.0) }
        var header = Array(("{" + entries.map { "\(quote($0.0)):\($0.1)" }.joined(separator: ",") + "}").utf8)
        while (8 + header.count) % 8 != 0 { header.append(0x20) }
        var file: [UInt8] = []
        file.reserveCapacity(8 + header.count + data.count)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
        file += header
        file += data
        return file
    }

    /// The metadata map for Strobe's required keys plus `extra`.
    public static func strobeMetadata(
        architectureJSON: String, samplerDefaults: SamplerDefaults, tokenizerModel: Data,
        modelName: String? = nil, extra: [String: String] = [:]
    ) -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var result = extra
        result[StrobeMetadata.Key.formatVersion] = "1"
        result[StrobeMetadata.Key.architecture] = architectureJSON
        result[StrobeMetadata.Key.samplerDefaults] =
            String(decoding: try! encoder.encode(samplerDefaults), as: UTF8.self)
        result[StrobeMetadata.Key.tokenizer] = tokenizerModel.base64EncodedString()
        if let modelName { result[StrobeMetadata.Key.modelName] = modelName }
        return result
    }

    private static func append(_ values: [Float], as dtype: WeightsDType, to data: inout [UInt8]) {
        switch dtype {
        case .f32:
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        case .f16: data += HalfFloat.encodeF16LittleEndian(values)
        case .bf16: data += HalfFloat.encodeBF16LittleEndian(values)
        }
    }

    private static func codePointOrder(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars)
    }

    /// JSON string literal with Python `json.dumps(ensure_ascii=True)` escaping.
    static func quote(_ text: String) -> String {
        var out = "\""
        for unit in text.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(unit)!)
            default: out += String(format: "\\u%04x", unit)
            }
        }
        return out + "\""
    }
}
