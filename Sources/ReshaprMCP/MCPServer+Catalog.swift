import Hummingbird
import ReshaprJSON

/// Prompts and resources: `prompts/list`, `prompts/get`, `resources/list`,
/// `resources/templates/list` and `resources/read`, the same in both eras; each era wraps the
/// answer its own way (modern results are completed and carry caching hints).
extension MCPServer {
    static let catalogMethods: Set<String> = ["prompts/list", "prompts/get", "resources/list", "resources/templates/list", "resources/read"]

    /// A JSON-RPC error answer of a catalog request.
    struct RPCFailure: Error {
        var code: Int
        var message: String
        var data: JSONValue?
    }

    /// A catalog request's result, and how a modern client may cache it (nil: not cacheable).
    struct CatalogAnswer {
        enum Caching {
            /// Like `tools/list`: the endpoint's list TTL, private when it authenticates clients.
            case list
            case resource(MCPResourceContents)
        }

        var result: JSONObject
        var caching: Caching?
    }

    /// Answers one of ``catalogMethods``. `modern` picks the "resource not found" code of the
    /// revision: -32602 in 2026-07-28, -32002 before.
    func catalog(
        _ method: String, params: JSONValue, provider: any MCPToolProvider, context: MCPCallContext, pageSize: Int, modern: Bool
    ) async -> Result<CatalogAnswer, RPCFailure> {
        // An endpoint without prompts (resources) does not declare the capability, nor answer its methods.
        guard Self.capabilities(of: provider)[method.hasPrefix("prompts/") ? "prompts" : "resources"] != nil else {
            return .failure(RPCFailure(code: JSONRPCErrorCode.methodNotFound, message: "Method not found: \(method) (this endpoint serves no \(method.hasPrefix("prompts/") ? "prompts" : "resources"))"))
        }
        switch method {
        case "prompts/list":
            return Self.listing("prompts", provider.prompts, params: params, pageSize: pageSize)
        case "resources/list":
            return Self.listing("resources", provider.resources, params: params, pageSize: pageSize)
        case "resources/templates/list":
            return Self.listing("resourceTemplates", provider.resourceTemplates, params: params, pageSize: pageSize)
        case "prompts/get":
            guard let name = params["name"]?.stringValue else { return .failure(RPCFailure(code: JSONRPCErrorCode.invalidParams, message: "params.name is required")) }
            let arguments: JSONObject
            switch params["arguments"] {
            case nil, .null?: arguments = [:]
            case .object(let members)? where members.values.allSatisfy({ $0.stringValue != nil }): arguments = members
            default:
                return .failure(RPCFailure(code: JSONRPCErrorCode.invalidParams, message: "params.arguments must be an object of strings"))
            }
            switch await provider.getPrompt(name: name, arguments: arguments, context: context) {
            case .unknownPrompt:
                return .failure(RPCFailure(code: JSONRPCErrorCode.invalidParams, message: "Unknown prompt: \(name)"))
            case .invalidArguments(let why):
                return .failure(RPCFailure(code: JSONRPCErrorCode.invalidParams, message: "prompt \(name): \(why)"))
            case .result(let result):
                return .success(CatalogAnswer(result: result.objectValue ?? [:], caching: nil))
            }
        case "resources/read":
            guard let uri = params["uri"]?.stringValue else { return .failure(RPCFailure(code: JSONRPCErrorCode.invalidParams, message: "params.uri is required")) }
            switch await provider.readResource(uri: uri, context: context) {
            case .notFound:
                return .failure(
                    RPCFailure(
                        code: modern ? JSONRPCErrorCode.invalidParams : JSONRPCErrorCode.resourceNotFound, message: "Resource not found",
                        data: ["uri": .string(uri)]))
            case .refused(let why):
                return .failure(RPCFailure(code: JSONRPCErrorCode.invalidParams, message: "cannot read \(uri): \(why)", data: ["uri": .string(uri)]))
            case .failed(let why):
                return .failure(RPCFailure(code: JSONRPCErrorCode.internalError, message: "cannot read \(uri): \(why)", data: ["uri": .string(uri)]))
            case .contents(let read):
                return .success(CatalogAnswer(result: ["contents": .array(read.contents)], caching: .resource(read)))
            }
        default:
            return .failure(RPCFailure(code: JSONRPCErrorCode.methodNotFound, message: "Method not found: \(method)"))
        }
    }

    private static func listing(_ member: String, _ items: [JSONValue], params: JSONValue, pageSize: Int) -> Result<CatalogAnswer, RPCFailure> {
        switch page(items, cursor: params["cursor"], pageSize: pageSize) {
        case .failure(let invalid):
            return .failure(RPCFailure(code: JSONRPCErrorCode.invalidParams, message: invalid.description))
        case .success(let (page, next)):
            var result: JSONObject = [member: .array(page)]
            if let next { result["nextCursor"] = .string(next) }
            return .success(CatalogAnswer(result: result, caching: .list))
        }
    }

    /// A catalog request of a legacy session, answered as a JSON-RPC response.
    func legacyCatalog(id: JSONValue, method: String, params: JSONValue, provider: any MCPToolProvider, context: MCPCallContext, pageSize: Int) async -> JSONValue {
        switch await catalog(method, params: params, provider: provider, context: context, pageSize: pageSize, modern: false) {
        case .failure(let failure): return JSONRPC.error(id: id, code: failure.code, message: failure.message, data: failure.data)
        case .success(let answer): return JSONRPC.result(id: id, .object(answer.result))
        }
    }

    /// A catalog request of a modern client: a completed result with its caching hints.
    func modernCatalog(id: JSONValue, method: String, params: JSONValue, provider: any MCPToolProvider, context: MCPCallContext, pageSize: Int) async -> Response {
        switch await catalog(method, params: params, provider: provider, context: context, pageSize: pageSize, modern: true) {
        case .failure(let failure):
            return Self.modernError(id: id, failure.code, failure.message, data: failure.data)
        case .success(let answer):
            var result = answer.result
            switch answer.caching {
            case nil:
                break
            case .list:
                result.merge(cacheable(provider)) { _, hint in hint }
            case .resource(let read):
                var hints = cacheable(provider)
                if let ttl = read.ttl { hints["ttlMs"] = .integer(Self.milliseconds(ttl)) }
                if read.perCaller { hints["cacheScope"] = "private" }
                result.merge(hints) { _, hint in hint }
            }
            return complete(id: id, result, provider: provider)
        }
    }

    /// The server's capabilities, the same in `initialize` and `server/discover`: prompts and
    /// resources only on endpoints that have some.
    static func capabilities(of provider: any MCPToolProvider) -> JSONValue {
        var capabilities: JSONObject = ["tools": ["listChanged": true]]
        if !provider.prompts.isEmpty { capabilities["prompts"] = ["listChanged": true] }
        if !provider.resources.isEmpty || !provider.resourceTemplates.isEmpty { capabilities["resources"] = ["listChanged": true] }
        return .object(capabilities)
    }
}

/// What `getPrompt` gives.
public enum MCPPromptLookup: Sendable {
    /// A `GetPromptResult`: `description` and `messages`.
    case result(JSONValue)
    case unknownPrompt
    /// The caller's arguments do not fit the prompt (a required one is missing): why.
    case invalidArguments(String)
}

/// The contents of a resource and how long a client may keep them.
public struct MCPResourceContents: Sendable {
    /// MCP `TextResourceContents` or `BlobResourceContents` objects.
    public var contents: [JSONValue]
    /// How long 2026-07-28 clients may cache them; nil: as long as the endpoint's lists.
    public var ttl: Duration?
    /// They depend on the caller's own credentials: `cacheScope` is then `private`.
    public var perCaller: Bool

    public init(contents: [JSONValue], ttl: Duration? = nil, perCaller: Bool = false) {
        self.contents = contents
        self.ttl = ttl
        self.perCaller = perCaller
    }
}

/// What `readResource` gives.
public enum MCPResourceLookup: Sendable {
    case contents(MCPResourceContents)
    /// No resource has that URI (and no template matches it).
    case notFound
    /// The URI matches a template but may not be read (it would leave its path segment): why.
    case refused(String)
    /// The resource exists but could not be read now (its backend failed): why.
    case failed(String)
}
