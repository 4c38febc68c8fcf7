import Foundation

/// A location inside a JSON document, printed the way people write field paths:
/// `spec.artifacts[0].path`. Keys that are not plain identifiers are quoted: `headers["X-Api-Key"]`.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible, Comparable {
    public enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    public private(set) var components: [Component]

    public init(_ components: [Component] = []) {
        self.components = components
    }

    public static let root = JSONPath()

    public func appending(_ key: String) -> JSONPath {
        var copy = self
        copy.components.append(.key(key))
        return copy
    }

    public func appending(index: Int) -> JSONPath {
        var copy = self
        copy.components.append(.index(index))
        return copy
    }

    public var isRoot: Bool { components.isEmpty }

    public var description: String {
        var out = ""
        for component in components {
            switch component {
            case .key(let key):
                if Self.isPlainIdentifier(key) {
                    if !out.isEmpty { out += "." }
                    out += key
                } else {
                    out += "[" + JSONValue.string(key).serialized() + "]"
                }
            case .index(let i):
                out += "[\(i)]"
            }
        }
        return out
    }

    /// An RFC 6901 JSON Pointer for the same location.
    public var pointer: String {
        components.map { component -> String in
            switch component {
            case .key(let key):
                return "/" + Self.escapeToken(key)
            case .index(let i):
                return "/\(i)"
            }
        }.joined()
    }

    /// A key as an RFC 6901 reference token: `~` becomes `~0`, `/` becomes `~1`, and `%`
    /// becomes `%25`, since pointers are read as URI fragments (see `value(atPointer:)`), where
    /// `%` starts an escape.
    public static func escapeToken(_ key: String) -> String {
        // Most keys need nothing: skip Foundation's replacing, which schema compilation calls
        // for every member of every schema.
        guard key.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "%") }) else { return key }
        return key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1").replacingOccurrences(of: "%", with: "%25")
    }

    public static func < (lhs: JSONPath, rhs: JSONPath) -> Bool {
        lhs.description < rhs.description
    }

    private static func isPlainIdentifier(_ key: String) -> Bool {
        guard let first = key.utf8.first, !(first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) else {
            return false
        }
        return key.utf8.allSatisfy { c in
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_") || c == UInt8(ascii: "$")
        }
    }
}


extension JSONValue {
    /// The value an RFC 6901 JSON Pointer (`/components/schemas/Pet`) designates; percent-encoded
    /// tokens, as found in URI fragments, are decoded.
    public func value(atPointer pointer: String) -> JSONValue? {
        if pointer.isEmpty { return self }
        guard pointer.hasPrefix("/") else { return nil }
        var current = self
        for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = String(raw)
            if raw.utf8.contains(UInt8(ascii: "%")) { token = token.removingPercentEncoding ?? token }
            if token.utf8.contains(UInt8(ascii: "~")) { token = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~") }
            switch current {
            case .object(let members):
                guard let next = members[token] else { return nil }
                current = next
            case .array(let elements):
                guard let i = Int(token), elements.indices.contains(i) else { return nil }
                current = elements[i]
            default:
                return nil
            }
        }
        return current
    }
}
