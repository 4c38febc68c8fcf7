import ReshaprJSON
import ReshaprOpenAPI

/// Arguments that cannot be put on the wire: the caller (a model) can fix them and retry.
public struct ArgumentError: Error, Sendable, CustomStringConvertible {
    public var argument: String
    public var message: String

    public var description: String { "\(argument): \(message)" }
}

/// An HTTP request ready to send, relative to the backend's base URL.
public struct BackendRequest: Sendable, Hashable {
    public var method: String
    /// Path and query, starting with `/`, already percent-encoded.
    public var pathAndQuery: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?

    public init(method: String, pathAndQuery: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.pathAndQuery = pathAndQuery
        self.headers = headers
        self.body = body
    }

    public static func == (lhs: BackendRequest, rhs: BackendRequest) -> Bool {
        lhs.method == rhs.method && lhs.pathAndQuery == rhs.pathAndQuery && lhs.body == rhs.body
            && lhs.headers.map { [$0.name, $0.value] } == rhs.headers.map { [$0.name, $0.value] }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(method)
        hasher.combine(pathAndQuery)
    }

    /// Adds a query parameter, percent-encoded.
    public mutating func appendQuery(_ name: String, _ value: String) {
        pathAndQuery += (pathAndQuery.contains("?") ? "&" : "?") + RequestBuilder.encode(name) + "=" + RequestBuilder.encode(value)
    }

    /// Removes every query parameter named `name`.
    public mutating func removeQuery(_ name: String) {
        guard let mark = pathAndQuery.firstIndex(of: "?") else { return }
        let encoded = RequestBuilder.encode(name)
        let kept = pathAndQuery[pathAndQuery.index(after: mark)...].split(separator: "&").filter { pair in
            (pair.split(separator: "=", maxSplits: 1).first.map(String.init) ?? "") != encoded
        }
        pathAndQuery = String(pathAndQuery[..<mark]) + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
    }

    /// Sets a header, replacing every header of the same name (compared case-insensitively).
    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { $0.name.lowercased() == name.lowercased() }
        headers.append((name, value))
    }
}

/// Serializes tool arguments into an HTTP request following the operation's parameter styles
/// (OpenAPI 3 `style`/`explode`, Swagger 2 `collectionFormat`).
///
/// Arguments only ever fill in parameter values: every value is percent-encoded (a path
/// parameter cannot add segments: `/` becomes `%2F`, and `.`/`..` are refused) and header values
/// cannot contain line breaks, so arguments cannot redirect the request or inject headers.
public enum RequestBuilder {
    public static func build(_ operation: HTTPOperation, arguments: JSONObject) throws(ArgumentError) -> BackendRequest {
        var path = ""
        var query: [String] = []
        var headers: [(name: String, value: String)] = []
        var cookies: [String] = []

        var values: JSONObject = [:]
        for binding in operation.parameters {
            guard let value = arguments[binding.argument], value != .null else {
                if binding.required { throw ArgumentError(argument: binding.argument, message: "is required") }
                continue
            }
            values[binding.name + "\u{0}" + binding.location.rawValue] = value
            switch binding.location {
            case .path: break
            case .query: query.append(contentsOf: try queryPairs(binding, value))
            case .header:
                let text = try headerValue(binding, value)
                headers.append((binding.name, text))
            case .cookie:
                cookies.append(binding.name + "=" + encode(scalarText(value)))
            }
        }

        // Path: substitute placeholders in the template.
        var template = Substring(operation.pathTemplate)
        while let open = template.firstIndex(of: "{") {
            path += template[..<open]
            guard let close = template[open...].firstIndex(of: "}") else { break }
            let name = String(template[template.index(after: open)..<close])
            guard let binding = operation.parameters.first(where: { $0.location == .path && $0.name == name }),
                let value = values[name + "\u{0}path"]
            else { throw ArgumentError(argument: name, message: "is required") }
            path += try pathValue(binding, value)
            template = template[template.index(after: close)...]
        }
        path += template
        // Values side by side in one segment (`/{a}{b}`) could still spell a dot segment.
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) where segment == "." || segment == ".." {
            throw ArgumentError(argument: operation.parameters.first { $0.location == .path }?.argument ?? "path", message: "the path would hold a \"\(segment)\" segment")
        }

        if !cookies.isEmpty { headers.append(("Cookie", cookies.joined(separator: "; "))) }

        var body: [UInt8]?
        if let binding = operation.body {
            let payload: JSONValue?
            switch binding.source {
            case .argument(let name):
                payload = arguments[name].flatMap { $0 == .null ? nil : $0 }
            case .flattened(let mapping):
                var object: JSONObject = [:]
                for (argument, property) in mapping {
                    if let value = arguments[argument] { object[property] = value }
                }
                payload = object.isEmpty && !binding.required ? nil : .object(object)
            }
            if let payload {
                headers.append(("Content-Type", binding.mediaType))
                switch binding.encoding {
                case .json: body = Array(payload.serialized().utf8)
                case .form: body = Array(formEncode(payload).utf8)
                case .text: body = Array((payload.stringValue ?? payload.serialized()).utf8)
                }
            } else if binding.required {
                throw ArgumentError(argument: "body", message: "a request body is required")
            }
        }
        var pathAndQuery = path.isEmpty ? "/" : path
        if !query.isEmpty { pathAndQuery += "?" + query.joined(separator: "&") }
        return BackendRequest(method: operation.method, pathAndQuery: pathAndQuery, headers: headers, body: body)
    }

    // MARK: - Styles

    static func pathValue(_ binding: ParameterBinding, _ value: JSONValue) throws(ArgumentError) -> String {
        let prefix: String
        let separator: String
        switch binding.style {
        case .label:
            prefix = "."
            separator = binding.explode ? "." : ","
        case .matrix:
            prefix = ";" + encode(binding.name) + "="
            separator = binding.explode ? ";" + encode(binding.name) + "=" : ","
        default:
            prefix = ""
            separator = ","
        }
        let parts: [String]
        switch value {
        case .array(let items): parts = items.map { encode(scalarText($0)) }
        case .object(let members):
            parts = members.keys.sorted().map { key in
                binding.explode ? encode(key) + "=" + encode(scalarText(members[key] ?? .null)) : encode(key) + "," + encode(scalarText(members[key] ?? .null))
            }
        default:
            let text = binding.serializeAsJSON ? value.serialized() : scalarText(value)
            parts = [encode(text)]
        }
        // Whatever the style and the kind of value (an array [".."] too), the text put in the
        // path must not be empty or a dot segment, which would move the request elsewhere.
        let segment = prefix + parts.joined(separator: separator)
        if segment.isEmpty { throw ArgumentError(argument: binding.argument, message: "must not be empty") }
        if segment == "." || segment == ".." { throw ArgumentError(argument: binding.argument, message: "must not be \"\(segment)\"") }
        return segment
    }

    static func queryPairs(_ binding: ParameterBinding, _ value: JSONValue) throws(ArgumentError) -> [String] {
        let name = encode(binding.name)
        let enc: (String) -> String = { binding.allowReserved ? encodeAllowingReserved($0) : encode($0) }
        if binding.serializeAsJSON { return [name + "=" + enc(value.serialized())] }
        switch value {
        case .array(let items):
            let texts = items.map { scalarText($0) }
            switch binding.style {
            case .spaceDelimited: return [name + "=" + texts.map(enc).joined(separator: "%20")]
            case .pipeDelimited: return [name + "=" + texts.map(enc).joined(separator: "|")]
            default:
                return binding.explode ? texts.map { name + "=" + enc($0) } : [name + "=" + texts.map(enc).joined(separator: ",")]
            }
        case .object(let members):
            let keys = members.keys.sorted()
            switch binding.style {
            case .deepObject:
                return keys.map { name + "%5B" + encode($0) + "%5D=" + enc(scalarText(members[$0] ?? .null)) }
            default:
                if binding.explode { return keys.map { encode($0) + "=" + enc(scalarText(members[$0] ?? .null)) } }
                return [name + "=" + keys.flatMap { [enc($0), enc(scalarText(members[$0] ?? .null))] }.joined(separator: ",")]
            }
        default:
            return [name + "=" + enc(scalarText(value))]
        }
    }

    static func headerValue(_ binding: ParameterBinding, _ value: JSONValue) throws(ArgumentError) -> String {
        let text: String
        switch value {
        case .array(let items): text = items.map { scalarText($0) }.joined(separator: ",")
        case .object(let members):
            text = members.keys.sorted().map { binding.explode ? "\($0)=\(scalarText(members[$0] ?? .null))" : "\($0),\(scalarText(members[$0] ?? .null))" }
                .joined(separator: ",")
        default: text = binding.serializeAsJSON ? value.serialized() : scalarText(value)
        }
        if text.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0x00 }) {
            throw ArgumentError(argument: binding.argument, message: "header values must not contain line breaks")
        }
        return text
    }

    static func formEncode(_ payload: JSONValue) -> String {
        guard case .object(let members) = payload else { return encode(scalarText(payload)) }
        var pairs: [String] = []
        for key in members.keys.sorted() {
            switch members[key] {
            case .array(let items)?: pairs.append(contentsOf: items.map { encode(key) + "=" + encode(scalarText($0)) })
            case let value?: pairs.append(encode(key) + "=" + encode(scalarText(value)))
            case nil: break
            }
        }
        return pairs.joined(separator: "&")
    }

    /// Strings as they are; numbers and booleans as JSON writes them; containers as JSON.
    static func scalarText(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return s
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        default: return value.serialized()
        }
    }

    /// RFC 3986 percent-encoding of everything but unreserved characters.
    public static func encode(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + hex(byte)
            }
        }
        return out
    }

    /// Like `encode`, but leaves RFC 3986 reserved characters (`allowReserved: true`).
    static func encodeAllowingReserved(_ text: String) -> String {
        let reserved = Set(":/?#[]@!$&'()*+,;=".utf8)
        var out = ""
        for byte in text.utf8 {
            if isUnreserved(byte) || reserved.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + hex(byte)
            }
        }
        return out
    }

    static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
    }

    static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(b >> 4)], digits[Int(b & 0x0F)]])
    }
}
