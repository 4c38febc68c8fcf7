import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ReshaprAuth
import ReshaprBackend
import Logging
import ReshaprJSON
import ServiceLifecycle
import TestSupport
import Testing

@testable import ReshaprConfig
@testable import ReshaprGateway
@testable import ReshaprMCP

/// Requests an attacker would send, through the whole gateway. Each test failed (or crashed
/// the process) before the fix it covers.
@Suite struct HardeningTests {
    static let grpcPath = "/mcp/default/petstore-grpc/v1"

    @Test func anInt64PastTwoToTheSixtyThreeIsAToolErrorAndTheGatewayKeepsServing() async throws {
        try await withRunningGateway(configDirectory: Repository.samples) { client, _ in
            var mcp = MCPTestClient(client, path: Self.grpcPath)
            _ = try await mcp.initialize()
            for id: JSONValue in [.number(9_223_372_036_854_775_808), .number(1e300), "99999999999999999999"] {
                let result = try await mcp.callTool("GetPet", ["id": id])
                #expect(result["isError"] == true)
                #expect(result["content"]?[0]?["text"]?.stringValue?.contains("id") == true)
            }
            let ok = try await mcp.callTool("GetPet", ["id": "42"])
            #expect(ok["isError"] != true)
            #expect(try await client.get("/health/live").status == .ok)
        }
    }

    static let strictSpec = """
        openapi: 3.0.3
        info: {title: Strict, version: '1'}
        paths:
          /files/{name}:
            get:
              operationId: getFile
              parameters:
                - {name: name, in: path, required: true, schema: {type: array, items: {type: string}}}
                - {name: X-Tenant, in: header, schema: {type: string}}
                - {name: X-Api-Key, in: header, schema: {type: string}}
                - {name: api_key, in: query, schema: {type: string}}
              responses: {'200': {description: ok, content: {application/json: {schema: {type: object}}}}}
          /broken:
            get:
              operationId: broken
              parameters:
                - {name: size, in: query, schema: {type: frobnicate}}
              responses: {'200': {description: ok}}
          /legacy:
            post:
              operationId: legacy
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: Object
                      properties:
                        name: {type: string, required: true}
                        age: {type: integer, minimum: '0', maximum: '150'}
              responses: {'200': {description: ok}}
        """

    /// A backend that answers with what it received.
    static func echoBackend() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/api/files/**") { request, _ -> Response in
            var headers: JSONObject = [:]
            for field in request.headers { headers[field.name.canonicalName.lowercased(), default: .array([])] = .array((headers[field.name.canonicalName.lowercased()]?.arrayValue ?? []) + [.string(field.value)]) }
            let body: JSONValue = ["path": .string(request.uri.path), "query": .string(request.uri.query ?? ""), "headers": .object(headers)]
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body.serializedBytes())))
        }
        return router
    }

    static func strictDirectory(port: Int, security: String) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        try dir.write("strict.yaml", strictSpec)
        try dir.write(
            "mcp.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: strict}
            spec: {version: '1', type: REST, artifacts: [{type: OPENAPI, path: strict.yaml}]}
            ---
            apiVersion: reshapr.io/v1
            kind: Secret
            metadata: {name: creds}
            spec: {data: {key: the-real-key}}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: strict}
            spec:
              service: {name: strict, version: '1'}
              backend: {endpoint: 'http://127.0.0.1:\(port)/api', headers: {X-Tenant: pinned-tenant}}
              backendSecurity: \(security)
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: strict}
            spec: {plan: strict}
            """)
        return dir
    }

    /// The strict spec's endpoint, served with no backend security in front of the echo
    /// backend, and an MCP session on it.
    static func withStrictGateway(_ body: @Sendable (TestClient, MCPTestClient) async throws -> Void) async throws {
        try await withServer(echoBackend()) { port in
            let dir = try strictDirectory(port: port, security: "{type: none}")
            defer { dir.remove() }
            try await withRunningGateway(configDirectory: dir.path) { client, _ in
                var mcp = MCPTestClient(client, path: "/mcp/default/strict/1")
                _ = try await mcp.initialize()
                try await body(client, mcp)
            }
        }
    }

    @Test func pinnedHeadersAndBackendSecurityWinOverToolArguments() async throws {
        try await withServer(Self.echoBackend()) { port in
            for (security, check) in [
                ("{type: apiKey, in: header, name: X-Api-Key, secretRef: {name: creds, key: key}}", "header"),
                ("{type: apiKey, in: query, name: api_key, secretRef: {name: creds, key: key}}", "query"),
            ] {
                let dir = try Self.strictDirectory(port: port, security: security)
                defer { dir.remove() }
                try await withRunningGateway(configDirectory: dir.path) { client, _ in
                    var mcp = MCPTestClient(client, path: "/mcp/default/strict/1")
                    _ = try await mcp.initialize()
                    let result = try await mcp.callTool(
                        "getFile", ["name": ["a"], "X-Tenant": "attacker", "X-Api-Key": "attacker-key", "api_key": "attacker-key"])
                    let seen = try #require(result["structuredContent"])
                    #expect(seen["headers"]?["x-tenant"] == ["pinned-tenant"])
                    if check == "header" {
                        #expect(seen["headers"]?["x-api-key"] == ["the-real-key"])
                    } else {
                        #expect(seen["query"] == "api_key=the-real-key")
                        #expect(seen["headers"]?["x-api-key"] == ["attacker-key"])
                    }
                }
            }
        }
    }

    @Test func pathArraysCannotSpellDotSegments() async throws {
        try await Self.withStrictGateway { client, mcp in
            for name: JSONValue in [[".."], ["."], []] {
                let result = try await mcp.callTool("getFile", ["name": name])
                #expect(result["isError"] == true, "\(name)")
                #expect(result["content"]?[0]?["text"]?.stringValue?.hasPrefix("Invalid arguments for getFile: name:") == true)
            }
            let fine = try await mcp.callTool("getFile", ["name": ["..", "x"]])
            #expect(fine["structuredContent"]?["path"] == "/api/files/..,x")
        }
    }

    @Test func aToolWhoseInputSchemaCannotBeCompiledIsRefusedNotSentUnchecked() async throws {
        try await Self.withStrictGateway { client, mcp in
            let listed = try await mcp.request("tools/list")["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(listed.sorted() == ["getFile", "legacy"])
            let refused = try await mcp.callTool("broken", ["size": "anything"])
            #expect(refused["isError"] == true)
            let text = refused["content"]?[0]?["text"]?.stringValue ?? ""
            #expect(text.hasPrefix("The gateway refuses to call broken: its input schema cannot be checked"))
            #expect(text.contains("frobnicate"))
            let status = try json(try await client.get("/status"))
            let warnings = status["warnings"]?.arrayValue?.compactMap { $0["message"]?.stringValue } ?? []
            #expect(warnings.contains { $0.hasPrefix("tool broken is not served and its calls are refused") })
        }
    }

    @Test func openAPI30HabitsAreNormalizedAndChecked() async throws {
        try await Self.withStrictGateway { client, mcp in
            let tools = try await mcp.request("tools/list")["result"]?["tools"]?.arrayValue ?? []
            let legacy = try #require(tools.first { $0["name"] == "legacy" })
            // `type: Object` was read as an object body, so its properties became arguments.
            #expect(legacy["inputSchema"]?["required"] == ["name"])
            #expect(legacy["inputSchema"]?["properties"]?["age"]?["maximum"] == 150)
            let missing = try await mcp.callTool("legacy", ["age": 3])
            #expect(missing["content"]?[0]?["text"]?.stringValue?.contains("name") == true)
            let tooOld = try await mcp.callTool("legacy", ["name": "x", "age": 200])
            #expect(tooOld["content"]?[0]?["text"]?.stringValue?.contains("must be at most 150") == true)
        }
    }

    @Test func batchesAreRefusedOnModernSessionsAndBoundedAndRateLimitedOnOldOnes() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try FileManager.default.copyItem(atPath: Repository.samples + "/petstore", toPath: dir.path + "/petstore")
        try dir.write(
            "gateway.yaml",
            "apiVersion: reshapr.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec: {limits: {rateLimit: {requestsPerSecond: 0.001, burst: 4}}}\n")
        try await withRunningGateway(configDirectory: dir.path) { client, _ in
            let path = "/mcp/default/petstore/1.0.0"
            let ping: JSONValue = ["jsonrpc": "2.0", "id": 1, "method": "ping"]
            var legacy = MCPTestClient(client, path: path)
            _ = try await legacy.initialize(version: "2025-03-26")  // initialize + initialized: 2 of 4
            let tooLong = try await legacy.post(.array(Array(repeating: ping, count: 33)))
            #expect(tooLong.status == .badRequest)
            #expect(try json(tooLong)["error"]?["message"] == "a batch holds at most 32 messages; this one holds 33")
            // 1 of 4 left after the refused batch: a batch of 3 is 3 requests, over the limit.
            let limited = try await legacy.post([ping, ping, ping])
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
        }
    }

    @Test func aFloodOfInitializeOnOneEndpointKeepsTheSessionsOfAnother() {
        let store = SessionStore(maxSessions: 10, maxSessionsPerEndpoint: 4)
        let kept = (0..<3).map { _ in store.create(path: "/mcp/quiet", protocolVersion: "2025-06-18") }
        for _ in 0..<1_000 { _ = store.create(path: "/mcp/open", protocolVersion: "2025-06-18") }
        for id in kept { #expect(store.touch(id, path: "/mcp/quiet", client: nil) != nil) }
        #expect(store.count(on: "/mcp/open") == 4)
        #expect(store.count == 7)
        // A full store gives up a session of the busiest endpoint, never of the quiet one.
        let other = SessionStore(maxSessions: 5, maxSessionsPerEndpoint: 5)
        let quiet = other.create(path: "/mcp/quiet", protocolVersion: "2025-06-18")
        for _ in 0..<100 { _ = other.create(path: "/mcp/open", protocolVersion: "2025-06-18") }
        #expect(other.touch(quiet, path: "/mcp/quiet", client: nil) != nil)
        #expect(other.count == 5)
    }

    @Test func notificationStreamsAreCappedPerSessionAndOverall() {
        let store = SessionStore(maxStreamsPerSession: 2, maxStreams: 3)
        let a = store.create(path: "/a", protocolVersion: "2025-06-18")
        let b = store.create(path: "/a", protocolVersion: "2025-06-18")
        var keys: [UInt64] = []
        for _ in 0..<2 {
            if case .success(let (key, _)) = store.openStream(a) { keys.append(key) }
        }
        #expect(keys.count == 2)
        guard case .failure(.tooManyForSession) = store.openStream(a) else {
            Issue.record("a third stream on one session was opened")
            return
        }
        guard case .success = store.openStream(b) else {
            Issue.record("a stream on another session was refused")
            return
        }
        guard case .failure(.tooManyOverall) = store.openStream(b) else {
            Issue.record("a fourth stream overall was opened")
            return
        }
        store.closeStream(a, key: keys[0])
        #expect(store.openStreams == 2)
        store.remove(a)
        #expect(store.openStreams == 1)
    }

    @Test func oauth2TokensAreCachedPerClientSecret() async throws {
        let router = Router()
        router.post("/token") { request, _ -> Response in
            // The token names the secret it was issued for.
            let basic = String((request.headers[.authorization] ?? "").dropFirst("Basic ".count))
            let credentials = String(decoding: Data(base64Encoded: basic) ?? Data(), as: UTF8.self)
            let token: JSONValue = ["access_token": .string("token-for-" + (credentials.split(separator: ":").last.map(String.init) ?? "")), "expires_in": 3600]
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: token.serializedBytes())))
        }
        router.get("/api/who") { request, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: request.headers[.authorization] ?? "")))
        }
        try await withServer(router) { port in
            let client = BackendClient()
            let backend = HTTPBackend(endpoint: "http://127.0.0.1:\(port)/api", timeout: .seconds(30), headers: [:], tls: nil)
            func who(secret: String) async throws -> String {
                let security = BackendSecurity.oauth2ClientCredentials(
                    tokenURL: "http://127.0.0.1:\(port)/token", clientID: "shared-client", clientSecret: SecretValue(secret), scopes: [], audience: nil)
                let response = try await client.send(
                    BackendRequest(method: "GET", pathAndQuery: "/who"), to: backend, security: security, callerHeaders: [], timeout: .seconds(30))
                return String(decoding: response.body, as: UTF8.self)
            }
            #expect(try await who(secret: "old-secret") == "Bearer token-for-old-secret")
            // After a rotation (or for another plan with the same client id), the token of the
            // old secret is not handed out.
            #expect(try await who(secret: "new-secret") == "Bearer token-for-new-secret")
            #expect(try await who(secret: "old-secret") == "Bearer token-for-old-secret")
            try await client.shutdown()
        }
    }

    @Test func anEmptyAPIKeyNeverMatches() {
        #expect(!APIKey.matches("", ""))
        #expect(!APIKey.matches("", "key"))
        #expect(!APIKey.matches("key", ""))
        #expect(APIKey.matches("key", "key"))
    }

    @Test func statusAndMetricsMoveToTheAdminListener() async throws {
        var logger = Logger(label: "test.gateway")
        logger.logLevel = .warning
        let options = GatewayOptions(configDirectory: Repository.samples, host: "127.0.0.1", port: 0, adminPort: 0)
        let gateway = try Gateway(options: options, logger: logger)
        let (ports, continuation) = AsyncStream<(String, Int)>.makeStream()
        let group = ServiceGroup(
            services: gateway.services(onListening: { continuation.yield(("mcp", $0)) }, onAdminListening: { continuation.yield(("admin", $0)) }),
            logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var bound: [String: Int] = [:]
            for await (name, port) in ports {
                bound[name] = port
                if bound.count == 2 { break }
            }
            let mcp = TestClient(host: "127.0.0.1", port: bound["mcp"] ?? 0)
            let admin = TestClient(host: "127.0.0.1", port: bound["admin"] ?? 0)
            mcp.connect()
            admin.connect()
            #expect(try await mcp.get("/status").status == .notFound)
            #expect(try await mcp.get("/metrics").status == .notFound)
            #expect(try await mcp.get("/health/ready").status == .ok)
            #expect(try await admin.get("/status").status == .ok)
            #expect(try await admin.get("/metrics").status == .ok)
            #expect(try await admin.get("/health/live").status == .ok)
            #expect(try await admin.get("/mcp/default/petstore/1.0.0").status == .notFound)
            try await mcp.shutdown()
            try await admin.shutdown()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await gateway.shutdown()
    }
}
