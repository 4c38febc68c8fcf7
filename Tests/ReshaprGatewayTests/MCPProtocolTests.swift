import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ReshaprJSON
import ReshaprMCP
import TestSupport
import Testing

@testable import ReshaprGateway

/// MCP Streamable HTTP behaviour of the gateway, over real HTTP, on the bundled samples.
@Suite struct MCPProtocolTests {
    let path = "/mcp/default/petstore/1.0.0"

    @Test func initializeNegotiatesTheVersionAndOpensASession() async throws {
        try await withRunningGateway(configDirectory: Repository.samples) { client, gateway in
            for (asked, expected) in [("2025-03-26", "2025-03-26"), ("2025-06-18", "2025-06-18"), ("2025-11-25", "2025-11-25"), ("2099-01-01", "2025-11-25")] {
                var mcp = MCPTestClient(client, path: path)
                let result = try await mcp.initialize(version: asked)
                #expect(result["result"]?["protocolVersion"] == .string(expected))
                #expect(result["result"]?["capabilities"]?["tools"]?["listChanged"] == true)
                #expect(result["result"]?["serverInfo"]?["name"] == "reshapr-petstore")
                #expect(mcp.sessionID?.count == 32)
                #expect(try await mcp.request("ping") == ["jsonrpc": "2.0", "id": 2, "result": [:]])
            }
            #expect(gateway.sessions.count == 4)
        }
    }

    @Test func requestsNeedAValidSession() async throws {
        try await withRunningGateway(configDirectory: Repository.samples) { client, _ in
            var mcp = MCPTestClient(client, path: path)
            let noSession = try await mcp.post(["jsonrpc": "2.0", "id": 1, "method": "tools/list"])
            #expect(noSession.status == .badRequest)
            #expect(try json(noSession)["error"]?["code"] == -32600)

            mcp.sessionID = "0123456789abcdef0123456789abcdef"
            #expect(try await mcp.post(["jsonrpc": "2.0", "id": 1, "method": "tools/list"]).status == .notFound)

            _ = try await mcp.initialize()
            let badVersion = try await mcp.post(["jsonrpc": "2.0", "id": 1, "method": "ping"], headers: [.mcpProtocolVersion: "1999-01-01"])
            #expect(badVersion.status == .badRequest)

            let notification = try await mcp.post(["jsonrpc": "2.0", "method": "notifications/initialized"])
            #expect(notification.status == .accepted)

            let unknown = try await mcp.request("completion/complete")
            #expect(unknown["error"]?["code"] == -32601)

            let delete = try await client.execute(.init(path, method: .delete, headers: [.mcpSessionID: mcp.sessionID ?? ""]))
            #expect(delete.status == .noContent)
            #expect(try await mcp.post(["jsonrpc": "2.0", "id": 1, "method": "ping"]).status == .notFound)
        }
    }

    @Test func malformedRequestsGetClearErrors() async throws {
        try await withRunningGateway(configDirectory: Repository.samples) { client, _ in
            let parse = try await client.post(path, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{not json"))
            #expect(parse.status == .badRequest)
            #expect(try json(parse)["error"]?["code"] == -32700)
            let type = try await client.post(path, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "{}"))
            #expect(type.status == .unsupportedMediaType)
            let big = try await client.post(path, headers: [.contentType: "application/json"], body: ByteBuffer(repeating: UInt8(ascii: " "), count: 5 << 20))
            #expect(big.status == .contentTooLarge)
            let xml = try await client.post(path, headers: [.contentType: "application/json", .accept: "application/xml"], body: ByteBuffer(string: "{}"))
            #expect(xml.status == .notAcceptable)
            let put = try await client.execute(.init(path, method: .put, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}")))
            #expect(put.status == .methodNotAllowed)
        }
    }

    @Test func originsAreChecked() async throws {
        try await withRunningGateway(configDirectory: Repository.samples) { client, _ in
            let message = ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}"#)
            let evil = try await client.post(path, headers: [.contentType: "application/json", .origin: "https://evil.example"], body: message)
            #expect(evil.status == .forbidden)
            let local = try await client.post(path, headers: [.contentType: "application/json", .origin: "http://localhost:6274"], body: message)
            #expect(local.status == .ok)
        }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try copySamples(to: dir)
        try dir.write("gateway.yaml", "apiVersion: reshapr.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec: {allowedOrigins: ['https://console.example.internal']}\n")
        try await withRunningGateway(configDirectory: dir.path) { client, _ in
            let message = ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#)
            let allowed = try await client.post(path, headers: [.contentType: "application/json", .origin: "https://console.example.internal"], body: message)
            #expect(allowed.status == .ok)
        }
    }

    @Test func apiKeyClientSecurityIsEnforced() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try copySamples(to: dir)
        try dir.write(
            "secured.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Secret
            metadata: {name: keys}
            spec: {data: {mcp: key-123-secret}}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: secured}
            spec:
              service: {name: petstore, version: 1.0.0}
              backend: {mock: true}
              clientSecurity: {type: apiKey, secretRef: {name: keys, key: mcp}}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: secured}
            spec: {plan: secured, path: /mcp/secured}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: hashed}
            spec:
              service: {name: petstore, version: 1.0.0}
              backend: {mock: true}
              clientSecurity: {type: apiKey, header: X-Pet-Key, keyHash: "sha256:\(SHA256.hash(data: Array("only-its-hash".utf8)).map { String(format: "%02x", $0) }.joined())"}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: hashed}
            spec: {plan: hashed, path: /mcp/hashed}
            """)
        try await withRunningGateway(configDirectory: dir.path) { client, gateway in
            #expect(gateway.store.current.issues.isEmpty, "\(gateway.store.current.issues)")
            let message = ByteBuffer(string: MCPTestClient.initializeMessage("2025-06-18").serialized())
            let missing = try await client.post("/mcp/secured", headers: [.contentType: "application/json"], body: message)
            #expect(missing.status == .unauthorized)
            #expect(missing.headers[.wwwAuthenticate] == #"ApiKey header="x-reshapr-key""#)
            #expect(try json(missing)["error"]?["message"] == "missing API key: send it in the x-reshapr-key header")
            let reshaprHeader = try await client.post("/mcp/secured", headers: [.contentType: "application/json", HTTPField.Name("x-reshapr-key")!: "key-123-secret"], body: message)
            #expect(reshaprHeader.status == .ok)
            // A key given only as its hash: the right key in the named header, and nothing else.
            for (header, key, expected) in [("X-Pet-Key", "only-its-hash", HTTPResponse.Status.ok), ("X-Pet-Key", "only-its-has", .unauthorized), ("x-reshapr-key", "only-its-hash", .unauthorized)] {
                let answer = try await client.post("/mcp/hashed", headers: [.contentType: "application/json", HTTPField.Name(header)!: key], body: message)
                #expect(answer.status == expected, "\(header): \(key)")
            }
            let wrong = try await client.post("/mcp/secured", headers: [.contentType: "application/json", HTTPField.Name("X-API-Key")!: "guess"], body: message)
            #expect(wrong.status == .unauthorized)
            #expect(try json(wrong)["error"]?["message"] == "invalid API key")
            let right = try await client.post("/mcp/secured", headers: [.contentType: "application/json", HTTPField.Name("X-API-Key")!: "key-123-secret"], body: message)
            #expect(right.status == .ok)
            let status = String(buffer: try await client.get("/status").body ?? ByteBuffer())
            #expect(!status.contains("key-123-secret"))
        }
    }

    @Test func toolsListPaginatesLargeSets() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.symlink("api.json", to: Repository.openAPICorpus + "/twilio_api_v2010.json")
        try dir.write(
            "all.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: twilio}
            spec: {version: "2010", type: REST, artifacts: [{type: OPENAPI, path: api.json}]}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: twilio}
            spec: {service: {name: twilio, version: "2010"}, backend: {mock: true}}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: twilio}
            spec: {plan: twilio}
            """)
        try await withRunningGateway(configDirectory: dir.path) { client, _ in
            var mcp = MCPTestClient(client, path: "/mcp/default/twilio/2010")
            _ = try await mcp.initialize()
            var names: [String] = []
            var cursor: JSONValue?
            var pages = 0
            repeat {
                let page = try await mcp.request("tools/list", cursor.map { ["cursor": $0] } ?? [:])
                names += page["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
                cursor = page["result"]?["nextCursor"]
                pages += 1
            } while cursor != nil && pages < 10
            #expect(names.count == 197)
            #expect(Set(names).count == 197)
            #expect(pages == 2)
            let bad = try await mcp.request("tools/list", ["cursor": "nope"])
            #expect(bad["error"]?["code"] == -32602)
        }
    }

    @Test func unknownToolsAreProtocolErrors() async throws {
        try await withRunningGateway(configDirectory: Repository.samples) { client, _ in
            var mcp = MCPTestClient(client, path: path)
            _ = try await mcp.initialize()
            let response = try await mcp.request("tools/call", ["name": "nope", "arguments": [:]])
            #expect(response["error"]?["message"] == "Unknown tool: nope")
            let messages: JSONValue = [["jsonrpc": "2.0", "id": 7, "method": "ping"], ["jsonrpc": "2.0", "method": "notifications/initialized"]]
            // Batches went away with 2025-06-18; sessions of 2025-03-26 keep them.
            let refused = try await mcp.post(messages)
            #expect(refused.status == .badRequest)
            #expect(try json(refused)["error"]?["message"] == "JSON-RPC batches were removed in MCP 2025-06-18 and this session speaks 2025-06-18; send one message per request")
            var legacy = MCPTestClient(client, path: path)
            _ = try await legacy.initialize(version: "2025-03-26")
            let batch = try json(try await legacy.post(messages))
            #expect(batch == [["jsonrpc": "2.0", "id": 7, "result": [:]]])
            let sse = try await mcp.post(["jsonrpc": "2.0", "id": 8, "method": "ping"], headers: [.accept: "text/event-stream"])
            #expect(sse.headers[.contentType] == "text/event-stream")
            #expect(String(buffer: sse.body ?? ByteBuffer()) == "event: message\ndata: {\"id\":8,\"jsonrpc\":\"2.0\",\"result\":{}}\n\n")
        }
    }

    @Test func notificationStreamDeliversToolsListChanged() async throws {
        try await withRunningGateway(configDirectory: Repository.samples) { client, gateway in
            var mcp = MCPTestClient(client, path: path)
            _ = try await mcp.initialize()
            let session = mcp.sessionID ?? ""
            let streamClient = TestClient(host: "127.0.0.1", port: try await client.getChannel().remoteAddress?.port ?? 0)
            streamClient.connect()
            async let streamed = streamClient.execute(.init(path, method: .get, headers: [.accept: "text/event-stream", .mcpSessionID: session]))
            // Wait until the stream is registered, then notify and end the session (which ends the stream).
            var reached = 0
            for _ in 0..<200 where reached == 0 {
                reached = gateway.sessions.notify(.toolsListChanged, paths: [path])
                if reached == 0 { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(reached == 1)
            gateway.sessions.remove(session)
            let response = try await streamed
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream")
            #expect(String(buffer: response.body ?? ByteBuffer()).contains(#"data: {"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#))
            try await streamClient.shutdown()
        }
    }
}

func copySamples(to dir: TemporaryDirectory) throws {
    for file in try FileManager.default.contentsOfDirectory(atPath: Repository.samples + "/petstore") {
        try dir.write("petstore/" + file, try String(contentsOfFile: Repository.samples + "/petstore/" + file, encoding: .utf8))
    }
}
