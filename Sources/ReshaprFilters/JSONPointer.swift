import Foundation
import ReshaprJSON

/// An RFC 6901 JSON Pointer: `/a/0/b~1c` is the tokens `a`, `0`, `b/c`. The empty pointer is
/// the whole document.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    public let tokens: [String]

    public init(tokens: [String]) {
        self.tokens = tokens
    }

    /// Parses the text form; throws when it does not start with `/` (and is not empty) or
    /// carries a `~` not followed by `0` or `1`.
    public init(_ text: String) throws(JSONPointerError) {
        guard !text.isEmpty else {
            tokens = []
            return
        }
        guard text.hasPrefix("/") else { throw JSONPointerError(pointer: text, reason: "a JSON Pointer starts with '/' (or is empty for the whole document)") }
        var tokens: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var iterator = raw.makeIterator()
            while let character = iterator.next() {
                guard character == "~" else {
                    token.append(character)
                    continue
                }
                switch iterator.next() {
                case "0": token.append("~")
                case "1": token.append("/")
                default: throw JSONPointerError(pointer: text, reason: "'~' must be followed by 0 or 1 (write ~0 for '~' and ~1 for '/')")
                }
            }
            tokens.append(token)
        }
        self.tokens = tokens
    }

    public var isRoot: Bool { tokens.isEmpty }


    public var description: String {
        tokens.map { "/" + $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }.joined()
    }

    /// The array index a token denotes: decimal digits without a leading zero (`0` alone is fine).
    static func index(_ token: String) -> Int? {
        guard let first = token.utf8.first, token.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), first != 0x30 || token.utf8.count == 1 else { return nil }
        return Int(token)
    }

    /// The value the pointer designates in `document`, or `nil` when it designates nothing.
    public func resolve(in document: JSONValue) -> JSONValue? {
        var current = document
        for token in tokens {
            switch current {
            case .object(let members):
                guard let next = members[token] else { return nil }
                current = next
            case .array(let elements):
                guard let index = Self.index(token), index < elements.count else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }
}

/// A JSON Pointer that cannot be parsed.
public struct JSONPointerError: Error, Sendable, Hashable, CustomStringConvertible {
    public var pointer: String
    public var reason: String

    public var description: String { "invalid JSON Pointer \"\(pointer)\": \(reason)" }
}
