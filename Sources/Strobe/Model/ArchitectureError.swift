import Foundation

/// A `strobe.architecture` description that cannot be used: it does not decode, or its values
/// break an invariant of the model family. Every broken invariant is listed, with the values.
public enum ArchitectureError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text is not JSON, or a key is missing or has the wrong type.
    case malformed(reason: String)
    /// Values that break the family's invariants, one line each
    /// (e.g. `denoiser.hidden_size 50 is not divisible by denoiser.num_heads 4`).
    case invalid(problems: [String])

    public var description: String {
        switch self {
        case .malformed(let reason): return "malformed architecture: \(reason)"
        case .invalid(let problems):
            return "invalid architecture:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
        }
    }

    /// Every problem as one line each (for ``WeightsProblem/invalidArchitecture(reason:)``).
    var problems: [String] {
        switch self {
        case .malformed(let reason): return [reason]
        case .invalid(let problems): return problems
        }
    }

    /// A readable reason for a `DecodingError` (the key path and what went wrong).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.isEmpty ? "top level" : codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
                .joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing key '\(path(context.codingPath + [key]))'"
        case .typeMismatch(let type, let context):
            return "'\(path(context.codingPath))' is not a \(type): \(context.debugDescription)"
        case .valueNotFound(let type, let context):
            return "'\(path(context.codingPath))' is null, expected \(type)"
        case .dataCorrupted(let context):
            let underlying = context.underlyingError.map { " (\($0.localizedDescription))" } ?? ""
            return "\(path(context.codingPath)): \(context.debugDescription)\(underlying)"
        @unknown default:
            return String(describing: error)
        }
    }
}

/// Any string key, for listing the keys an object really has.
struct AnyCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue; self.intValue = nil }
    init?(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
}

extension Decoder {
    /// Throws if the object being decoded has keys outside `known` (a misspelt key is an
    /// error, not a silently applied default).
    func rejectUnknownKeys<K: CodingKey & CaseIterable>(_ known: K.Type) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        let allowed = Set(K.allCases.map(\.stringValue))
        let unknown = container.allKeys.map(\.stringValue).filter { !allowed.contains($0) }.sorted()
        if !unknown.isEmpty {
            let prefix = codingPath.map(\.stringValue).joined(separator: ".")
            let names = unknown.map { prefix.isEmpty ? $0 : "\(prefix).\($0)" }
            throw DecodingError.dataCorrupted(.init(
                codingPath: codingPath,
                debugDescription: "unknown key\(names.count == 1 ? "" : "s") \(names.map { "'\($0)'" }.joined(separator: ", "))"))
        }
    }
}
