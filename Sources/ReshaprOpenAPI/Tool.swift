import ReshaprJSON

/// MCP tool annotations (hints for clients; not enforced).
public struct ToolAnnotations: Sendable, Hashable {
    public var title: String?
    public var readOnlyHint: Bool?
    public var destructiveHint: Bool?
    public var idempotentHint: Bool?
    public var openWorldHint: Bool?

    public var json: JSONValue {
        var object: [String: JSONValue] = [:]
        if let title { object["title"] = .string(title) }
        if let readOnlyHint { object["readOnlyHint"] = .bool(readOnlyHint) }
        if let destructiveHint { object["destructiveHint"] = .bool(destructiveHint) }
        if let idempotentHint { object["idempotentHint"] = .bool(idempotentHint) }
        if let openWorldHint { object["openWorldHint"] = .bool(openWorldHint) }
        return .object(object)
    }
}

/// What an MCP client sees of a tool.
public struct ToolDefinition: Sendable, Hashable {
    public var name: String
    public var title: String?
    public var description: String
    public var inputSchema: JSONValue
    /// Present only when the success response is a JSON object.
    public var outputSchema: JSONValue?
    public var annotations: ToolAnnotations

    /// The MCP `Tool` object of `tools/list`.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name),
            "description": .string(description),
            "inputSchema": inputSchema,
            "annotations": annotations.json,
        ]
        if let title { object["title"] = .string(title) }
        if let outputSchema { object["outputSchema"] = outputSchema }
        return .object(object)
    }
}

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

/// A tool and the operation it calls.
public struct CompiledTool: Sendable, Hashable {
    public var definition: ToolDefinition
    public var operation: HTTPOperation
}

/// An operation that did not become a tool, and why.
public struct SkippedOperation: Sendable, Hashable, CustomStringConvertible {
    public var signature: String
    public var operationID: String?
    public var reason: String

    public var description: String { "\(signature)\(operationID.map { " (\($0))" } ?? ""): \(reason)" }
}

/// The tools of one API description.
public struct ToolCatalog: Sendable {
    public var tools: [CompiledTool]
    public var skipped: [SkippedOperation]
    /// `include`, `exclude` or `overrides` entries that matched no operation.
    public var unmatchedSelectors: [String]
    /// Operations left out by `include`/`exclude` (not errors).
    public var filteredOut: Int
    private var index: [String: Int]

    init(tools: [CompiledTool], skipped: [SkippedOperation], unmatchedSelectors: [String], filteredOut: Int) {
        self.tools = tools
        self.skipped = skipped
        self.unmatchedSelectors = unmatchedSelectors
        self.filteredOut = filteredOut
        var index: [String: Int] = [:]
        for (i, tool) in tools.enumerated() { index[tool.definition.name] = i }
        self.index = index
    }

    public func tool(named name: String) -> CompiledTool? {
        index[name].map { tools[$0] }
    }
}
