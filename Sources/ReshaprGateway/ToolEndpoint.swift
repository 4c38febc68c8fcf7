import Foundation
import HTTPTypes
import Logging
import ReshaprBackend
import ReshaprConfig
import ReshaprJSON
import ReshaprMCP
import ReshaprOpenAPI
import Synchronization

/// The tools compiled from one API description and one tool selection, shared by every
/// endpoint that serves the same artifact the same way: compiled once, listed once, and
/// their validators compiled once (on first use of each tool).
public final class ToolSet: Sendable {
    public let catalog: ToolCatalog
    /// The MCP `Tool` objects of `tools/list`.
    public let tools: [JSONValue]
    private let validators = Mutex<[String: (input: JSONSchemaValidator?, output: JSONSchemaValidator?)]>([:])

    init(_ catalog: ToolCatalog) {
        self.catalog = catalog
        tools = catalog.tools.map(\.definition.json)
    }

    func validators(for tool: CompiledTool) -> (JSONSchemaValidator?, JSONSchemaValidator?) {
        let name = tool.definition.name
        if let cached = validators.withLock({ $0[name] }) { return cached }
        let input = try? JSONSchemaValidator(schema: tool.definition.inputSchema, strict: false)
        let output = tool.definition.outputSchema.flatMap { try? JSONSchemaValidator(schema: $0, strict: false) }
        validators.withLock { $0[name] = (input, output) }
        return (input, output)
    }
}

/// One served MCP endpoint: the tools of an exposition and how to call them.
/// Immutable once built; a reload builds new ones, and calls in flight keep theirs.
public final class ToolEndpoint: MCPToolProvider {
    public let exposition: ResolvedExposition
    public let toolSet: ToolSet
    public let serverInfo: JSONValue
    public let instructions: String?
    let backend: BackendClient
    let callTimeout: Duration
    let logger: Logger

    public var catalog: ToolCatalog { toolSet.catalog }
    public var tools: [JSONValue] { toolSet.tools }

    init(exposition: ResolvedExposition, toolSet: ToolSet, backend: BackendClient, callTimeout: Duration, logger: Logger) {
        self.exposition = exposition
        self.toolSet = toolSet
        self.backend = backend
        self.callTimeout = callTimeout
        self.logger = logger
        let service = exposition.service
        serverInfo = [
            "name": .string("reshapr-\(service.metadata.name)"),
            "title": .string("\(service.metadata.name) \(service.version) (reShapr)"),
            "version": .string(service.version),
        ]
        instructions = exposition.exposition.description ?? exposition.plan.description ?? service.description
    }

    /// Enforces the plan's `clientSecurity`. Only `none` and `apiKey` reach here: the routing
    /// table refuses to serve endpoints whose client security this gateway cannot enforce.
    public func authorize(_ headers: HTTPFields) -> MCPAuthorizationFailure? {
        switch exposition.plan.clientSecurity {
        case .none:
            return nil
        case .apiKey(let header, let value):
            guard let name = HTTPField.Name(header), let presented = headers[name] else {
                return MCPAuthorizationFailure(message: "missing API key: send it in the \(header) header", challenge: "ApiKey header=\"\(header)\"")
            }
            guard Self.constantTimeEqual(presented, value.revealed) else {
                return MCPAuthorizationFailure(message: "invalid API key", challenge: "ApiKey header=\"\(header)\", error=\"invalid_key\"")
            }
            return nil
        case .jwt:
            return MCPAuthorizationFailure(message: "this endpoint requires JWT authentication, which this gateway cannot check", challenge: "Bearer")
        }
    }

    /// Compares in time that depends on the lengths only, not on where the values differ.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return difference == 0
    }

    public func callTool(name: String, arguments: [String: JSONValue], context: MCPCallContext) async -> MCPToolLookup {
        guard let tool = catalog.tool(named: name) else { return .unknownTool }
        let (input, output) = toolSet.validators(for: tool)
        if let input {
            let violations = input.validate(.object(arguments))
            if !violations.isEmpty {
                let details = violations.prefix(10).map { $0.path.isRoot ? $0.message : "\($0.path): \($0.message)" }.joined(separator: "; ")
                return .result(.text("Invalid arguments for \(name): \(details). Fix the arguments and call the tool again.", isError: true))
            }
        }
        let request: BackendRequest
        do {
            request = try RequestBuilder.build(tool.operation, arguments: arguments)
        } catch {
            return .result(.text("Invalid arguments for \(name): \(error). Fix the arguments and call the tool again.", isError: true))
        }
        let response: BackendResponse
        switch exposition.plan.backend {
        case .mock:
            response = MockResponder.respond(to: tool.operation)
        case .http(let http):
            let timeout = min(http.timeout, callTimeout)
            // Only passthrough forwards the caller's headers: copy them only then.
            var callerHeaders: [(name: String, value: String)] = []
            if case .passthrough = exposition.plan.backendSecurity {
                callerHeaders = context.headers.map { (name: $0.name.canonicalName, value: $0.value) }
            }
            do {
                response = try await backend.send(request, to: http, security: exposition.plan.backendSecurity, callerHeaders: callerHeaders, timeout: timeout)
            } catch {
                logger.warning(
                    "backend call failed",
                    metadata: ["endpoint": "\(exposition.path)", "tool": "\(name)", "reason": "\(error)"])
                return .result(.text("Calling \(name) failed: \(error).", isError: true))
            }
        }
        return .result(ResultMapper.result(for: response, tool: tool, outputValidator: output))
    }
}
/// Turns a backend answer into an MCP tool result.
enum ResultMapper {
    static let excerptLength = 2000
    static let maxImageBytes = 5 << 20

    static func result(for response: BackendResponse, tool: CompiledTool, outputValidator: JSONSchemaValidator?) -> MCPToolResult {
        let status = response.status
        let reason = HTTPStatusText.text(for: status)
        guard (200..<300).contains(status) else {
            var text = "The backend answered \(status) \(reason)"
            if (300..<400).contains(status), let location = response.header("Location") { text += " (redirect to \(location), not followed)" }
            let body = excerpt(response.body)
            if !body.isEmpty { text += ": " + body }
            return .text(text, isError: true)
        }
        if response.body.isEmpty { return .text("\(status) \(reason)") }
        let mediaType = response.mediaType ?? "application/octet-stream"
        if mediaType.contains("json"), let value = try? JSONParser.parse(response.body) {
            guard case .object = value else { return .text(value.serialized()) }
            if let outputValidator {
                let violations = outputValidator.validate(value)
                if !violations.isEmpty {
                    let details = violations.prefix(5).map(\.description).joined(separator: "; ")
                    return .text(
                        "The backend answer does not match the documented response schema (\(details)). Answer: " + excerpt(response.body),
                        isError: true)
                }
            }
            return MCPToolResult(content: [["type": "text", "text": .string(value.serialized())]], structuredContent: value)
        }
        if mediaType.hasPrefix("image/") {
            guard response.body.count <= maxImageBytes else { return .text("The backend answered an image of \(response.body.count) bytes, too large to return.") }
            return MCPToolResult(content: [["type": "image", "data": .string(Data(response.body).base64EncodedString()), "mimeType": .string(mediaType)]])
        }
        if let text = String(validating: response.body, as: UTF8.self) {
            return .text(text)
        }
        return .text("The backend answered \(response.body.count) bytes of \(mediaType), which cannot be shown as text.")
    }

    static func excerpt(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(excerptLength * 4), as: UTF8.self)
        return text.count > excerptLength ? String(text.prefix(excerptLength)) + "…" : text
    }
}

/// Reason phrases for messages.
enum HTTPStatusText {
    static func text(for status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 409: return "Conflict"
        case 422: return "Unprocessable Content"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return ""
        }
    }
}
