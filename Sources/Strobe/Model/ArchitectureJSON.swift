import Foundation

/// A configuration stored as JSON text in a weights file (`strobe.architecture`, or a part of
/// it): decoding checks it (its `init(from:)` rejects unknown keys and broken invariants), and
/// encoding writes compact JSON with sorted keys that decodes back to an equal value.
public protocol ArchitectureJSON: Codable {}

extension ArchitectureJSON {
    /// Decodes JSON text and checks it.
    ///
    /// - Throws: ``ArchitectureError/invalid(problems:)`` listing every broken invariant, or
    ///   ``ArchitectureError/malformed(reason:)`` naming the key that is missing, unknown or mistyped.
    public init(json: String) throws(ArchitectureError) {
        do {
            self = try JSONDecoder().decode(Self.self, from: Data(json.utf8))
        } catch let error as ArchitectureError {
            throw error
        } catch {
            throw .malformed(reason: ArchitectureError.describe(error))
        }
    }

    /// The configuration as compact JSON with sorted keys (decodes back to an equal value).
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}
