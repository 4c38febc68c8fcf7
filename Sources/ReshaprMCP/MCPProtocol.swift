import HTTPTypes
import Logging
import ReshaprJSON

/// The MCP revisions this server speaks, newest first.
///
/// Modern revisions (2026-07-28) carry their version and client capabilities in every request's
/// `_meta` and need no session; legacy revisions open a session with `initialize`.
public enum MCPVersion {
    /// Revisions served statelessly, from per-request metadata.
    public static let modern = ["2026-07-28"]
    /// Revisions served in sessions opened by `initialize`.
    public static let supported = ["2025-11-25", "2025-06-18", "2025-03-26"]
    /// Every revision this server speaks, as `server/discover` and `UnsupportedProtocolVersion` list them.
    public static let all = modern + supported
    /// The legacy revision `initialize` settles on when the client asks for one we do not speak.
    public static let latest = "2025-11-25"
    /// The first revision without JSON-RPC batching. Revisions are dates, so they compare as strings.
    public static let withoutBatching = "2025-06-18"

    /// The client's version when we speak it, else our latest.
    public static func negotiate(_ requested: String?) -> String {
        requested.flatMap { supported.contains($0) ? $0 : nil } ?? latest
    }
}

/// JSON-RPC 2.0 error codes used by MCP.
public enum JSONRPCErrorCode {
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603
    public static let requestCancelled = -32800
    /// Revisions before 2026-07-28: no resource has the URI (2026-07-28 uses invalidParams).
    public static let resourceNotFound = -32002
    /// Implementation-defined server error (JSON-RPC's -32000 to -32019): limits reached.
    public static let serverError = -32000
    /// 2026-07-28: the MCP request headers are missing, malformed or contradict the body.
    public static let headerMismatch = -32020
    /// 2026-07-28: the request needs a client capability it did not declare.
    public static let missingRequiredClientCapability = -32021
    /// 2026-07-28: the request's protocol version is not one this server speaks.
    public static let unsupportedProtocolVersion = -32022

    /// The HTTP status of a modern (2026-07-28) error answer, as the Streamable HTTP transport sets it.
    static func httpStatus(_ code: Int) -> HTTPResponse.Status {
        switch code {
        case parseError, invalidRequest, invalidParams, headerMismatch, missingRequiredClientCapability, unsupportedProtocolVersion: .badRequest
        case methodNotFound: .notFound
        default: .ok
        }
    }
}

/// Reserved `_meta` keys of MCP 2026-07-28.
public enum MCPMetaKey {
    public static let protocolVersion = "io.modelcontextprotocol/protocolVersion"
    public static let clientCapabilities = "io.modelcontextprotocol/clientCapabilities"
    public static let clientInfo = "io.modelcontextprotocol/clientInfo"
    public static let serverInfo = "io.modelcontextprotocol/serverInfo"
    public static let subscriptionID = "io.modelcontextprotocol/subscriptionId"
    public static let progressToken = "progressToken"
}

/// What a tool call returns: MCP `CallToolResult`.
public struct MCPToolResult: Sendable, Hashable {
    public var content: [JSONValue]
    public var structuredContent: JSONValue?
    public var isError: Bool
    /// The backend refused what the user gave (``MCPUserInput``): a legacy session forgets it,
    /// so that the next call asks again. Not part of the MCP result.
    public var userInputRejected = false

    public init(content: [JSONValue], structuredContent: JSONValue? = nil, isError: Bool = false) {
        self.content = content
        self.structuredContent = structuredContent
        self.isError = isError
    }

    /// A result with one text block.
    public static func text(_ text: String, isError: Bool = false) -> MCPToolResult {
        MCPToolResult(content: [["type": "text", "text": .string(text)]], isError: isError)
    }

    /// A JSON object answer: `structuredContent`, repeated as JSON text for clients without structured output.
    public static func structured(_ object: JSONValue) -> MCPToolResult {
        MCPToolResult(content: [["type": "text", "text": .string(object.serialized())]], structuredContent: object)
    }

    public var json: JSONValue {
        var object: JSONObject = ["content": .array(content), "isError": .bool(isError)]
        if let structuredContent { object["structuredContent"] = structuredContent }
        return .object(object)
    }
}

/// What a tool call knows of the MCP request that made it.
public struct MCPCallContext: Sendable {
    /// Headers of the HTTP request (for passthrough authentication and trace propagation).
    public var headers: HTTPFields
    /// The legacy session the call belongs to; nil on modern (2026-07-28) requests, which have none.
    public var sessionID: String?
    public var protocolVersion: String
    /// The id of the HTTP request, also in the response's `X-Request-Id` and in `logger`'s metadata.
    public var requestID: String
    /// The authenticated client (see ``MCPAuthorization``), if the endpoint authenticates.
    public var client: String?
    /// The caller's `traceparent`, or a new trace when it sent none: forward it to the backend.
    public var traceParent: TraceParent
    /// Logs of this request, with `request_id` set.
    public var logger: Logger
    /// The user's answers to the provider's ``MCPUserInput``, by key.
    public var userInputs: [String: String] = [:]
    /// The caller's token scopes, when the endpoint checks scopes.
    public var scopes: Set<String>? = nil
}

/// The outcome of `callTool` when the tool does not exist: a protocol error, not a tool error.
public enum MCPToolLookup: Sendable {
    case result(MCPToolResult)
    case unknownTool
}

/// An MCP endpoint's tools, prompts and resources. The MCP layer knows nothing of where they
/// come from.
public protocol MCPToolProvider: Sendable {
    /// `serverInfo` of `initialize`.
    var serverInfo: JSONValue { get }
    /// `instructions` of `initialize`, if any.
    var instructions: String? { get }
    /// Every tool, as MCP `Tool` objects, in a stable order.
    var tools: [JSONValue] { get }
    /// Calls a tool; arguments are those of the request, not yet validated.
    func callTool(name: String, arguments: JSONObject, context: MCPCallContext) async -> MCPToolLookup

    /// Checks the caller's credentials before anything else is done with the request.
    /// `resource` is the endpoint's URL as the client reached it (for OAuth challenges).
    func authorize(_ headers: HTTPFields, resource: MCPResourceURL) async -> MCPAuthorization

    /// How long a client may cache `tools/list` and `server/discover` (2026-07-28 `ttlMs`).
    var listCacheTTL: Duration { get }
    /// Whether the endpoint authenticates its clients: its cacheable results are then `private`.
    var authenticatesClients: Bool { get }
    /// The `x-mcp-header` annotations of a tool's input schema, which 2026-07-28 clients mirror
    /// into `Mcp-Param-*` headers; empty when the tool has none.
    func paramHeaders(ofTool name: String) -> [MCPParamHeader]
    /// What the user must provide before the tool can be called, if anything; the MCP layer
    /// asks for it and puts the answer in `MCPCallContext.userInputs`.
    func userInput(forTool name: String) -> MCPUserInput?
    /// The OAuth2 scopes a call of the tool needs (checked when the caller's token carries
    /// scopes); empty when it needs none.
    func requiredScopes(forTool name: String) -> [String]
    /// The tools a caller with these scopes is shown (`nil`: the caller has no token scopes).
    func tools(visibleWith scopes: Set<String>?) -> [JSONValue]

    /// Every prompt, as MCP `Prompt` objects, in a stable order.
    var prompts: [JSONValue] { get }
    /// Renders a prompt with the caller's arguments (strings, not yet checked).
    func getPrompt(name: String, arguments: JSONObject, context: MCPCallContext) async -> MCPPromptLookup
    /// Every static resource, as MCP `Resource` objects, in a stable order.
    var resources: [JSONValue] { get }
    /// Every resource template, as MCP `ResourceTemplate` objects, in a stable order.
    var resourceTemplates: [JSONValue] { get }
    /// Reads the resource at `uri`: a static one, or one that a template matches.
    func readResource(uri: String, context: MCPCallContext) async -> MCPResourceLookup
}

extension MCPToolProvider {
    public var listCacheTTL: Duration { .seconds(60) }
    public var authenticatesClients: Bool { false }
    public func paramHeaders(ofTool name: String) -> [MCPParamHeader] { [] }
    public func userInput(forTool name: String) -> MCPUserInput? { nil }
    public func requiredScopes(forTool name: String) -> [String] { [] }
    public func tools(visibleWith scopes: Set<String>?) -> [JSONValue] { tools }
    public var prompts: [JSONValue] { [] }
    public func getPrompt(name: String, arguments: JSONObject, context: MCPCallContext) async -> MCPPromptLookup { .unknownPrompt }
    public var resources: [JSONValue] { [] }
    public var resourceTemplates: [JSONValue] { [] }
    public func readResource(uri: String, context: MCPCallContext) async -> MCPResourceLookup { .notFound }
}

/// A value the user must provide before a tool can be called (their own credential for the
/// API), asked through the client: an `InputRequiredResult` (multi round-trip request) on
/// 2026-07-28 requests, an `elicitation/create` request on legacy sessions.
public struct MCPUserInput: Sendable, Hashable {
    /// Names the answer in `MCPCallContext.userInputs` and in `inputRequests`.
    public var key: String
    /// What the user is told they are asked for.
    public var message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    /// The `elicitation/create` request that asks for it: a form with one string field, `value`.
    var elicitation: JSONValue {
        [
            "method": "elicitation/create",
            "params": [
                "mode": "form", "message": .string(message),
                "requestedSchema": [
                    "type": "object", "properties": ["value": ["type": "string", "title": .string(key), "description": .string(message)]],
                    "required": ["value"],
                ],
            ],
        ]
    }

    /// What an `ElicitResult` says: the value accepted, or why there is none.
    enum Answer: Equatable {
        case accepted(String)
        case refused(String)
        case unusable
    }

    static func answer(_ result: JSONValue?) -> Answer {
        switch result?["action"]?.stringValue {
        case "accept":
            guard let value = result?["content"]?["value"]?.stringValue, !value.isEmpty else { return .unusable }
            return .accepted(value)
        case "decline": return .refused("declined")
        case "cancel": return .refused("cancelled")
        default: return .unusable
        }
    }
}

/// Where an MCP endpoint is, as the client addressed it: scheme and authority from the request.
public struct MCPResourceURL: Sendable, Hashable {
    /// `https://gateway.example.com`, from `X-Forwarded-Proto` (else http) and the Host header.
    public var origin: String
    public var path: String

    public init(origin: String, path: String) {
        self.origin = origin
        self.path = path
    }

    public var url: String { origin + path }
    /// RFC 9728 protected resource metadata URL for this endpoint.
    public var protectedResourceMetadata: String { origin + "/.well-known/oauth-protected-resource" + path }
}

/// The outcome of checking a caller's credentials.
public enum MCPAuthorization: Sendable {
    /// The caller may go on; `client` names it (for rate limits and logs), nil for anonymous
    /// endpoints; `scopes` are its token's OAuth2 scopes, nil when the endpoint checks none.
    case allowed(client: String?, scopes: Set<String>? = nil)
    case refused(MCPAuthorizationFailure)
}

/// Why a caller is refused, and how it should authenticate (the `WWW-Authenticate` challenge).
public struct MCPAuthorizationFailure: Sendable {
    /// 401 for missing or bad credentials; 403 for a token without the scopes needed; 503
    /// when the gateway cannot check them now.
    public var status: HTTPResponse.Status
    public var message: String
    public var challenge: String?

    public init(status: HTTPResponse.Status = .unauthorized, message: String, challenge: String?) {
        self.status = status
        self.message = message
        self.challenge = challenge
    }
}

enum JSONRPC {
    static func result(id: JSONValue, _ result: JSONValue) -> JSONValue {
        ["jsonrpc": "2.0", "id": id, "result": result]
    }

    static func error(id: JSONValue, code: Int, message: String, data: JSONValue? = nil) -> JSONValue {
        var error: JSONObject = ["code": .integer(code), "message": .string(message)]
        if let data { error["data"] = data }
        return ["jsonrpc": "2.0", "id": id, "error": .object(error)]
    }

    static func notification(_ method: String, params: JSONValue? = nil) -> JSONValue {
        var object: JSONObject = ["jsonrpc": "2.0", "method": .string(method)]
        if let params { object["params"] = params }
        return .object(object)
    }
}
