import ReshaprJSON
import ReshaprTools

/// How a tool's arguments become an HTTP request.
public struct HTTPOperation: Sendable, Hashable {
    public var method: String
    /// The path as written in the spec, with `{name}` placeholders.
    public var pathTemplate: String
    public var operationID: String?
    public var parameters: [ParameterBinding]
    public var body: BodyBinding?
    /// Documented responses, success first; what the mock backend answers from.
    public var responses: [ResponseDescription]

    /// `GET /pets/{id}`.
    public var signature: String { "\(method) \(pathTemplate)" }
}

/// One spec parameter and the argument that carries it.
public struct ParameterBinding: Sendable, Hashable {
    public enum Location: String, Sendable, Hashable {
        case path, query, header, cookie
    }

    public enum Style: String, Sendable, Hashable {
        case simple, form, label, matrix, spaceDelimited, pipeDelimited, deepObject
    }

    /// Property name in the tool's input schema.
    public var argument: String
    /// Name on the wire.
    public var name: String
    public var location: Location
    public var required: Bool
    public var style: Style
    public var explode: Bool
    public var allowReserved: Bool
    /// Parameters described with `content` are sent as JSON text.
    public var serializeAsJSON: Bool
}

/// Where the request body comes from and how it is encoded.
public struct BodyBinding: Sendable, Hashable {
    public enum Encoding: String, Sendable, Hashable {
        case json, form, text
    }

    public enum Source: Sendable, Hashable {
        /// The whole body is one argument.
        case argument(String)
        /// The body object's properties are top-level arguments: argument name → property name.
        case flattened([String: String])
    }

    public var mediaType: String
    public var encoding: Encoding
    public var required: Bool
    public var source: Source
}

/// A documented response: status (`200`, `2XX`, `default`), media type, schema and example.
public struct ResponseDescription: Sendable, Hashable {
    public var status: String
    public var mediaType: String?
    /// The schema with references resolved (recursion cut), for generating mock values.
    public var schema: JSONValue?
    public var example: JSONValue?

    public var isSuccess: Bool { status.hasPrefix("2") }
}

/// An OpenAPI tool: its definition and the HTTP operation it calls.
public typealias OpenAPITool = CompiledTool<HTTPOperation>

extension CompiledTool where Binding == HTTPOperation {
    public var operation: HTTPOperation { binding }
}
