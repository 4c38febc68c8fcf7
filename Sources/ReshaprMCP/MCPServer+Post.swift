import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import ReshaprJSON
import Synchronization
import Tracing

/// POST: JSON-RPC requests, notifications and responses, and the `initialize` handshake.
extension MCPServer {
    func post(_ request: Request, path: String, provider: any MCPToolProvider, options: Options, call: CallInfo) async -> Response {
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

        // Modern requests carry everything in themselves; legacy ones live in sessions.
        if !isBatch, Self.isModern(message, headers: request.headers) {
            return await modern(message, request: request, path: path, provider: provider, options: options, call: call)
        }
        // initialize creates the session; everything else needs one.
        if let first = messages.first, first["method"]?.stringValue == "initialize" {
            guard !isBatch else {
                return Self.jsonRPCError(.badRequest, code: JSONRPCErrorCode.invalidRequest, "initialize must not be part of a batch")
            }
            return initialize(first, path: path, provider: provider, client: call.client)
        }
        guard let sessionID = request.headers[.mcpSessionID] else {
            return Self.jsonRPCError(
                .badRequest, code: JSONRPCErrorCode.invalidRequest,
                "Mcp-Session-Id header is required; send initialize first (MCP 2025-11-25 and earlier), "
                    + "or carry params._meta.\(MCPMetaKey.protocolVersion) (MCP 2026-07-28)")
        }
        guard let negotiated = sessions.touch(sessionID, path: path, client: call.client) else {
            return Self.jsonRPCError(.notFound, code: JSONRPCErrorCode.invalidRequest, "session not found; send initialize again")
        }
        if let version = request.headers[.mcpProtocolVersion], !MCPVersion.supported.contains(version) {
            return Self.jsonRPCError(
                .badRequest, code: JSONRPCErrorCode.invalidRequest,
                "unsupported MCP-Protocol-Version \(version); supported: \(MCPVersion.supported.joined(separator: ", "))")
        }
        if isBatch {
            // Revision 2025-06-18 removed JSON-RPC batching; older sessions keep it, bounded, and
            // every message of a batch counts against the rate limit as a request of its own.
            guard negotiated < MCPVersion.withoutBatching else {
                reject("batch")
                return Self.jsonRPCError(
                    .badRequest, code: JSONRPCErrorCode.invalidRequest,
                    "JSON-RPC batches were removed in MCP \(MCPVersion.withoutBatching) and this session speaks \(negotiated); send one message per request")
            }
            guard messages.count <= Self.maxBatchMessages else {
                reject("batch")
                return Self.jsonRPCError(
                    .badRequest, code: JSONRPCErrorCode.invalidRequest, "a batch holds at most \(Self.maxBatchMessages) messages; this one holds \(messages.count)")
            }
            for _ in messages.dropFirst() {
                if let limited = admit(call.rateLimitKey, options: options) { return limited }
            }
        }
        var context = MCPCallContext(
            headers: request.headers, sessionID: sessionID, protocolVersion: negotiated, requestID: call.requestID, client: call.client,
            traceParent: call.traceParent, logger: call.logger)
        context.scopes = call.scopes
        // A single tools/call may be answered as a stream: asking the user first for what its
        // tool needs (then the session keeps it), or reporting progress when the caller asked.
        if !isBatch, message["jsonrpc"] == "2.0", message["method"]?.stringValue == "tools/call", let id = message["id"], Self.isValidID(id),
            let params = message["params"], let name = params["name"]?.stringValue
        {
            if let refused = insufficientScope(request, tool: name, provider: provider, scopes: call.scopes) { return refused }
            if let need = provider.userInput(forTool: name) {
                guard let value = sessions.userInput(sessionID, key: need.key) else {
                    return elicitThenCall(id: id, tool: name, need: need, params: params, provider: provider, context: context, session: sessionID)
                }
                context.userInputs[need.key] = value
            }
            if let token = params["_meta"]?[MCPMetaKey.progressToken], Self.acceptsEventStream(request.headers) {
                return progressStream(id: id, token: token, params: params, provider: provider, context: context, modern: false)
            }
        }
        var responses: [JSONValue] = []
        var answerBytes = 0
        for message in messages {
            // Once a batch's answers pass the bound, its remaining requests are answered with an
            // error instead of being run.
            if isBatch, answerBytes > Self.maxBatchAnswerBytes {
                if let id = message["id"], message["method"] != nil {
                    responses.append(
                        JSONRPC.error(id: id, code: JSONRPCErrorCode.serverError, message: "not run: the batch's answers exceed \(Self.maxBatchAnswerBytes) bytes"))
                }
                continue
            }
            if let response = await dispatch(message, provider: provider, context: context, pageSize: options.pageSize) {
                if isBatch { answerBytes += response.serializedBytes().count }
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

    /// Messages in one batch (sessions of revisions before 2025-06-18 only).
    static let maxBatchMessages = 32
    /// Bytes of answers one batch may produce before its remaining requests are refused.
    static let maxBatchAnswerBytes = 8 << 20

    func initialize(_ message: JSONValue, path: String, provider: any MCPToolProvider, client: String?) -> Response {
        guard let id = message["id"], Self.isValidID(id) else {
            return Self.jsonRPCError(.badRequest, code: JSONRPCErrorCode.invalidRequest, "initialize must be a request with an id")
        }
        let requested = message["params"]?["protocolVersion"]?.stringValue
        let version = MCPVersion.negotiate(requested)
        let sessionID = sessions.create(
            path: path, protocolVersion: version, clientCapabilities: message["params"]?["capabilities"] ?? .object([:]), client: client)
        var result: JSONObject = [
            "protocolVersion": .string(version),
            "capabilities": Self.capabilities(of: provider),
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
    func dispatch(_ message: JSONValue, provider: any MCPToolProvider, context: MCPCallContext, pageSize: Int) async -> JSONValue? {
        guard case .object = message, message["jsonrpc"] == "2.0" else {
            return JSONRPC.error(id: message["id"] ?? .null, code: JSONRPCErrorCode.invalidRequest, message: "not a JSON-RPC 2.0 message")
        }
        guard let method = message["method"]?.stringValue else {
            // The client's answer to one of our requests (elicitation), or garbage.
            guard message["result"] != nil || message["error"] != nil else {
                return JSONRPC.error(id: message["id"] ?? .null, code: JSONRPCErrorCode.invalidRequest, message: "method is missing")
            }
            if let session = context.sessionID { sessions.deliverResponse(session, message) }
            return nil
        }
        guard let id = message["id"] else {
            if method == "notifications/cancelled", let session = context.sessionID, let requestID = message["params"]?["requestId"] {
                sessions.cancelCall(session, requestID: requestID)
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
            return listTools(id: id, params: params, provider: provider, scopes: context.scopes, pageSize: pageSize)
        case "tools/call":
            return await callTool(id: id, params: params, provider: provider, context: context)
        case "initialize":
            return JSONRPC.error(id: id, code: JSONRPCErrorCode.invalidRequest, message: "session already initialized")
        case _ where Self.catalogMethods.contains(method):
            return await legacyCatalog(id: id, method: method, params: params, provider: provider, context: context, pageSize: pageSize)
        default:
            return JSONRPC.error(id: id, code: JSONRPCErrorCode.methodNotFound, message: "Method not found: \(method)")
        }
    }

    func listTools(id: JSONValue, params: JSONValue, provider: any MCPToolProvider, scopes: Set<String>?, pageSize: Int) -> JSONValue {
        switch Self.page(provider.tools(visibleWith: scopes), cursor: params["cursor"], pageSize: pageSize) {
        case .failure(let invalid):
            return JSONRPC.error(id: id, code: JSONRPCErrorCode.invalidParams, message: invalid.description)
        case .success(let (tools, next)):
            var result: JSONObject = ["tools": .array(tools)]
            if let next { result["nextCursor"] = .string(next) }
            return JSONRPC.result(id: id, .object(result))
        }
    }

    func callTool(id: JSONValue, params: JSONValue, provider: any MCPToolProvider, context: MCPCallContext) async -> JSONValue {
        guard let name = params["name"]?.stringValue else {
            return JSONRPC.error(id: id, code: JSONRPCErrorCode.invalidParams, message: "params.name is required")
        }
        // Inside a batch there is no HTTP answer of its own: the scope refusal is a JSON-RPC error.
        if let needed = Self.scopesLacking(tool: name, provider: provider, scopes: context.scopes) {
            return JSONRPC.error(id: id, code: JSONRPCErrorCode.invalidRequest, message: "insufficient_scope: calling \(name) needs the scopes \(needed.joined(separator: " "))")
        }
        let arguments: JSONObject
        switch params["arguments"] {
        case nil, .null?: arguments = [:]
        case .object(let members)?: arguments = members
        default: return JSONRPC.error(id: id, code: JSONRPCErrorCode.invalidParams, message: "params.arguments must be an object")
        }
        // The call runs in this request's task (no extra task, no extra thread hop). A
        // notifications/cancelled for it marks it; its result is then dropped.
        let cancelled = CancellationFlag()
        if let session = context.sessionID { sessions.registerCall(session, requestID: id) { cancelled.set() } }
        // A server span per call, child of the caller's trace context, when a tracer
        // (OpenTelemetry) is bootstrapped.
        let outcome: MCPToolLookup
        if tracing {
            var parent = ServiceContext.topLevel
            InstrumentationSystem.instrument.extract(context.headers, into: &parent, using: HTTPFieldsExtractor())
            outcome = await withSpan("tools/call \(name)", context: parent, ofKind: .server) { span in
                span.attributes["mcp.method.name"] = "tools/call"
                span.attributes["gen_ai.tool.name"] = name
                if let session = context.sessionID { span.attributes["mcp.session.id"] = session }
                span.attributes["mcp.protocol.version"] = context.protocolVersion
                span.attributes["reshapr.request_id"] = context.requestID
                let outcome = await provider.callTool(name: name, arguments: arguments, context: context)
                if case .result(let result) = outcome, result.isError { span.setStatus(SpanStatus(code: .error)) }
                return outcome
            }
        } else {
            outcome = await provider.callTool(name: name, arguments: arguments, context: context)
        }
        if let session = context.sessionID { sessions.finishCall(session, requestID: id) }
        if cancelled.isSet { return JSONRPC.error(id: id, code: JSONRPCErrorCode.requestCancelled, message: "request cancelled") }
        switch outcome {
        case .unknownTool:
            return JSONRPC.error(id: id, code: JSONRPCErrorCode.invalidParams, message: "Unknown tool: \(name)")
        case .result(let result):
            if result.userInputRejected, let session = context.sessionID { sessions.forgetUserInputs(session) }
            return JSONRPC.result(id: id, result.json)
        }
    }
}
