import ReshaprJSON

/// MCP tool annotations (hints for clients; not enforced).
public struct ToolAnnotations: Sendable, Hashable {
    public var title: String?
    public var readOnlyHint: Bool?
    public var destructiveHint: Bool?
    public var idempotentHint: Bool?
    public var openWorldHint: Bool?

    public init(title: String? = nil, readOnlyHint: Bool? = nil, destructiveHint: Bool? = nil, idempotentHint: Bool? = nil, openWorldHint: Bool? = nil) {
        self.title = title
        self.readOnlyHint = readOnlyHint
        self.destructiveHint = destructiveHint
        self.idempotentHint = idempotentHint
        self.openWorldHint = openWorldHint
    }

    public var json: JSONValue {
        var object: JSONObject = [:]
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

    public init(
        name: String, title: String? = nil, description: String, inputSchema: JSONValue, outputSchema: JSONValue? = nil, annotations: ToolAnnotations
    ) {
        self.name = name
        self.title = title
        self.description = description
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.annotations = annotations
    }

    /// The MCP `Tool` object of `tools/list`.
    public var json: JSONValue {
        var object: JSONObject = [
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

/// A tool and what it calls: an HTTP operation, a GraphQL field, a gRPC method.
public struct CompiledTool<Binding: Sendable & Hashable>: Sendable, Hashable {
    public var definition: ToolDefinition
    public var binding: Binding

    public init(definition: ToolDefinition, binding: Binding) {
        self.definition = definition
        self.binding = binding
    }
}

/// An operation that did not become a tool, and why.
public struct SkippedOperation: Sendable, Hashable, CustomStringConvertible {
    public var signature: String
    public var operationID: String?
    public var reason: String

    public init(signature: String, operationID: String? = nil, reason: String) {
        self.signature = signature
        self.operationID = operationID
        self.reason = reason
    }

    public var description: String { "\(signature)\(operationID.map { " (\($0))" } ?? ""): \(reason)" }
}

/// Why an operation cannot become a tool.
public struct UnsupportedOperation: Error, Sendable, Hashable {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }
}

/// The tools of one API description.
public struct ToolCatalog<Binding: Sendable & Hashable>: Sendable {
    public var tools: [CompiledTool<Binding>]
    public var skipped: [SkippedOperation]
    /// `include`, `exclude` or `overrides` entries that matched no operation.
    public var unmatchedSelectors: [String]
    /// The names of the operations left out by `include`/`exclude` (not errors).
    public var excludedNames: [String]
    /// Operations left out by `include`/`exclude`.
    public var filteredOut: Int { excludedNames.count }
    private var index: [String: Int]

    public init(tools: [CompiledTool<Binding>], skipped: [SkippedOperation], unmatchedSelectors: [String], excludedNames: [String] = []) {
        self.tools = tools
        self.skipped = skipped
        self.unmatchedSelectors = unmatchedSelectors
        self.excludedNames = excludedNames
        var index: [String: Int] = [:]
        for (i, tool) in tools.enumerated() { index[tool.definition.name] = i }
        self.index = index
    }

    public func tool(named name: String) -> CompiledTool<Binding>? {
        index[name].map { tools[$0] }
    }

    /// The same catalog with each binding wrapped (e.g. into a gateway-wide enum).
    public func mapBindings<Other>(_ transform: (Binding) -> Other) -> ToolCatalog<Other> {
        ToolCatalog<Other>(
            tools: tools.map { CompiledTool(definition: $0.definition, binding: transform($0.binding)) }, skipped: skipped,
            unmatchedSelectors: unmatchedSelectors, excludedNames: excludedNames)
    }
}
