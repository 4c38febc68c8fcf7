import HTTPTypes
import Hummingbird
import NIOCore
import ReshaprJSON

/// MCP 2026-07-28: stateless requests, each carrying its protocol version and client
/// capabilities in `_meta`, served beside the legacy sessions on the same endpoint.
extension MCPServer {
    /// Methods that exist only in modern revisions.
    static let modernMethods: Set<String> = ["server/discover", "subscriptions/listen"]

    /// Whether a single message is a modern request: it carries the revision's `_meta`, names a
    /// modern-only method, or announces a version that is not a legacy one without a session.
    /// `initialize` always opens a legacy session.
    static func isModern(_ message: JSONValue, headers: HTTPFields) -> Bool {
        let method = message["method"]?.stringValue
        if method == "initialize" { return false }
        if message["params"]?["_meta"]?[MCPMetaKey.protocolVersion] != nil { return true }
        if let method, modernMethods.contains(method) { return true }
        if let version = headers[.mcpProtocolVersion], !MCPVersion.supported.contains(version), headers[.mcpSessionID] == nil { return true }
        return false
    }

    /// Answers one modern message. `Mcp-Session-Id` and `Last-Event-ID` play no part here.
    func modern(_ message: JSONValue, request: Request, path: String, provider: any MCPToolProvider, options: Options, call: CallInfo) async -> Response {
        guard case .object = message, message["jsonrpc"] == "2.0" else {
            return Self.modernError(id: message["id"] ?? .null, JSONRPCErrorCode.invalidRequest, "not a JSON-RPC 2.0 message")
        }
        guard let method = message["method"]?.stringValue else {
            return Self.modernError(
                id: message["id"] ?? .null, JSONRPCErrorCode.invalidRequest, "MCP 2026-07-28 clients send requests only; this message has no method")
        }
        // The revision defines no client notifications over HTTP (closing a stream cancels).
        guard let id = message["id"] else { return Response(status: .accepted) }
        guard Self.isValidID(id) else { return Self.modernError(id: .null, JSONRPCErrorCode.invalidRequest, "id must be a string or an integer") }
        let params = message["params"] ?? .object([:])
        guard case .object(let meta)? = params["_meta"] else {
            return Self.modernError(
                id: id, JSONRPCErrorCode.invalidParams,
                "params._meta must be an object carrying \(MCPMetaKey.protocolVersion) and \(MCPMetaKey.clientCapabilities) (MCP 2026-07-28); "
                    + "clients of earlier revisions send initialize first")
        }
        let missing = [MCPMetaKey.protocolVersion, MCPMetaKey.clientCapabilities].filter { meta[$0] == nil }
        guard missing.isEmpty else {
            return Self.modernError(id: id, JSONRPCErrorCode.invalidParams, "params._meta is missing \(missing.joined(separator: " and "))")
        }
        if let mismatch = Self.headerMismatch(request.headers, method: method, params: params, version: meta[MCPMetaKey.protocolVersion]) {
            reject("header_mismatch")
            return Self.modernError(id: id, JSONRPCErrorCode.headerMismatch, "Header mismatch: \(mismatch)")
        }
        guard let version = meta[MCPMetaKey.protocolVersion]?.stringValue else {
            return Self.modernError(id: id, JSONRPCErrorCode.invalidParams, "params._meta.\(MCPMetaKey.protocolVersion) must be a string")
        }
        guard MCPVersion.modern.contains(version) else {
            return Self.modernError(
                id: id, JSONRPCErrorCode.unsupportedProtocolVersion, "Unsupported protocol version \(version)",
                data: ["supported": .array(MCPVersion.all.map { .string($0) }), "requested": .string(version)])
        }
        guard case .object? = meta[MCPMetaKey.clientCapabilities] else {
            return Self.modernError(id: id, JSONRPCErrorCode.invalidParams, "params._meta.\(MCPMetaKey.clientCapabilities) must be an object")
        }
        var context = MCPCallContext(
            headers: request.headers, sessionID: nil, protocolVersion: version, requestID: call.requestID, client: call.client,
            traceParent: call.traceParent, logger: call.logger)
        context.scopes = call.scopes
        switch method {
        case "server/discover":
            var result = cacheable(provider)
            result["supportedVersions"] = .array(MCPVersion.all.map { .string($0) })
            result["capabilities"] = Self.capabilities(of: provider)
            if let instructions = provider.instructions { result["instructions"] = .string(instructions) }
            return complete(id: id, result, provider: provider)
        case "tools/list":
            switch Self.page(provider.tools(visibleWith: call.scopes), cursor: params["cursor"], pageSize: options.pageSize) {
            case .failure(let invalid):
                return Self.modernError(id: id, JSONRPCErrorCode.invalidParams, invalid.description)
            case .success(let (tools, next)):
                var result = cacheable(provider)
                result["tools"] = .array(tools)
                if let next { result["nextCursor"] = .string(next) }
                return complete(id: id, result, provider: provider)
            }
        case "tools/call":
            if let name = params["name"]?.stringValue, let refused = insufficientScope(request, tool: name, provider: provider, scopes: call.scopes) {
                return refused
            }
            if let name = params["name"]?.stringValue,
                let mismatch = MCPParamHeader.mismatch(
                    provider.paramHeaders(ofTool: name), arguments: params["arguments"]?.objectValue ?? [:], headers: request.headers)
            {
                reject("header_mismatch")
                return Self.modernError(id: id, JSONRPCErrorCode.headerMismatch, "Header mismatch: \(mismatch)")
            }
            if let name = params["name"]?.stringValue, let need = provider.userInput(forTool: name) {
                let principal = call.client ?? "anonymous"
                switch inputStep(need, tool: name, params: params, meta: meta, principal: principal) {
                case .provided(let value): context.userInputs[need.key] = value
                case .refused(let why): return answer(JSONRPC.result(id: id, Self.refusedInput(need, tool: name, why).json), provider: provider)
                case .cannotAsk: return Self.cannotAskModern(id: id, need, tool: name)
                case .ask: return inputRequired(id: id, need, tool: name, principal: principal, provider: provider)
                }
            }
            if let token = meta[MCPMetaKey.progressToken], Self.acceptsEventStream(request.headers) {
                return progressStream(id: id, token: token, params: params, provider: provider, context: context)
            }
            return answer(await callTool(id: id, params: params, provider: provider, context: context), provider: provider)
        case _ where Self.catalogMethods.contains(method):
            return await modernCatalog(id: id, method: method, params: params, provider: provider, context: context, pageSize: options.pageSize)
        case "subscriptions/listen":
            return listen(id: id, params: params, path: path, provider: provider, keepAlive: options.keepAliveInterval)
        default:
            return Self.modernError(id: id, JSONRPCErrorCode.methodNotFound, "Method not found: \(method)")
        }
    }

    /// Why the request headers disagree with the body, by the transport's rules; nil when they agree.
    static func headerMismatch(_ headers: HTTPFields, method: String, params: JSONValue, version: JSONValue?) -> String? {
        for name in [HTTPField.Name.mcpProtocolVersion, .mcpMethod, .mcpName] where headers[values: name].count > 1 {
            return "\(name) is given more than once"
        }
        guard let header = headers[.mcpProtocolVersion] else { return "MCP-Protocol-Version header is missing" }
        guard version?.stringValue == header else {
            return "MCP-Protocol-Version header \(header) does not match body value \(version.map { $0.serialized() } ?? "none")"
        }
        guard let methodHeader = headers[.mcpMethod] else { return "Mcp-Method header is missing" }
        guard methodHeader == method else { return "Mcp-Method header value '\(methodHeader)' does not match body value '\(method)'" }
        let nameKey: String? =
            switch method {
            case "tools/call", "prompts/get": "name"
            case "resources/read": "uri"
            default: nil
            }
        if let nameKey, let bodyValue = params[nameKey]?.stringValue {
            guard let raw = headers[.mcpName] else { return "Mcp-Name header is missing; it must carry params.\(nameKey)" }
            guard let decoded = MCPHeaderValue.decode(raw) else { return "Mcp-Name header holds characters a header value may not carry" }
            guard decoded == bodyValue else { return "Mcp-Name header value '\(decoded)' does not match body value '\(bodyValue)'" }
        }
        return nil
    }

    /// The caching hints of a cacheable result: private when the endpoint authenticates clients.
    func cacheable(_ provider: any MCPToolProvider) -> JSONObject {
        ["ttlMs": .integer(Self.milliseconds(provider.listCacheTTL)), "cacheScope": .string(provider.authenticatesClients ? "private" : "public")]
    }

    /// A duration as a `ttlMs`: whole milliseconds, never negative.
    static func milliseconds(_ duration: Duration) -> Int {
        let components = duration.components
        return Int(clamping: max(0, components.seconds) &* 1000 &+ max(0, components.attoseconds) / 1_000_000_000_000_000)
    }

    /// A complete result, with our identity in `_meta`.
    func complete(id: JSONValue, _ result: JSONObject, provider: any MCPToolProvider) -> Response {
        Self.json(JSONRPC.result(id: id, Self.completing(.object(result), provider: provider)))
    }

    static func completing(_ result: JSONValue, provider: any MCPToolProvider) -> JSONValue {
        guard case .object(var members) = result else { return result }
        members["resultType"] = "complete"
        var meta = members["_meta"]?.objectValue ?? [:]
        meta[MCPMetaKey.serverInfo] = provider.serverInfo
        members["_meta"] = .object(meta)
        return .object(members)
    }

    /// A JSON-RPC response of a modern request: results completed, errors with the revision's HTTP status.
    func answer(_ response: JSONValue, provider: any MCPToolProvider) -> Response {
        if let code = response["error"]?["code"]?.intValue { return Self.json(response, status: JSONRPCErrorCode.httpStatus(code)) }
        return Self.json(Self.completingResponse(response, provider: provider))
    }

    /// A JSON-RPC response whose result, if it has one, is completed.
    static func completingResponse(_ response: JSONValue, provider: any MCPToolProvider) -> JSONValue {
        guard let result = response["result"], let id = response["id"] else { return response }
        return JSONRPC.result(id: id, completing(result, provider: provider))
    }

    static func modernError(id: JSONValue, _ code: Int, _ message: String, data: JSONValue? = nil) -> Response {
        json(JSONRPC.error(id: id, code: code, message: message, data: data), status: JSONRPCErrorCode.httpStatus(code))
    }

    static func acceptsEventStream(_ headers: HTTPFields) -> Bool {
        headers[.accept]?.lowercased().utf8.contains("text/event-stream".utf8) == true
    }

    /// One page of a list: the items from `cursor` (an offset we handed out), and the next cursor.
    static func page(_ items: [JSONValue], cursor: JSONValue?, pageSize: Int) -> Result<([JSONValue], String?), InvalidCursor> {
        var start = 0
        if let cursor {
            guard let text = cursor.stringValue, let offset = Int(text), offset >= 0, offset <= items.count else { return .failure(InvalidCursor()) }
            start = offset
        }
        let end = min(items.count, start + max(1, pageSize))
        return .success((Array(items[start..<end]), end < items.count ? String(end) : nil))
    }
}

/// A list cursor we did not hand out.
struct InvalidCursor: Error, CustomStringConvertible {
    var description: String { "invalid cursor" }
}

/// Answers that stream: progress of long tool calls, and `subscriptions/listen`.
extension MCPServer {
    /// How often a call with a progress token reports that it is still running.
    static let progressInterval = Duration.seconds(1)

    static let eventStreamHeaders: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache", .accelBuffering: "no"]

    /// A tool call answered as an SSE stream: `notifications/progress` each second while the
    /// backend works, then the result (completed with `resultType` and our identity for modern
    /// requests). Closing the stream cancels the call.
    func progressStream(
        id: JSONValue, token: JSONValue, params: JSONValue, provider: any MCPToolProvider, context: MCPCallContext, modern: Bool = true
    ) -> Response {
        Response(
            status: .ok, headers: Self.eventStreamHeaders,
            body: ResponseBody { writer in
                enum Event: Sendable {
                    case tick
                    case done(JSONValue)
                }
                @Sendable func tick() async -> Event {
                    try? await Task.sleep(for: Self.progressInterval)
                    return .tick
                }
                let started = ContinuousClock.now
                var final: JSONValue?
                await withTaskGroup(of: Event.self) { group in
                    group.addTask { .done(await self.callTool(id: id, params: params, provider: provider, context: context)) }
                    group.addTask(operation: tick)
                    while let event = await group.next() {
                        guard case .tick = event, final == nil, !Task.isCancelled else {
                            if case .done(let response) = event { final = response }
                            group.cancelAll()
                            continue
                        }
                        let seconds = (ContinuousClock.now - started).components.seconds
                        let progress = JSONRPC.notification(
                            "notifications/progress",
                            params: ["progressToken": token, "progress": .integer(Int(clamping: seconds)), "message": .string("waiting for the backend: \(seconds) s")])
                        do {
                            try await writer.write(SSE.event(progress))
                            group.addTask(operation: tick)
                        } catch {
                            // The client is gone: the call stops with the stream.
                            group.cancelAll()
                        }
                    }
                }
                if let final, !Task.isCancelled {
                    try await writer.write(SSE.event(modern ? Self.completingResponse(final, provider: provider) : final))
                }
                try await writer.finish(nil)
            })
    }

    func refused(id: JSONValue, _ refusal: SubscriptionHub.Refusal) -> Response {
        reject("streams")
        switch refusal {
        case .tooManyForEndpoint:
            return Self.modernError(
                id: id, JSONRPCErrorCode.serverError, "this endpoint has \(subscriptions.maxPerEndpoint) subscriptions open, its limit; retry later")
        case .tooManyOverall:
            return Self.modernError(
                id: id, JSONRPCErrorCode.serverError, "the gateway has \(subscriptions.maxSubscriptions) subscriptions open, its limit; retry later")
        case .shuttingDown:
            var response = Self.modernError(id: id, JSONRPCErrorCode.serverError, "the gateway is shutting down; listen again on another replica")
            response.status = .serviceUnavailable
            return response
        }
    }

    /// `subscriptions/listen`: acknowledges the notifications we honour (prompt and resource
    /// list changes only where the endpoint has some; no resource subscriptions), then streams
    /// them, with a keep-alive comment when idle, until the client leaves or the server ends it.
    func listen(id: JSONValue, params: JSONValue, path: String, provider: any MCPToolProvider, keepAlive: Duration) -> Response {
        guard case .object(let filter)? = params["notifications"] else {
            return Self.modernError(id: id, JSONRPCErrorCode.invalidParams, "params.notifications must be an object (the notification filter)")
        }
        let capabilities = Self.capabilities(of: provider)
        let kinds = Set(SubscriptionHub.Kind.allCases.filter { filter[$0.rawValue]?.boolValue == true && capabilities[$0.capability] != nil })
        if let refusal = subscriptions.refusal(on: path) { return refused(id: id, refusal) }
        var honoured: JSONObject = [:]
        for kind in kinds { honoured[kind.rawValue] = true }
        let acknowledgement = SubscriptionHub.notification("notifications/subscriptions/acknowledged", subscription: id, params: ["notifications": .object(honoured)])
        let subscriptions = self.subscriptions
        return Response(
            status: .ok, headers: Self.eventStreamHeaders,
            body: ResponseBody { writer in
                // Registered only while the answer is written, and dropped however writing ends.
                guard case .success(let (key, stream)) = subscriptions.open(path: path, id: id, kinds: kinds) else {
                    // The room or the gateway went between the check and now.
                    try await writer.write(SSE.event(SubscriptionHub.closing(id)))
                    try await writer.finish(nil)
                    return
                }
                defer { subscriptions.remove(key) }
                try await writer.write(SSE.event(acknowledgement))
                // Notifications and keep-alives merge into one stream, so that one loop writes.
                // It ends when the subscription ends; leaving it (client gone) drops the subscription.
                let (merged, output) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .bufferingNewest(64))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await event in stream { output.yield(event) }
                        output.finish()
                    }
                    group.addTask {
                        while true {
                            try await Task.sleep(for: keepAlive)
                            output.yield(ByteBuffer(string: ": keep-alive\n\n"))
                        }
                    }
                    for await event in merged { try await writer.write(event) }
                    group.cancelAll()
                }
                try await writer.finish(nil)
            })
    }
}
