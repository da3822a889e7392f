import Foundation
import Strobe

/// The fields of one request, from a JSON object or from the text parts of a multipart form,
/// read with strict types: each accessor names the field in its error (400, `param`), and
/// ``checkKnown(_:)`` refuses fields the route does not know (a misspelt option is an error,
/// not silently ignored).
struct RequestFields: Sendable {
    /// A field's value: typed JSON, or the text of a form part.
    enum Value: Sendable {
        case json(JSONValue)
        case text(String)
    }

    private(set) var values: [String: Value]

    init(values: [String: Value]) {
        self.values = values
    }

    /// Parses a JSON body, which must be one object.
    static func json(_ bytes: [UInt8]) throws(APIError) -> RequestFields {
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(Data(bytes))
        } catch {
            throw APIError.invalid("the body is not valid JSON", code: "invalid_json")
        }
        guard case .object(let object) = parsed else {
            throw APIError.invalid("the body must be a JSON object", code: "invalid_json")
        }
        return RequestFields(values: object.mapValues { .json($0) })
    }

    /// Refuses any field outside `known`.
    func checkKnown(_ known: Set<String>) throws(APIError) {
        if let unknown = values.keys.sorted().first(where: { !known.contains($0) }) {
            throw APIError.invalid("unknown parameter '\(unknown)'", param: unknown, code: "unknown_parameter")
        }
    }

    /// Whether the field is present and not JSON null.
    func has(_ name: String) -> Bool {
        switch values[name] {
        case nil, .json(.null)?: false
        default: true
        }
    }

    func string(_ name: String) throws(APIError) -> String? {
        switch values[name] {
        case nil, .json(.null)?: return nil
        case .json(.string(let text))?, .text(let text)?: return text
        case .json?: throw APIError.invalid("'\(name)' must be a string", param: name, code: "invalid_type")
        }
    }

    func int(_ name: String) throws(APIError) -> Int? {
        switch values[name] {
        case nil, .json(.null)?: return nil
        case .json(.int(let value))?: return value
        case .json(.double(let value))? where value.rounded() == value && abs(value) < 1e15: return Int(value)
        case .text(let text)?:
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw APIError.invalid("'\(name)' must be an integer, got '\(text.prefix(40))'", param: name, code: "invalid_type")
            }
            return value
        case .json?: throw APIError.invalid("'\(name)' must be an integer", param: name, code: "invalid_type")
        }
    }

    func double(_ name: String) throws(APIError) -> Double? {
        switch values[name] {
        case nil, .json(.null)?: return nil
        case .json(.int(let value))?: return Double(value)
        case .json(.double(let value))?: return value
        case .text(let text)?:
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                throw APIError.invalid("'\(name)' must be a number, got '\(text.prefix(40))'", param: name, code: "invalid_type")
            }
            return value
        case .json?: throw APIError.invalid("'\(name)' must be a number", param: name, code: "invalid_type")
        }
    }

    func bool(_ name: String) throws(APIError) -> Bool? {
        switch values[name] {
        case nil, .json(.null)?: return nil
        case .json(.bool(let value))?: return value
        case .text(let text)?:
            switch text.lowercased() {
            case "true", "1": return true
            case "false", "0": return false
            default: throw APIError.invalid("'\(name)' must be true or false", param: name, code: "invalid_type")
            }
        case .json?: throw APIError.invalid("'\(name)' must be true or false", param: name, code: "invalid_type")
        }
    }

    /// The seed: an unsigned 64-bit integer (JSON numbers beyond 2⁵³ lose precision, so a
    /// string of digits is accepted too).
    func seed(_ name: String = "seed") throws(APIError) -> UInt64? {
        switch values[name] {
        case nil, .json(.null)?: return nil
        case .json(.int(let value))? where value >= 0: return UInt64(value)
        case .json(.string(let text))?, .text(let text)?:
            guard let value = UInt64(text) else {
                throw APIError.invalid("'\(name)' must be an integer in 0...\(UInt64.max)", param: name, code: "invalid_type")
            }
            return value
        default:
            throw APIError.invalid("'\(name)' must be an integer in 0...\(UInt64.max)", param: name, code: "invalid_type")
        }
    }
}
