import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ReshaprGateway
import ReshaprJSON
import ReshaprMCP
import TestSupport
import Testing

/// MCP 2026-07-28 over raw HTTP: each rule of the revision, on the endpoints that also serve
/// legacy sessions.
struct ModernProtocolTests {
    static let version = "2026-07-28"

    /// A modern request: the revision's `_meta` merged into `params`.
    static func message(_ method: String, id: JSONValue = 1, params: JSONObject = [:], version: String = version) -> JSONValue {
        var params = params
        params["_meta"] = [
            "io.modelcontextprotocol/protocolVersion": .string(version), "io.modelcontextprotocol/clientCapabilities": [:],
            "io.modelcontextprotocol/clientInfo": ["name": "raw-test", "version": "1"],
        ]
        return ["jsonrpc": "2.0", "id": id, "method": .string(method), "params": .object(params)]
    }

    /// The headers a conforming client sends with `message`.
    static func headers(_ method: String, name: String? = nil, version: String = version) -> HTTPFields {
        var fields: HTTPFields = [
            .contentType: "application/json", .accept: "application/json, text/event-stream", .mcpProtocolVersion: version, .mcpMethod: method,
        ]
        if let name { fields[.mcpName] = name }
        return fields
    }

    static func post(_ client: TestClient, _ path: String, _ message: JSONValue, _ headers: HTTPFields) async throws -> TestClient.Response {
        try await client.post(path, headers: headers, body: ByteBuffer(string: message.serialized()))
    }

    /// The pets API of ``ToolCallTests`` behind four endpoints: open, open with a 5 minute
    /// cache hint, one that authenticates its clients, and one whose backend takes each user's
    /// own API key.
    static func configuration(backendPort: Int) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        try dir.write("spec.yaml", ToolCallTests.spec)
        let base = "http://127.0.0.1:\(backendPort)/api"
        var documents = [
            "apiVersion: reshapr.io/v1\nkind: Service\nmetadata: {name: pets}\nspec: {version: '1', type: REST, artifacts: [{type: OPENAPI, path: spec.yaml}]}",
            "apiVersion: reshapr.io/v1\nkind: Secret\nmetadata: {name: keys}\nspec: {data: {mcp: key-123-secret}}",
        ]
        let plans = [
            ("open", ""),
            ("cached", "tools: {cacheTtl: 5m}"),
            ("keyed", "clientSecurity: {type: apiKey, secretRef: {name: keys, key: mcp}}"),
            ("mine", "backendSecurity: {type: userCredential, in: header, name: X-API-Key, message: Your pets API key}"),
        ]
        for (name, extra) in plans {
            documents.append(
                "apiVersion: reshapr.io/v1\nkind: ConfigurationPlan\nmetadata: {name: \(name)}\nspec:\n  service: {name: pets, version: '1'}\n"
                    + "  backend: {endpoint: '\(base)', timeout: 10s}\n  \(extra)")
            documents.append("apiVersion: reshapr.io/v1\nkind: Exposition\nmetadata: {name: \(name)}\nspec: {plan: \(name), path: /mcp/\(name)}")
        }
        try dir.write("all.yaml", documents.joined(separator: "\n---\n"))
        return dir
    }

    func withGateway(_ body: @Sendable (TestClient, Gateway, TemporaryDirectory) async throws -> Void) async throws {
        let backend = ToolCallTests.Backend()
        try await withServer(backend.router()) { port in
            let dir = try Self.configuration(backendPort: port)
            defer { dir.remove() }
            try await withRunningGateway(configDirectory: dir.path) { client, gateway in
                #expect(gateway.store.current.issues.isEmpty, "\(gateway.store.current.issues)")
                try await body(client, gateway, dir)
            }
        }
    }

    @Test func discoverAdvertisesEveryRevisionCapabilitiesAndIdentity() async throws {
        try await withGateway { client, _, _ in
            let response = try await Self.post(client, "/mcp/open", Self.message("server/discover"), Self.headers("server/discover"))
            #expect(response.status == .ok)
            #expect(response.headers[.mcpSessionID] == nil)
            let result = try json(response)["result"]
            #expect(result?["resultType"] == "complete")
            #expect(result?["supportedVersions"] == ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"])
            #expect(result?["capabilities"]?["tools"]?["listChanged"] == true)
            #expect(result?["_meta"]?["io.modelcontextprotocol/serverInfo"]?["name"] == "reshapr-pets")
            #expect(result?["ttlMs"] == 60_000)
            #expect(result?["cacheScope"] == "public")
        }
    }

    @Test func toolsListIsCacheableSortedAndPrivateWhereClientsAuthenticate() async throws {
        try await withGateway { client, _, _ in
            let open = try json(try await Self.post(client, "/mcp/open", Self.message("tools/list"), Self.headers("tools/list")))["result"]
            #expect(open?["resultType"] == "complete")
            #expect(open?["cacheScope"] == "public")
            #expect(open?["ttlMs"] == 60_000)
            let names = open?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(names == names.sorted() && names.count == 7)

            let cached = try json(try await Self.post(client, "/mcp/cached", Self.message("tools/list"), Self.headers("tools/list")))["result"]
            #expect(cached?["ttlMs"] == 300_000)

            var keyedHeaders = Self.headers("tools/list")
            keyedHeaders[HTTPField.Name("X-API-Key")!] = "key-123-secret"
            let keyed = try json(try await Self.post(client, "/mcp/keyed", Self.message("tools/list"), keyedHeaders))["result"]
            #expect(keyed?["cacheScope"] == "private")
            // The same client, without its key, is refused before anything else.
            let refused = try await Self.post(client, "/mcp/keyed", Self.message("tools/list"), Self.headers("tools/list"))
            #expect(refused.status == .unauthorized)
        }
    }

    @Test func aRequestWithoutItsMetadataIsInvalidParams() async throws {
        try await withGateway { client, _, _ in
            let bare: JSONValue = ["jsonrpc": "2.0", "id": 5, "method": "tools/list", "params": [:]]
            let response = try await Self.post(client, "/mcp/open", bare, Self.headers("tools/list"))
            #expect(response.status == .badRequest)
            let error = try json(response)["error"]
            #expect(error?["code"] == -32602)
            #expect(error?["message"]?.stringValue?.contains("io.modelcontextprotocol/protocolVersion") == true)

            var noCapabilities = Self.message("tools/list")
            if case .object(var message) = noCapabilities, case .object(var params)? = message["params"], case .object(var meta)? = params["_meta"] {
                meta["io.modelcontextprotocol/clientCapabilities"] = nil
                params["_meta"] = .object(meta)
                message["params"] = .object(params)
                noCapabilities = .object(message)
            }
            let missing = try await Self.post(client, "/mcp/open", noCapabilities, Self.headers("tools/list"))
            #expect(missing.status == .badRequest)
            #expect(try json(missing)["error"]?["message"] == "params._meta is missing io.modelcontextprotocol/clientCapabilities")

            // Neither era's marks: the answer says what each era needs.
            let neither = try await client.post(
                "/mcp/open", headers: [.contentType: "application/json"], body: ByteBuffer(string: bare.serialized()))
            #expect(neither.status == .badRequest)
            let message = try json(neither)["error"]?["message"]?.stringValue ?? ""
            #expect(message.contains("send initialize first") && message.contains("MCP 2026-07-28"))
        }
    }

    @Test(arguments: [
        ("tools/list", nil as String?, "wrong-method", "Mcp-Method header value 'tools/call' does not match body value 'tools/list'"),
        ("tools/call", "getPet", "wrong-name", "Mcp-Name header value 'addPet' does not match body value 'getPet'"),
        ("tools/call", "getPet", "missing-name", "Mcp-Name header is missing; it must carry params.name"),
        ("tools/list", nil, "missing-version", "MCP-Protocol-Version header is missing"),
        ("tools/list", nil, "other-version", "MCP-Protocol-Version header 2025-11-25 does not match body value \"2026-07-28\""),
    ])
    func headersThatContradictTheBodyAreRefused(method: String, name: String?, tamper: String, expected: String) async throws {
        try await withGateway { client, _, _ in
            var params: JSONObject = [:]
            if let name { params["name"] = .string(name); params["arguments"] = ["petId": 1] }
            var headers = Self.headers(method, name: name)
            switch tamper {
            case "missing-name": headers[.mcpName] = nil
            case "missing-version": headers[.mcpProtocolVersion] = nil
            case "other-version": headers[.mcpProtocolVersion] = "2025-11-25"
            case "wrong-method": headers[.mcpMethod] = "tools/call"
            default: headers[.mcpName] = "addPet"
            }
            let response = try await Self.post(client, "/mcp/open", Self.message(method, params: params), headers)
            #expect(response.status == .badRequest)
            let error = try json(response)["error"]
            #expect(error?["code"] == -32020)
            #expect(error?["message"] == .string("Header mismatch: " + expected))
        }
    }

    @Test func aBase64NameIsDecodedBeforeItIsCompared() async throws {
        try await withGateway { client, _, _ in
            let params: JSONObject = ["name": "getPet", "arguments": ["petId": 4]]
            let encoded = "=?base64?" + Data("getPet".utf8).base64EncodedString() + "?="
            let response = try await Self.post(client, "/mcp/open", Self.message("tools/call", params: params), Self.headers("tools/call", name: encoded))
            #expect(response.status == .ok)
            #expect(try json(response)["result"]?["structuredContent"]?["id"] == 4)
            let garbled = try await Self.post(
                client, "/mcp/open", Self.message("tools/call", params: params), Self.headers("tools/call", name: "=?base64?%%%?="))
            #expect(try json(garbled)["error"]?["code"] == -32020)
        }
    }

    @Test func anUnsupportedVersionListsTheSupportedOnes() async throws {
        try await withGateway { client, _, _ in
            let response = try await Self.post(
                client, "/mcp/open", Self.message("tools/list", version: "2099-01-01"), Self.headers("tools/list", version: "2099-01-01"))
            #expect(response.status == .badRequest)
            let error = try json(response)["error"]
            #expect(error?["code"] == -32022)
            #expect(error?["data"]?["requested"] == "2099-01-01")
            #expect(error?["data"]?["supported"] == ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"])
            // A legacy version in a modern request is unsupported there too: it needs initialize.
            let legacy = try await Self.post(
                client, "/mcp/open", Self.message("tools/list", version: "2025-11-25"), Self.headers("tools/list", version: "2025-11-25"))
            #expect(try json(legacy)["error"]?["code"] == -32022)
        }
    }

    @Test func sessionHeadersAreIgnoredAndNoneAreMinted() async throws {
        try await withGateway { client, gateway, _ in
            var headers = Self.headers("tools/list")
            headers[.mcpSessionID] = "no-such-session"
            headers[HTTPField.Name("Last-Event-ID")!] = "42"
            let response = try await Self.post(client, "/mcp/open", Self.message("tools/list"), headers)
            #expect(response.status == .ok)
            #expect(response.headers[.mcpSessionID] == nil)
            #expect(try json(response)["result"]?["tools"]?.arrayValue?.count == 7)
            #expect(gateway.sessions.count == 0)
            // Legacy sessions keep working on the same URL.
            var legacy = MCPTestClient(client, path: "/mcp/open")
            let initialized = try await legacy.initialize(version: "2025-11-25")
            #expect(initialized["result"]?["protocolVersion"] == "2025-11-25")
            #expect(initialized["result"]?["resultType"] == nil)
            #expect(try await legacy.callTool("getPet", ["petId": 2])["structuredContent"]?["id"] == 2)
            #expect(gateway.sessions.count == 1)
        }
    }

    @Test func methodsTheRevisionRemovedAreNotFound() async throws {
        try await withGateway { client, _, _ in
            for method in ["ping", "logging/setLevel", "resources/list"] {
                let response = try await Self.post(client, "/mcp/open", Self.message(method), Self.headers(method))
                #expect(response.status == .notFound, "\(method)")
                #expect(try json(response)["error"]?["code"] == -32601)
            }
            // A notification is accepted and ignored: this revision defines none over HTTP.
            let notification: JSONValue = ["jsonrpc": "2.0", "method": "notifications/cancelled", "params": ["requestId": 1]]
            let accepted = try await Self.post(client, "/mcp/open", notification, Self.headers("notifications/cancelled"))
            #expect(accepted.status == .accepted)
        }
    }

    @Test func headerParametersAreMirroredAndChecked() async throws {
        try await withGateway { client, _, _ in
            let tools = try json(try await Self.post(client, "/mcp/open", Self.message("tools/list"), Self.headers("tools/list")))["result"]?["tools"]
            let getPet = tools?.arrayValue?.first { $0["name"] == "getPet" }
            #expect(getPet?["inputSchema"]?["properties"]?["X-Trace"]?["x-mcp-header"] == "X-Trace")

            let params: JSONObject = ["name": "getPet", "arguments": ["petId": 9, "X-Trace": "t-9"]]
            let message = Self.message("tools/call", params: params)
            let missing = try await Self.post(client, "/mcp/open", message, Self.headers("tools/call", name: "getPet"))
            #expect(missing.status == .badRequest)
            #expect(try json(missing)["error"]?["message"] == "Header mismatch: Mcp-Param-X-Trace header is missing; it must mirror argument X-Trace")

            var wrong = Self.headers("tools/call", name: "getPet")
            wrong[HTTPField.Name("Mcp-Param-X-Trace")!] = "t-10"
            #expect(try json(try await Self.post(client, "/mcp/open", message, wrong))["error"]?["code"] == -32020)

            var right = Self.headers("tools/call", name: "getPet")
            right[HTTPField.Name("Mcp-Param-X-Trace")!] = "t-9"
            let answered = try json(try await Self.post(client, "/mcp/open", message, right))["result"]
            #expect(answered?["structuredContent"]?["seen"]?["trace"] == "t-9")
            #expect(answered?["resultType"] == "complete")
        }
    }

    @Test func listenAcknowledgesThenCarriesListChangesTaggedWithItsID() async throws {
        try await withGateway { client, gateway, dir in
            let port = try await client.getChannel().remoteAddress?.port ?? 0
            let listen = Self.message("subscriptions/listen", id: "sub-7", params: ["notifications": ["toolsListChanged": true, "promptsListChanged": true]])
            try await RawHTTPConnection.with(port: port) { connection in
                try await connection.post("/mcp/cached", headers: Self.rawHeaders("subscriptions/listen"), body: listen)
                let head = try await connection.read { RawHTTPConnection.events(in: $0).count >= 1 }
                #expect(head.contains("Content-Type: text/event-stream"))
                #expect(head.contains("X-Accel-Buffering: no"))
                let ack = connection.events.first
                #expect(ack?["params"]?["_meta"]?["io.modelcontextprotocol/subscriptionId"] == "sub-7")
                // Only what we honour is acknowledged: there are no prompts.
                #expect(ack?["params"]?["notifications"] == ["toolsListChanged": true])
                #expect(gateway.subscriptions.count == 1)

                // An edit of /mcp/cached's plan changes its tools.
                let all = try String(contentsOfFile: dir.path + "/all.yaml", encoding: .utf8)
                try dir.write("all.yaml", all.replacingOccurrences(of: "tools: {cacheTtl: 5m}", with: "tools: {cacheTtl: 5m, exclude: [slow]}"))
                try await connection.read { RawHTTPConnection.events(in: $0).count >= 2 }
                let changed = connection.events.last
                #expect(changed?["method"] == "notifications/tools/list_changed")
                #expect(changed?["params"]?["_meta"]?["io.modelcontextprotocol/subscriptionId"] == "sub-7")
            }
            // The client closed its stream: the subscription is gone.
            #expect(try await eventually { gateway.subscriptions.count == 0 })
        }
    }

    @Test func anIdleSubscriptionCarriesKeepAlivesAndEndsGracefullyWhenItsEndpointGoes() async throws {
        let backend = ToolCallTests.Backend()
        try await withServer(backend.router()) { backendPort in
            let dir = try Self.configuration(backendPort: backendPort)
            defer { dir.remove() }
            try await withRunningGateway(configDirectory: dir.path, keepAlive: .milliseconds(200)) { client, gateway in
                let port = try await client.getChannel().remoteAddress?.port ?? 0
                let listen = Self.message("subscriptions/listen", id: 3, params: ["notifications": ["toolsListChanged": true]])
                try await RawHTTPConnection.with(port: port) { connection in
                    try await connection.post("/mcp/cached", headers: Self.rawHeaders("subscriptions/listen"), body: listen)
                    try await connection.read { $0.components(separatedBy: ": keep-alive\n\n").count > 2 }
                    // The endpoint leaves the directory: the subscription is answered, then closed.
                    let all = try String(contentsOfFile: dir.path + "/all.yaml", encoding: .utf8)
                    try dir.write("all.yaml", all.replacingOccurrences(of: "spec: {plan: cached, path: /mcp/cached}", with: "spec: {plan: cached, path: /mcp/elsewhere}"))
                    try await connection.read { RawHTTPConnection.events(in: $0).contains { $0["id"] == 3 } }
                    let closing = RawHTTPConnection.events(in: connection.received).last
                    #expect(closing?["result"]?["resultType"] == "complete")
                    #expect(closing?["result"]?["_meta"]?["io.modelcontextprotocol/subscriptionId"] == 3)
                    try await connection.read { $0.hasSuffix("0\r\n\r\n") }
                }
                #expect(gateway.subscriptions.count == 0)
            }
        }
    }

    @Test func noSubscriptionOpensOnceShutdownHasBegun() async throws {
        try await withGateway { client, gateway, _ in
            gateway.subscriptions.closeAll()
            let listen = Self.message("subscriptions/listen", params: ["notifications": ["toolsListChanged": true]])
            let refused = try await Self.post(client, "/mcp/open", listen, Self.headers("subscriptions/listen"))
            #expect(refused.status == .serviceUnavailable)
            #expect(try json(refused)["error"]?["message"] == "the gateway is shutting down; listen again on another replica")
            #expect(gateway.subscriptions.count == 0)
        }
    }

    @Test func closingTheResponseStreamCancelsTheBackendCall() async throws {
        try await withGateway { client, gateway, _ in
            let port = try await client.getChannel().remoteAddress?.port ?? 0
            let endpoint = try #require(gateway.store.current.routing.endpoints["/mcp/open"])
            let started = ContinuousClock.now
            try await RawHTTPConnection.with(port: port) { connection in
                let call = Self.message("tools/call", params: ["name": "slow", "arguments": [:]])
                try await connection.post("/mcp/open", headers: Self.rawHeaders("tools/call", name: "slow"), body: call)
                #expect(try await eventually { endpoint.callsInFlight == 1 })
                // The client gives up a moment later, as a user pressing stop would.
                try await Task.sleep(for: .milliseconds(300))
            }
            // The backend takes 5 s; the call ends as soon as the client is gone.
            #expect(try await eventually(timeout: .seconds(3)) { endpoint.callsInFlight == 0 })
            #expect(ContinuousClock.now - started < .seconds(4))
        }
    }

    @Test func aLongCallWithAProgressTokenStreamsProgressThenItsResult() async throws {
        try await withGateway { client, _, _ in
            let port = try await client.getChannel().remoteAddress?.port ?? 0
            var call = Self.message("tools/call", id: 11, params: ["name": "slow", "arguments": [:]])
            if case .object(var message) = call, case .object(var params)? = message["params"], case .object(var meta)? = params["_meta"] {
                meta["progressToken"] = "p-1"
                params["_meta"] = .object(meta)
                message["params"] = .object(params)
                call = .object(message)
            }
            let request = call
            try await RawHTTPConnection.with(port: port) { connection in
                try await connection.post("/mcp/open", headers: Self.rawHeaders("tools/call", name: "slow"), body: request)
                try await connection.read { RawHTTPConnection.events(in: $0).last?["result"] != nil }
                let events = connection.events
                let progress = events.filter { $0["method"] == "notifications/progress" }
                #expect(progress.count >= 2, "\(connection.received)")
                #expect(progress.allSatisfy { $0["params"]?["progressToken"] == "p-1" })
                let values = progress.compactMap { $0["params"]?["progress"]?.intValue }
                #expect(values == values.sorted() && Set(values).count == values.count)
                #expect(events.last?["id"] == 11)
                #expect(events.last?["result"]?["resultType"] == "complete")
                #expect(events.last?["result"]?["structuredContent"]?["late"] == true)
            }
        }
    }

    /// A modern request with its client capabilities and retry fields set.
    static func call(
        _ tool: String, id: JSONValue = 1, arguments: JSONValue, capabilities: JSONValue = [:], inputResponses: JSONValue? = nil, requestState: JSONValue? = nil
    ) -> JSONValue {
        var params: JSONObject = ["name": .string(tool), "arguments": arguments]
        if let inputResponses { params["inputResponses"] = inputResponses }
        if let requestState { params["requestState"] = requestState }
        guard case .object(var message) = Self.message("tools/call", id: id, params: params), case .object(var body)? = message["params"],
            case .object(var meta)? = body["_meta"]
        else { return .null }
        meta["io.modelcontextprotocol/clientCapabilities"] = capabilities
        body["_meta"] = .object(meta)
        message["params"] = .object(body)
        return .object(message)
    }

    @Test func aUserCredentialIsAskedForWithMultiRoundTripRequests() async throws {
        try await withGateway { client, gateway, _ in
            let headers = Self.headers("tools/call", name: "getPet")
            let arguments: JSONValue = ["petId": 5]
            // A client that cannot be asked is told which capability it lacks.
            let incapable = try await Self.post(client, "/mcp/mine", Self.call("getPet", arguments: arguments), headers)
            #expect(incapable.status == .badRequest)
            let error = try json(incapable)["error"]
            #expect(error?["code"] == -32021)
            #expect(error?["data"]?["requiredCapabilities"]?["elicitation"] != nil)

            // A client that can gets an InputRequiredResult: an elicitation and the state to echo.
            let capabilities: JSONValue = ["elicitation": ["form": [:]]]
            let first = try json(try await Self.post(client, "/mcp/mine", Self.call("getPet", arguments: arguments, capabilities: capabilities), headers))
            let asked = first["result"]
            #expect(asked?["resultType"] == "input_required")
            #expect(asked?["inputRequests"]?["credential"]?["method"] == "elicitation/create")
            #expect(asked?["inputRequests"]?["credential"]?["params"]?["message"] == "Your pets API key")
            #expect(asked?["ttlMs"] == nil)
            let state = try #require(asked?["requestState"])

            // The retry with the user's answer is called with it.
            let accepted: JSONValue = ["credential": ["action": "accept", "content": ["value": "user-key-5"]]]
            let retry = Self.call("getPet", id: 2, arguments: arguments, capabilities: capabilities, inputResponses: accepted, requestState: state)
            let done = try json(try await Self.post(client, "/mcp/mine", retry, headers))["result"]
            #expect(done?["resultType"] == "complete")
            #expect(done?["structuredContent"]?["seen"]?["apiKey"] == "user-key-5")

            // The state binds the answer to its tool: for another tool, or tampered, or absent,
            // the user is asked again.
            let otherTool = Self.call("addPet", id: 3, arguments: ["name": "x"], capabilities: capabilities, inputResponses: accepted, requestState: state)
            #expect(try json(try await Self.post(client, "/mcp/mine", otherTool, Self.headers("tools/call", name: "addPet")))["result"]?["resultType"] == "input_required")
            let tampered = Self.call(
                "getPet", id: 4, arguments: arguments, capabilities: capabilities, inputResponses: accepted, requestState: .string((state.stringValue ?? "") + "x"))
            #expect(try json(try await Self.post(client, "/mcp/mine", tampered, headers))["result"]?["resultType"] == "input_required")
            let stateless = Self.call("getPet", id: 5, arguments: arguments, capabilities: capabilities, inputResponses: accepted)
            #expect(try json(try await Self.post(client, "/mcp/mine", stateless, headers))["result"]?["resultType"] == "input_required")

            // A user who declines gets a tool error, and the backend is not called.
            let declined = Self.call(
                "getPet", id: 6, arguments: arguments, capabilities: capabilities, inputResponses: ["credential": ["action": "decline"]], requestState: state)
            let refusal = try json(try await Self.post(client, "/mcp/mine", declined, headers))["result"]
            #expect(refusal?["isError"] == true)
            #expect(refusal?["content"]?[0]?["text"] == "getPet needs your pets API key from the user, who declined to give it. The tool was not called.")
            // Nothing of it stays on the gateway.
            #expect(gateway.sessions.count == 0)
        }
    }

    @Test func aLegacySessionGetsProgressToo() async throws {
        try await withGateway { client, _, _ in
            let port = try await client.getChannel().remoteAddress?.port ?? 0
            var legacy = MCPTestClient(client, path: "/mcp/open")
            _ = try await legacy.initialize(version: "2025-11-25")
            let session = try #require(legacy.sessionID)
            // Streamed or not, a call is a JSON-RPC 2.0 request first.
            let unversioned: JSONValue = ["id": 13, "method": "tools/call", "params": ["name": "slow", "arguments": [:], "_meta": ["progressToken": 8]]]
            #expect(try json(try await legacy.post(unversioned))["error"]?["code"] == -32600)
            let call: JSONValue = ["jsonrpc": "2.0", "id": 12, "method": "tools/call", "params": ["name": "slow", "arguments": [:], "_meta": ["progressToken": 7]]]
            try await RawHTTPConnection.with(port: port) { connection in
                let headers = [("Accept", "application/json, text/event-stream"), ("MCP-Protocol-Version", "2025-11-25"), ("Mcp-Session-Id", session)]
                try await connection.post("/mcp/open", headers: headers, body: call)
                try await connection.read { RawHTTPConnection.events(in: $0).last?["result"] != nil }
                let events = connection.events
                #expect(events.filter { $0["method"] == "notifications/progress" && $0["params"]?["progressToken"] == 7 }.count >= 2)
                #expect(events.last?["result"]?["structuredContent"]?["late"] == true)
                // Legacy results stay as they were.
                #expect(events.last?["result"]?["resultType"] == nil)
            }
        }
    }

    static func rawHeaders(_ method: String, name: String? = nil) -> [(String, String)] {
        var headers = [("Accept", "application/json, text/event-stream"), ("MCP-Protocol-Version", version), ("Mcp-Method", method)]
        if let name { headers.append(("Mcp-Name", name)) }
        return headers
    }
}
