/// An RFC 6570 level-1 URI template (`file:///project/src/{path}?mode=raw`): literal text and
/// `{name}` variables, each standing for one percent-encoded value that stays inside its path
/// segment or query value.
public struct URITemplate: Sendable, Hashable {
    public enum Piece: Sendable, Hashable {
        case literal([UInt8])
        case variable(String)
    }

    /// Why a template is refused at load.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
    }

    /// What a URI is to the template.
    public enum Match: Sendable, Hashable {
        /// Not one of the template's URIs.
        case none
        /// One of its URIs, but a value would leave its segment: `..`, an encoded slash.
        case refused(variable: String, reason: String)
        /// Its values, as the URI carries them (percent-encoded), by variable.
        case matched([String: String])
    }

    public let text: String
    public let pieces: [Piece]

    public static let maxVariables = 16
    /// URIs longer than this match no template.
    public static let maxURILength = 4096

    public var variables: [String] {
        pieces.compactMap { piece in
            if case .variable(let name) = piece { return name }
            return nil
        }
    }

    public static func parse(_ text: String) -> Result<URITemplate, ParseError> {
        var pieces: [Piece] = []
        var literal: [UInt8] = []
        var bytes = text.utf8[...]
        while let byte = bytes.popFirst() {
            switch byte {
            case UInt8(ascii: "{"):
                guard let end = bytes.firstIndex(of: UInt8(ascii: "}")) else { return .failure(ParseError(description: "a { is not closed")) }
                let name = String(decoding: bytes[..<end], as: UTF8.self)
                bytes = bytes[bytes.index(after: end)...]
                if let first = name.first, "+#./;?&=,!@|".contains(first) {
                    return .failure(ParseError(description: "{\(name)} uses an RFC 6570 operator; only level-1 templates ({name}) are supported"))
                }
                guard !name.isEmpty, name.utf8.allSatisfy(isNameByte) else {
                    return .failure(ParseError(description: "{\(name)} is not a variable name (letters, digits and _)"))
                }
                if case .variable(let previous)? = pieces.last, literal.isEmpty {
                    return .failure(ParseError(description: "{\(previous)}{\(name)}: two variables need literal text between them"))
                }
                if !literal.isEmpty { pieces.append(.literal(literal)) }
                literal = []
                guard !pieces.contains(.variable(name)) else { return .failure(ParseError(description: "variable {\(name)} appears twice")) }
                pieces.append(.variable(name))
            case UInt8(ascii: "}"):
                return .failure(ParseError(description: "a } has no opening {"))
            default:
                literal.append(byte)
            }
        }
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        let count = pieces.count { if case .variable = $0 { true } else { false } }
        guard count > 0 else { return .failure(ParseError(description: "has no {variable}; declare a URI without one under resources")) }
        guard count <= maxVariables else { return .failure(ParseError(description: "has \(count) variables; at most \(maxVariables)")) }
        return .success(URITemplate(text: text, pieces: pieces))
    }

    /// Whether `uri` is one of the template's URIs, and its values. Each value takes the
    /// shortest run of value characters up to the literal text that follows it; a value that
    /// decodes to `.` or `..`, or holds an encoded `/` or `\`, is refused.
    public func match(_ uri: String) -> Match {
        let bytes = Array(uri.utf8)
        guard bytes.count <= Self.maxURILength else { return .none }
        var position = 0
        var values: [String: String] = [:]
        var index = 0
        while index < pieces.count {
            switch pieces[index] {
            case .literal(let literal):
                guard bytes.count - position >= literal.count, bytes[position..<position + literal.count].elementsEqual(literal) else { return .none }
                position += literal.count
            case .variable(let name):
                var end = position
                if case .literal(let next)? = pieces[safe: index + 1] {
                    while end < bytes.count, !bytes[end...].starts(with: next) {
                        guard Self.isValueByte(bytes[end]) else { return .none }
                        end += 1
                    }
                    guard end < bytes.count else { return .none }
                } else {
                    while end < bytes.count, Self.isValueByte(bytes[end]) { end += 1 }
                    guard end == bytes.count else { return .none }
                }
                guard end > position else { return .none }
                let raw = Array(bytes[position..<end])
                guard let decoded = Self.percentDecoded(raw) else { return .none }
                if decoded == Array(".".utf8) || decoded == Array("..".utf8) {
                    return .refused(variable: name, reason: "\(name) would leave its path segment (a dot segment)")
                }
                if decoded.contains(UInt8(ascii: "/")) || decoded.contains(UInt8(ascii: "\\")) {
                    return .refused(variable: name, reason: "\(name) holds an encoded slash, which the template has no room for")
                }
                if decoded.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                    return .refused(variable: name, reason: "\(name) holds an encoded control character")
                }
                values[name] = String(decoding: raw, as: UTF8.self)
                position = end
            }
            index += 1
        }
        return position == bytes.count ? .matched(values) : .none
    }

    /// The path and query of a URI (`file:///a/b?x=1` gives `/a/b?x=1`, `acme://docs/a` gives
    /// `/a`): the scheme, the authority and the fragment go.
    public static func pathAndQuery(of uri: String) -> String {
        var rest = uri[...]
        if let colon = rest.firstIndex(of: ":") { rest = rest[rest.index(after: colon)...] }
        if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
            rest = rest.drop { $0 != "/" && $0 != "?" && $0 != "#" }
        }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        return rest.hasPrefix("/") ? String(rest) : "/" + rest
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "_")
    }

    /// What a level-1 value may hold in a URI: unreserved characters, percent escapes and the
    /// sub-delimiters that separate nothing in a path segment or a query value.
    private static func isValueByte(_ byte: UInt8) -> Bool {
        isNameByte(byte) || "-.~%!$'()*,;:@".utf8.contains(byte)
    }

    private static func percentDecoded(_ bytes: [UInt8]) -> [UInt8]? {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "%") else {
                decoded.append(bytes[index])
                index += 1
                continue
            }
            guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else { return nil }
            decoded.append(high << 4 | low)
            index += 3
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}

extension Array {
    fileprivate subscript(safe index: Int) -> Element? {
        indices.contains(index) ? self[index] : nil
    }
}
