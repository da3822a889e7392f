import Foundation

/// One part of a `multipart/form-data` body.
struct FormPart: Sendable {
    /// The `name` of its Content-Disposition.
    let name: String
    /// The `filename`, present for file uploads.
    let filename: String?
    /// Its own Content-Type, if it sent one.
    let contentType: String?
    let body: [UInt8]
}

/// A strict `multipart/form-data` parser (RFC 7578) for bodies already held in memory (the
/// body limit applies before parsing). Malformed input is a 400, never a crash.
enum Multipart {
    /// The boundary of a `multipart/form-data; boundary=…` content type, or nil.
    static func boundary(contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = pieces.first, first.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            var value = pair[1]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return (1...70).contains(value.utf8.count) ? value : nil
        }
        return nil
    }

    /// Splits `body` into its parts; at most `maxParts`.
    static func parse(_ body: [UInt8], boundary: String, maxParts: Int = 64) throws(APIError) -> [FormPart] {
        let delimiter = Array("--\(boundary)".utf8)
        func malformed(_ why: String) -> APIError { APIError.invalid("malformed multipart body: \(why)", code: "invalid_multipart") }
        guard var at = find(delimiter, in: body, from: 0) else { throw malformed("no boundary") }
        var parts: [FormPart] = []
        while true {
            at += delimiter.count
            if body.count >= at + 2, body[at] == UInt8(ascii: "-"), body[at + 1] == UInt8(ascii: "-") { break }  // closing delimiter
            guard body.count >= at + 2, body[at] == 13, body[at + 1] == 10 else { throw malformed("boundary line not ended by CRLF") }
            at += 2
            guard let headerEnd = find([13, 10, 13, 10], in: body, from: at) else { throw malformed("part without a blank line after its headers") }
            let headerText = String(decoding: body[at..<headerEnd], as: UTF8.self)
            let contentStart = headerEnd + 4
            guard let next = find([13, 10] + delimiter, in: body, from: contentStart) else { throw malformed("part not closed by the boundary") }
            parts.append(try part(headers: headerText, body: Array(body[contentStart..<next])))
            guard parts.count <= maxParts else { throw malformed("more than \(maxParts) parts") }
            at = next + 2
        }
        return parts
    }

    private static func part(headers: String, body: [UInt8]) throws(APIError) -> FormPart {
        var name: String?, filename: String?, contentType: String?
        for line in headers.split(separator: "\r\n") {
            let pair = line.split(separator: ":", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let key = pair[0].trimmingCharacters(in: .whitespaces).lowercased()
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            if key == "content-type" { contentType = value }
            if key == "content-disposition" {
                for parameter in value.split(separator: ";").dropFirst() {
                    let kv = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard kv.count == 2 else { continue }
                    var v = kv[1]
                    if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
                    if kv[0].lowercased() == "name" { name = v }
                    if kv[0].lowercased() == "filename" { filename = v }
                }
            }
        }
        guard let name, !name.isEmpty else {
            throw APIError.invalid("malformed multipart body: a part without a name", code: "invalid_multipart")
        }
        return FormPart(name: name, filename: filename, contentType: contentType, body: body)
    }

    /// The first index of `needle` in `haystack` at or after `from`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        return haystack.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { n in
                var i = from
                let last = h.count - n.count
                while i <= last {
                    if h[i] == first {
                        var j = 1
                        while j < n.count, h[i + j] == n[j] { j += 1 }
                        if j == n.count { return i }
                    }
                    i += 1
                }
                return nil
            }
        }
    }
}
