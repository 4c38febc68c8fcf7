import HTTPTypes
import ReshaprJSON

extension HTTPField.Name {
    public static let mcpMethod = HTTPField.Name("Mcp-Method")!
    public static let mcpName = HTTPField.Name("Mcp-Name")!
    static let accelBuffering = HTTPField.Name("X-Accel-Buffering")!
}

/// Values of the MCP request headers of revision 2026-07-28 (`Mcp-Name`, `Mcp-Param-*`): plain
/// visible ASCII, or `=?base64?<UTF-8 in base64>?=` for anything else.
enum MCPHeaderValue {
    /// The value a header carries, decoded; nil when it holds characters a header value may not
    /// carry or a sentinel that is not base64 of UTF-8.
    static func decode(_ raw: String) -> String? {
        let bytes = Array(raw.utf8)
        guard bytes.allSatisfy({ (0x20...0x7E).contains($0) || $0 == 0x09 }) else { return nil }
        let prefix = Array("=?base64?".utf8)
        let suffix = Array("?=".utf8)
        guard bytes.count >= prefix.count + suffix.count, bytes.starts(with: prefix), bytes.suffix(suffix.count).elementsEqual(suffix) else {
            return raw
        }
        let payload = String(decoding: bytes[prefix.count..<(bytes.count - suffix.count)], as: UTF8.self)
        guard let decoded = Base64.decode(payload) else { return nil }
        return String(validating: decoded, as: UTF8.self)
    }
}

/// A tool input property that 2026-07-28 clients mirror into an `Mcp-Param-{name}` header
/// (the `x-mcp-header` annotation of its schema), so that proxies can route on it.
public struct MCPParamHeader: Sendable, Hashable {
    /// The chain of `properties` keys from the input schema's root to the property.
    public var path: [String]
    /// The annotation's value: the header is `Mcp-Param-{name}`.
    public var name: String
    /// The property's JSON type: `string`, `integer` or `boolean`.
    public var type: String

    public init(path: [String], name: String, type: String) {
        self.path = path
        self.name = name
        self.type = type
    }

    static let keyword = "x-mcp-header"
    static let prefix = "Mcp-Param-"

    /// The annotations of an input schema, or why they are invalid by the revision's rules (a
    /// client then drops the tool): only on `string`, `integer` or `boolean` properties reached
    /// through `properties` alone, header tokens, unique regardless of case.
    public static func annotations(in schema: JSONValue) -> Result<[MCPParamHeader], MCPParamHeaderError> {
        var found: [MCPParamHeader] = []
        var seen: Set<String> = []
        var failure: MCPParamHeaderError?
        walk(schema) { annotation, path, reachable, node in
            guard failure == nil else { return }
            let at = path.isEmpty ? "the schema root" : path.joined(separator: ".")
            guard let name = annotation.stringValue, HTTPField.Name(name) != nil else {
                failure = MCPParamHeaderError(message: "\(keyword) of \(at) must be a non-empty header token")
                return
            }
            guard reachable, !path.isEmpty else {
                failure = MCPParamHeaderError(message: "\(keyword) \(name) is on \(at), which is not reached through properties alone")
                return
            }
            guard let type = node["type"]?.stringValue, ["string", "integer", "boolean"].contains(type) else {
                failure = MCPParamHeaderError(message: "\(keyword) \(name) is on \(at), which is not a string, integer or boolean")
                return
            }
            guard seen.insert(name.lowercased()).inserted else {
                failure = MCPParamHeaderError(message: "\(keyword) \(name) is given twice")
                return
            }
            found.append(MCPParamHeader(path: path, name: name, type: type))
        }
        if let failure { return .failure(failure) }
        // Visiting order follows dictionaries; the annotations are reported by path.
        return .success(found.sorted { $0.path.lexicographicallyPrecedes($1.path) })
    }

    /// Schema keywords whose values are schemas, one, a list or a map of them. Data keywords
    /// (`default`, `enum`, `const`, `examples`) are never walked.
    private static let single: Set<String> = [
        "items", "contains", "unevaluatedItems", "additionalProperties", "propertyNames", "unevaluatedProperties", "not", "if", "then", "else",
        "contentSchema",
    ]
    private static let list: Set<String> = ["allOf", "anyOf", "oneOf", "prefixItems"]
    private static let map: Set<String> = ["patternProperties", "dependentSchemas", "$defs", "definitions"]

    /// Visits every schema position of `root` with its `properties` path and whether only
    /// `properties` led there; iterative, so that no schema can exhaust the stack.
    private static func walk(_ root: JSONValue, visit: (_ annotation: JSONValue, _ path: [String], _ reachable: Bool, _ node: JSONValue) -> Void) {
        var pending: [(node: JSONValue, path: [String], reachable: Bool, depth: Int)] = [(root, [], true, 0)]
        while let (node, path, reachable, depth) = pending.popLast() {
            guard depth < 64, case .object(let members) = node else { continue }
            if let annotation = members[keyword] { visit(annotation, path, reachable, node) }
            for (key, value) in members {
                if key == "properties", case .object(let properties) = value {
                    for (name, schema) in properties { pending.append((schema, path + [name], reachable, depth + 1)) }
                } else if single.contains(key) {
                    pending.append((value, path, false, depth + 1))
                } else if list.contains(key), case .array(let schemas) = value {
                    for schema in schemas { pending.append((schema, path, false, depth + 1)) }
                } else if map.contains(key), case .object(let schemas) = value {
                    for schema in schemas.values { pending.append((schema, path, false, depth + 1)) }
                }
            }
        }
    }

    /// Why a `tools/call`'s `Mcp-Param-*` headers disagree with its arguments; nil when they agree.
    /// A value present in the arguments needs its header, and a header needs its value.
    static func mismatch(_ annotations: [MCPParamHeader], arguments: JSONObject, headers: HTTPFields) -> String? {
        for annotation in annotations {
            let header = prefix + annotation.name
            guard let field = HTTPField.Name(header) else { return "\(header) is not a valid header name" }
            let raw = headers[values: field]
            let value = value(at: annotation.path, in: arguments)
            let argument = annotation.path.joined(separator: ".")
            if raw.count > 1 { return "\(header) is given \(raw.count) times" }
            switch (raw.first, value) {
            case (nil, nil):
                continue
            case (nil, _?):
                return "\(header) header is missing; it must mirror argument \(argument)"
            case (_?, nil):
                return "\(header) header is given but argument \(argument) is absent"
            case (let raw?, let value?):
                guard let decoded = MCPHeaderValue.decode(raw) else { return "\(header) header holds characters a header value may not carry" }
                guard matches(decoded, value) else { return "\(header) header value does not match argument \(argument)" }
            }
        }
        return nil
    }

    private static func value(at path: [String], in arguments: JSONObject) -> JSONValue? {
        var node: JSONValue = .object(arguments)
        for key in path {
            guard let next = node[key] else { return nil }
            node = next
        }
        return node == .null ? nil : node
    }

    /// Header and body agree: strings as they are, booleans as `true`/`false`, integers by value
    /// (`42` and `42.0` are equal).
    private static func matches(_ header: String, _ value: JSONValue) -> Bool {
        switch value {
        case .string(let text): return header == text
        case .bool(let flag): return header == (flag ? "true" : "false")
        case .integer(let number): return integer(header) == number
        case .number(let number):
            guard number.rounded() == number, let parsed = integer(header) else { return false }
            return Double(parsed) == number
        default: return false
        }
    }

    /// `-12`, `42`, `42.0`: a decimal integer, optionally with a zero fraction.
    private static func integer(_ text: String) -> Int? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2, parts[1].isEmpty || !parts[1].allSatisfy({ $0 == "0" }) { return nil }
        return Int(parts[0])
    }
}

/// An `x-mcp-header` annotation that breaks the revision's rules.
public struct MCPParamHeaderError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
