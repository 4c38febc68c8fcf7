import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import ReshaprJSON
import Synchronization
import Tracing

extension HTTPField.Name {
    public static let mcpSessionID = HTTPField.Name("Mcp-Session-Id")!
    public static let mcpProtocolVersion = HTTPField.Name("MCP-Protocol-Version")!
    public static let requestID = HTTPField.Name("X-Request-Id")!
    public static let traceparent = HTTPField.Name("traceparent")!
    public static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!
}

/// MCP over Streamable HTTP for any number of endpoints (one per path).
///
/// POST carries JSON-RPC messages and is answered with `application/json`; GET opens a
/// server-sent-events stream for notifications such as `notifications/tools/list_changed`;
/// DELETE ends the session.
public struct MCPServer: Sendable {
    public struct Options: Sendable {
        /// Origins allowed for browser requests; requests from other origins get 403.
        /// Loopback origins are always allowed. Requests without Origin (non-browser clients) pass.
        public var allowedOrigins: [String]
        public var maxBodyBytes: Int
        /// Tools per `tools/list` page.
        public var pageSize: Int
        /// Requests per client (the authenticated client, else the remote address); nil: unlimited.
        public var rateLimit: RateLimiter.Limit?

        public init(allowedOrigins: [String] = [], maxBodyBytes: Int = 4 << 20, pageSize: Int = 100, rateLimit: RateLimiter.Limit? = nil) {
            self.allowedOrigins = allowedOrigins
            self.maxBodyBytes = maxBodyBytes
            self.pageSize = pageSize
            self.rateLimit = rateLimit
        }
    }

    public let sessions: SessionStore
    public let rateLimiter = RateLimiter()
    let options: @Sendable () -> Options
    let logger: Logger
    let metrics: any MetricsFactory
    /// Whether a tracer was bootstrapped (OpenTelemetry) when the server was made; without one,
    /// calls skip building spans that nobody would export.
    let tracing: Bool

    /// `options` is read at every request, so that a reload changes limits and origins.
    /// Refused requests are counted in `reshapr_mcp_rejected_total{reason}` of `metrics`.
    public init(sessions: SessionStore, logger: Logger, metrics: any MetricsFactory = NOOPMetricsHandler.instance, options: @escaping @Sendable () -> Options) {
        self.sessions = sessions
        self.logger = logger
        self.metrics = metrics
        self.options = options
        tracing = !(InstrumentationSystem.tracer is NoOpTracer)
    }

    /// Answers one HTTP request addressed to the MCP endpoint at `path`. Every answer carries
    /// `X-Request-Id`: the caller's, else the trace id of its `traceparent`, else a new one.
    public func handle(_ request: Request, path: String, provider: any MCPToolProvider, remoteAddress: String? = nil) async -> Response {
        let traceParent = request.headers[.traceparent].flatMap(TraceParent.init) ?? .random()
        let requestID = request.headers[.requestID].flatMap(Self.acceptableRequestID) ?? traceParent.traceID
        var logger = self.logger
        logger[metadataKey: "request_id"] = "\(requestID)"
        var response = await handle(request, path: path, provider: provider, remoteAddress: remoteAddress, traceParent: traceParent, requestID: requestID, logger: logger)
        response.headers[.requestID] = requestID
        return response
    }

    /// The endpoint a request path names: without its query, and without a trailing slash
    /// (`/mcp/x/` is `/mcp/x`; `/` stays).
    public static func endpointPath(_ requestPath: some StringProtocol) -> String {
        var path = requestPath.prefix { $0 != "?" }
        if path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return String(path)
    }

    /// Request ids from callers are kept when they are short and printable.
    static func acceptableRequestID(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count),
            value.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E || $0 == 0x3A })
        else { return nil }
        return value
    }

    private func reject(_ reason: String) {
        Counter(label: "reshapr_mcp_rejected_total", dimensions: [("reason", reason)], factory: metrics).increment()
    }

    private func handle(
        _ request: Request, path: String, provider: any MCPToolProvider, remoteAddress: String?, traceParent: TraceParent, requestID: String, logger: Logger
    ) async -> Response {
        let options = self.options()
        if let origin = request.headers[.origin], !Self.isAllowed(origin: origin, options.allowedOrigins) {
            logger.warning("refused request from origin", metadata: ["origin": "\(origin)", "path": "\(path)"])
            reject("origin")
            return Self.httpError(.forbidden, "Origin \(origin) is not allowed")
        }
        let client: String?
        switch await provider.authorize(request.headers, resource: Self.resourceURL(request, path: path)) {
        case .allowed(let name):
            client = name
        case .refused(let failure):
            logger.notice("refused request", metadata: ["path": "\(path)", "reason": "\(failure.message)", "remote": "\(remoteAddress ?? "?")"])
            reject(failure.status == .serviceUnavailable ? "auth_unavailable" : "unauthorized")
            var response = Self.jsonRPCError(failure.status, code: JSONRPCErrorCode.invalidRequest, failure.message)
            if let challenge = failure.challenge { response.headers[.wwwAuthenticate] = challenge }
            return response
        }
        if let limit = options.rateLimit, case .limited(let retryAfter) = rateLimiter.admit(client ?? remoteAddress ?? "unknown", limit: limit) {
            reject("rate_limited")
            let seconds = max(1, Int(RateLimiter.seconds(retryAfter).rounded(.up)))
            var response = Self.jsonRPCError(
                .tooManyRequests, code: JSONRPCErrorCode.serverError,
                "rate limit exceeded: at most \(limit.requestsPerSecond.formatted()) requests per second per client (burst \(limit.burst)); retry in \(seconds) s")
            response.headers[.retryAfter] = String(seconds)
            return response
        }
        let call = CallInfo(client: client, traceParent: traceParent, requestID: requestID, logger: logger)
        switch request.method {
        case .post: return await post(request, path: path, provider: provider, options: options, call: call)
        case .get: return get(request, path: path)
        case .delete:
            guard let id = request.headers[.mcpSessionID] else { return Self.httpError(.badRequest, "Mcp-Session-Id header is required") }
            guard sessions.touch(id, path: path) != nil else { return Self.httpError(.notFound, "unknown session") }
            sessions.remove(id)
            return Response(status: .noContent)
        default:
            var response = Self.httpError(.methodNotAllowed, "use POST, GET or DELETE")
            response.headers[.allow] = "GET, POST, DELETE"
            return response
        }
    }

    /// What a tool call needs to know of the request beyond its headers.
    struct CallInfo {
        var client: String?
        var traceParent: TraceParent
        var requestID: String
        var logger: Logger
    }

    /// The endpoint's URL as the client reached it: `X-Forwarded-Proto` (from a TLS-terminating
    /// proxy) or http, and the request's authority.
    public static func resourceURL(_ request: Request, path: String) -> MCPResourceURL {
        let proto = request.headers[.forwardedProto]?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let scheme = proto == "https" ? "https" : "http"
        let authority = request.head.authority ?? "localhost"
        return MCPResourceURL(origin: "\(scheme)://\(authority)", path: path)
    }

    static func isAllowed(origin: String, _ allowed: [String]) -> Bool {
        if allowed.contains("*") || allowed.contains(origin) { return true }
        guard let url = URL(string: origin), let host = url.host else { return false }
        return host == "localhost" || host == "127.0.0.1" || host == "::1" || host == "[::1]"
    }

    // MARK: - POST

    private func post(_ request: Request, path: String, provider: any MCPToolProvider, options: Options, call: CallInfo) async -> Response {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            return Self.httpError(.unsupportedMediaType, "Content-Type must be application/json")
        }
        // Answers are JSON, or a one-event SSE stream for clients that accept only that.
        let accept = request.headers[.accept]?.lowercased() ?? "*/*"
        let acceptsJSON = accept.utf8.contains("application/json".utf8) || accept.utf8.contains("*/*".utf8)
        let wantsSSE = !acceptsJSON && accept.utf8.contains("text/event-stream".utf8)
        if !acceptsJSON && !wantsSSE {
            return Self.httpError(.notAcceptable, "Accept must include application/json or text/event-stream")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: options.maxBodyBytes)
        } catch {
            reject("body_too_large")
            return Self.jsonRPCError(.contentTooLarge, code: JSONRPCErrorCode.invalidRequest, "request body exceeds \(options.maxBodyBytes) bytes")
        }
        let message: JSONValue
        do {
            message = try JSONParser.parse(Array(body.readableBytesView))
        } catch {
            return Self.jsonRPCError(.badRequest, code: JSONRPCErrorCode.parseError, "Parse error: \(error.description)")
        }

        let messages: [JSONValue]
        let isBatch: Bool
        if case .array(let batch) = message {
            guard !batch.isEmpty else { return Self.jsonRPCError(.badRequest, code: JSONRPCErrorCode.invalidRequest, "empty batch") }
            messages = batch
            isBatch = true
        } else {
            messages = [message]
            isBatch = false
        }

        // initialize creates the session; everything else needs one.
        if let first = messages.first, first["method"]?.stringValue == "initialize" {
            guard !isBatch else {
                return Self.jsonRPCError(.badRequest, code: JSONRPCErrorCode.invalidRequest, "initialize must not be part of a batch")
            }
            return initialize(first, path: path, provider: provider)
        }
        guard let sessionID = request.headers[.mcpSessionID] else {
            return Self.jsonRPCError(.badRequest, code: JSONRPCErrorCode.invalidRequest, "Mcp-Session-Id header is required; send initialize first")
        }
        guard let negotiated = sessions.touch(sessionID, path: path) else {
            return Self.jsonRPCError(.notFound, code: JSONRPCErrorCode.invalidRequest, "session not found; send initialize again")
        }
        if let version = request.headers[.mcpProtocolVersion], !MCPVersion.supported.contains(version) {
            return Self.jsonRPCError(
                .badRequest, code: JSONRPCErrorCode.invalidRequest,
                "unsupported MCP-Protocol-Version \(version); supported: \(MCPVersion.supported.joined(separator: ", "))")
        }
        let context = MCPCallContext(
            headers: request.headers, sessionID: sessionID, protocolVersion: negotiated, requestID: call.requestID, client: call.client,
            traceParent: call.traceParent, logger: call.logger)
        var responses: [JSONValue] = []
        for message in messages {
            if let response = await dispatch(message, provider: provider, context: context, pageSize: options.pageSize) {
                responses.append(response)
            }
        }
        if responses.isEmpty { return Response(status: .accepted) }
        let answer: JSONValue = isBatch ? .array(responses) : responses[0]
        if wantsSSE {
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: ResponseBody(byteBuffer: SSE.event(answer)))
        }
        return Self.json(answer)
    }

    private func initialize(_ message: JSONValue, path: String, provider: any MCPToolProvider) -> Response {
        guard let id = message["id"], Self.isValidID(id) else {
            return Self.jsonRPCError(.badRequest, code: JSONRPCErrorCode.invalidRequest, "initialize must be a request with an id")
        }
        let requested = message["params"]?["protocolVersion"]?.stringValue
        let version = MCPVersion.negotiate(requested)
        let sessionID = sessions.create(path: path, protocolVersion: version)
        var result: [String: JSONValue] = [
            "protocolVersion": .string(version),
            "capabilities": ["tools": ["listChanged": true]],
            "serverInfo": provider.serverInfo,
        ]
        if let instructions = provider.instructions { result["instructions"] = .string(instructions) }
        logger.debug(
            "session created",
            metadata: ["path": "\(path)", "protocolVersion": "\(version)", "client": "\(message["params"]?["clientInfo"]?["name"]?.stringValue ?? "?")"])
        var response = Self.json(JSONRPC.result(id: id, .object(result)))
        response.headers[.mcpSessionID] = sessionID
        return response
    }

    static func isValidID(_ id: JSONValue) -> Bool {
        switch id {
        case .string, .integer: return true
        case .number(let d): return d.rounded() == d
        default: return false
        }
    }

    /// Handles one message; returns the response for requests, nil for notifications and responses.
    private func dispatch(_ message: JSONValue, provider: any MCPToolProvider, context: MCPCallContext, pageSize: Int) async -> JSONValue? {
        guard case .object = message, message["jsonrpc"] == "2.0" else {
            return JSONRPC.error(id: message["id"] ?? .null, code: JSONRPCErrorCode.invalidRequest, message: "not a JSON-RPC 2.0 message")
        }
        guard let method = message["method"]?.stringValue else {
            // A response to a server request (we send none) or garbage: nothing to answer.
            return message["result"] != nil || message["error"] != nil
                ? nil : JSONRPC.error(id: message["id"] ?? .null, code: JSONRPCErrorCode.invalidRequest, message: "method is missing")
        }
        guard let id = message["id"] else {
            if method == "notifications/cancelled", let requestID = message["params"]?["requestId"] {
                sessions.cancelCall(context.sessionID, requestID: requestID)
            }
            return nil
        }
        guard Self.isValidID(id) else {
            return JSONRPC.error(id: .null, code: JSONRPCErrorCode.invalidRequest, message: "id must be a string or an integer")
        }
        let params = message["params"] ?? .object([:])
        switch method {
        case "ping":
            return JSONRPC.result(id: id, .object([:]))
        case "tools/list":
            return listTools(id: id, params: params, provider: provider, pageSize: pageSize)
        case "tools/call":
            return await callTool(id: id, params: params, provider: provider, context: context)
        case "initialize":
            return JSONRPC.error(id: id, code: JSONRPCErrorCode.invalidRequest, message: "session already initialized")
        default:
            return JSONRPC.error(id: id, code: JSONRPCErrorCode.methodNotFound, message: "Method not found: \(method)")
        }
    }

    private func listTools(id: JSONValue, params: JSONValue, provider: any MCPToolProvider, pageSize: Int) -> JSONValue {
        let tools = provider.tools
        var start = 0
        if let cursor = params["cursor"] {
            guard let text = cursor.stringValue, let offset = Int(text), offset >= 0, offset <= tools.count else {
                return JSONRPC.error(id: id, code: JSONRPCErrorCode.invalidParams, message: "invalid cursor")
            }
            start = offset
        }
        let end = min(tools.count, start + pageSize)
        var result: [String: JSONValue] = ["tools": .array(Array(tools[start..<end]))]
        if end < tools.count { result["nextCursor"] = .string(String(end)) }
        return JSONRPC.result(id: id, .object(result))
    }

    private func callTool(id: JSONValue, params: JSONValue, provider: any MCPToolProvider, context: MCPCallContext) async -> JSONValue {
        guard let name = params["name"]?.stringValue else {
            return JSONRPC.error(id: id, code: JSONRPCErrorCode.invalidParams, message: "params.name is required")
        }
        let arguments: [String: JSONValue]
        switch params["arguments"] {
        case nil, .null?: arguments = [:]
        case .object(let members)?: arguments = members
        default: return JSONRPC.error(id: id, code: JSONRPCErrorCode.invalidParams, message: "params.arguments must be an object")
        }
        // The call runs in this request's task (no extra task, no extra thread hop). A
        // notifications/cancelled for it marks it; its result is then dropped.
        let cancelled = CancellationFlag()
        sessions.registerCall(context.sessionID, requestID: id) { cancelled.set() }
        // A server span per call, child of the caller's trace context, when a tracer
        // (OpenTelemetry) is bootstrapped.
        let outcome: MCPToolLookup
        if tracing {
            var parent = ServiceContext.topLevel
            InstrumentationSystem.instrument.extract(context.headers, into: &parent, using: HTTPFieldsExtractor())
            outcome = await withSpan("tools/call \(name)", context: parent, ofKind: .server) { span in
                span.attributes["mcp.method.name"] = "tools/call"
                span.attributes["gen_ai.tool.name"] = name
                span.attributes["mcp.session.id"] = context.sessionID
                span.attributes["reshapr.request_id"] = context.requestID
                let outcome = await provider.callTool(name: name, arguments: arguments, context: context)
                if case .result(let result) = outcome, result.isError { span.setStatus(SpanStatus(code: .error)) }
                return outcome
            }
        } else {
            outcome = await provider.callTool(name: name, arguments: arguments, context: context)
        }
        sessions.finishCall(context.sessionID, requestID: id)
        if cancelled.isSet { return JSONRPC.error(id: id, code: JSONRPCErrorCode.requestCancelled, message: "request cancelled") }
        switch outcome {
        case .unknownTool:
            return JSONRPC.error(id: id, code: JSONRPCErrorCode.invalidParams, message: "Unknown tool: \(name)")
        case .result(let result):
            return JSONRPC.result(id: id, result.json)
        }
    }

    // MARK: - GET

    private func get(_ request: Request, path: String) -> Response {
        guard request.headers[.accept]?.lowercased().utf8.contains("text/event-stream".utf8) == true else {
            return Self.httpError(.notAcceptable, "Accept must include text/event-stream")
        }
        guard let id = request.headers[.mcpSessionID] else { return Self.httpError(.badRequest, "Mcp-Session-Id header is required") }
        guard sessions.touch(id, path: path) != nil, let (key, stream) = sessions.openStream(id) else {
            return Self.httpError(.notFound, "unknown session")
        }
        let sessions = self.sessions
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .mcpSessionID: id],
            body: ResponseBody { writer in
                // A comment first, so that clients and proxies see the stream open at once.
                try await writer.write(ByteBuffer(string: ": stream open\n\n"))
                for await event in stream {
                    try await writer.write(event)
                }
                sessions.closeStream(id, key: key)
                try await writer.finish(nil)
            })
    }

    // MARK: - Responses

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.serializedBytes())))
    }

    static func jsonRPCError(_ status: HTTPResponse.Status, code: Int, _ message: String) -> Response {
        json(JSONRPC.error(id: .null, code: code, message: message), status: status)
    }

    static func httpError(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(["error": .string(message)], status: status)
    }
}

/// Routes requests whose path is an MCP endpoint to the MCP server; everything else goes on.
public struct MCPMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    let server: MCPServer
    let resolve: @Sendable (String) -> (any MCPToolProvider)?

    public init(server: MCPServer, resolve: @escaping @Sendable (String) -> (any MCPToolProvider)?) {
        self.server = server
        self.resolve = resolve
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = MCPServer.endpointPath(request.uri.path)
        guard let provider = resolve(path) else { return try await next(request, context) }
        return await server.handle(request, path: path, provider: provider, remoteAddress: context.remoteAddress?.ipAddress)
    }
}

/// The request context of a server with MCP endpoints: Hummingbird's basics plus the peer's
/// address, which per-client rate limits fall back on for anonymous endpoints.
public struct MCPRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// Set by `notifications/cancelled` for a call in flight.
final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    func set() {
        flag.store(true, ordering: .relaxed)
    }

    var isSet: Bool { flag.load(ordering: .relaxed) }
}

/// Reads trace context (`traceparent`, `tracestate`) from request headers.
struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from carrier: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { carrier[$0] }
    }
}
