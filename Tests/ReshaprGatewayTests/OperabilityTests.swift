import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ReshaprJSON
import ReshaprMCP
import Synchronization
import TestSupport
import Testing

@testable import ReshaprGateway

/// JWT client security, limits, metrics, request ids and trace propagation, through a running gateway.
@Suite struct OperabilityTests {
    static let audience = "https://gateway.example.test/mcp/jwt"

    /// The petstore samples plus a JWT-protected exposition at /mcp/jwt.
    static func jwtConfiguration(_ dir: TemporaryDirectory, jwks: String) throws {
        try copySamples(to: dir)
        try dir.write(
            "jwt.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: jwt}
            spec:
              service: {name: petstore, version: 1.0.0}
              backend: {mock: true}
              clientSecurity:
                type: jwt
                issuer: https://idp.example.test
                audiences: [\(audience)]
                \(jwks)
                authorizationServers: [https://idp.example.test/realms/agents]
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: jwt}
            spec: {plan: jwt, path: /mcp/jwt}
            """)
    }

    static func initialize(_ client: TestClient, path: String, headers extra: HTTPFields = [:]) async throws -> TestClient.Response {
        var headers: HTTPFields = [.contentType: "application/json", .accept: "application/json, text/event-stream"]
        for field in extra { headers[field.name] = field.value }
        return try await client.post(path, headers: headers, body: ByteBuffer(string: MCPTestClient.initializeMessage("2025-11-25").serialized()))
    }

    @Test func jwtFromAJWKSFileIsChecked() async throws {
        let mint = try await TokenMint()
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("keys/jwks.json", mint.jwks)
        try Self.jwtConfiguration(dir, jwks: "jwksFile: keys/jwks.json")
        try await withRunningGateway(configDirectory: dir.path) { client, _ in
            let good = try await Self.initialize(client, path: "/mcp/jwt", headers: [.authorization: "Bearer " + (try await mint.token(audience: Self.audience))])
            #expect(good.status == .ok)
            let ec = try await Self.initialize(client, path: "/mcp/jwt", headers: [.authorization: "Bearer " + (try await mint.token(audience: Self.audience, kid: "ec-1"))])
            #expect(ec.status == .ok)

            let missing = try await Self.initialize(client, path: "/mcp/jwt")
            #expect(missing.status == .unauthorized)
            let challenge = try #require(missing.headers[.wwwAuthenticate])
            #expect(challenge.hasPrefix("Bearer resource_metadata=\"http://"))
            #expect(challenge.hasSuffix("/.well-known/oauth-protected-resource/mcp/jwt\""))
            #expect(try json(missing)["error"]?["message"] == "missing bearer token: send Authorization: Bearer <token>")

            let expired = try await Self.initialize(client, path: "/mcp/jwt", headers: [.authorization: "Bearer " + (try await mint.token(audience: Self.audience, lifetime: -300))])
            #expect(expired.status == .unauthorized)
            #expect(expired.headers[.wwwAuthenticate]?.contains(#"error="invalid_token", error_description="token has expired""#) == true)
            #expect(try json(expired)["error"]?["message"] == "invalid bearer token: token has expired")

            let otherAudience = try await Self.initialize(
                client, path: "/mcp/jwt", headers: [.authorization: "Bearer " + (try await mint.token(audience: "https://elsewhere.example.test/mcp"))])
            #expect(otherAudience.status == .unauthorized)
            #expect(try json(otherAudience)["error"]?["message"]?.stringValue?.contains("audience https://elsewhere.example.test/mcp is not accepted") == true)

            let forged = try await Self.initialize(
                client, path: "/mcp/jwt", headers: [.authorization: "Bearer " + (try await TokenMint().token(audience: Self.audience))])
            #expect(forged.status == .unauthorized)

            // Every request of a session is checked, not only initialize.
            let sessionID = try #require(good.headers[.mcpSessionID])
            let list = try await client.post(
                "/mcp/jwt", headers: [.contentType: "application/json", .mcpSessionID: sessionID],
                body: ByteBuffer(string: #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#))
            #expect(list.status == .unauthorized)

            // RFC 9728 metadata, where MCP clients find the authorization server.
            let metadata = try await client.get("/.well-known/oauth-protected-resource/mcp/jwt")
            #expect(metadata.status == .ok)
            let document = try json(metadata)
            #expect(document["resource"]?.stringValue?.hasSuffix("/mcp/jwt") == true)
            #expect(document["authorization_servers"] == ["https://idp.example.test/realms/agents"])
            #expect(document["bearer_methods_supported"] == ["header"])
            #expect(try await client.get("/.well-known/oauth-protected-resource/mcp/default/petstore/1.0.0").status == .notFound)
        }
    }

    @Test func jwtFromAJWKSURLIsFetchedOnceForAllItsEndpointsAndAcrossReloads() async throws {
        let mint = try await TokenMint()
        let fetches = Counter()
        let router = Router()
        router.get("/jwks") { [jwks = mint.jwks] _, _ in
            fetches.increment()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: jwks)))
        }
        try await withServer(router) { idpPort in
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            try Self.jwtConfiguration(dir, jwks: "jwksUrl: http://127.0.0.1:\(idpPort)/jwks")
            // A second endpoint of the same issuer, with its own audience.
            let otherAudience = "https://gateway.example.test/mcp/jwt2"
            try dir.write(
                "jwt2.yaml",
                """
                apiVersion: reshapr.io/v1
                kind: ConfigurationPlan
                metadata: {name: jwt2}
                spec:
                  service: {name: petstore, version: 1.0.0}
                  backend: {mock: true}
                  clientSecurity: {type: jwt, issuer: https://idp.example.test, audiences: [\(otherAudience)], jwksUrl: http://127.0.0.1:\(idpPort)/jwks}
                ---
                apiVersion: reshapr.io/v1
                kind: Exposition
                metadata: {name: jwt2}
                spec: {plan: jwt2, path: /mcp/jwt2}
                """)
            try await withRunningGateway(configDirectory: dir.path) { client, gateway in
                for _ in 0..<3 {
                    let response = try await Self.initialize(
                        client, path: "/mcp/jwt", headers: [.authorization: "Bearer " + (try await mint.token(audience: Self.audience))])
                    #expect(response.status == .ok)
                }
                let other = try await Self.initialize(
                    client, path: "/mcp/jwt2", headers: [.authorization: "Bearer " + (try await mint.token(audience: otherAudience))])
                #expect(other.status == .ok)
                // Audiences stay per endpoint.
                let crossed = try await Self.initialize(
                    client, path: "/mcp/jwt2", headers: [.authorization: "Bearer " + (try await mint.token(audience: Self.audience))])
                #expect(crossed.status == .unauthorized)
                // A reload that changes one endpoint keeps the keys already fetched.
                try dir.write("jwt2.yaml", try String(contentsOfFile: dir.path + "/jwt2.yaml", encoding: .utf8).replacingOccurrences(of: "/mcp/jwt2}", with: "/mcp/jwt3}"))
                await gateway.reload(reason: "test")
                let moved = try await Self.initialize(
                    client, path: "/mcp/jwt3", headers: [.authorization: "Bearer " + (try await mint.token(audience: otherAudience))])
                #expect(moved.status == .ok)
                #expect(fetches.count == 1)
            }
        }
    }

    @Test func aJWKSThatCannotVerifyKeepsTheEndpointClosed() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("keys/jwks.json", #"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#)
        try Self.jwtConfiguration(dir, jwks: "jwksFile: keys/jwks.json")
        try await withRunningGateway(configDirectory: dir.path) { client, _ in
            #expect(try await Self.initialize(client, path: "/mcp/jwt").status == .notFound)
            let status = String(buffer: try await client.get("/status").body ?? ByteBuffer())
            #expect(status.contains("spec.clientSecurity.jwksFile"))
            #expect(status.contains("the JWKS has no RSA or P-256 signature key; the endpoint is not served rather than served unprotected"))
            // The other endpoints are served.
            #expect(try await Self.initialize(client, path: "/mcp/default/petstore/1.0.0").status == .ok)
        }
    }

    @Test func perClientRateLimitAnswers429WithRetryAfter() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try copySamples(to: dir)
        try dir.write("gateway.yaml", "apiVersion: reshapr.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec: {limits: {rateLimit: {requestsPerSecond: 0.01, burst: 3}}}\n")
        try await withRunningGateway(configDirectory: dir.path) { client, _ in
            for _ in 0..<3 {
                #expect(try await Self.initialize(client, path: "/mcp/default/petstore/1.0.0").status == .ok)
            }
            let limited = try await Self.initialize(client, path: "/mcp/default/petstore/1.0.0")
            #expect(limited.status == .tooManyRequests)
            // One request per 100 s: the wait is close to 100 s, however slow this machine is.
            #expect(limited.headers[.retryAfter].flatMap(Int.init).map { (60...100).contains($0) } == true)
            #expect(try json(limited)["error"]?["code"] == .integer(JSONRPCErrorCode.serverError))
            #expect(try json(limited)["error"]?["message"]?.stringValue?.hasPrefix("rate limit exceeded: at most 0.01 requests per second per client (burst 3)") == true)
            // Health and metrics are not rate limited.
            #expect(try await client.get("/health/live").status == .ok)
            let metrics = String(buffer: try await client.get("/metrics").body ?? ByteBuffer())
            #expect(metrics.contains(#"reshapr_mcp_rejected_total{reason="rate_limited"} 1"#))
        }
    }

    @Test func theConcurrencyLimitRefusesRatherThanQueues() async throws {
        let gate = Mutex(false)
        let arrived = Counter()
        let router = Router()
        router.get("/api/slow") { _, _ -> Response in
            arrived.increment()
            while !gate.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
            return ToolCallTests.Backend.json(["late": true])
        }
        try await withServer(router) { backendPort in
            let dir = try ToolCallTests.configuration(backendPort: backendPort)
            defer { dir.remove() }
            try dir.write("gateway.yaml", "apiVersion: reshapr.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec: {limits: {maxConcurrentCalls: 1}}\n")
            try await withRunningGateway(configDirectory: dir.path) { client, _ in
                let port = try #require(try await client.getChannel().remoteAddress?.port)
                let second = TestClient(host: "127.0.0.1", port: port)
                second.connect()
                defer { Task { try? await second.shutdown() } }
                var first = MCPTestClient(client, path: "/mcp/open")
                _ = try await first.initialize()
                var other = MCPTestClient(second, path: "/mcp/open")
                _ = try await other.initialize()
                try await withThrowingTaskGroup(of: JSONValue.self) { group in
                    group.addTask { [first] in try await first.callTool("slow") }
                    #expect(try await eventually(timeout: .seconds(20)) { arrived.count == 1 })
                    let refused = try await other.callTool("slow")
                    #expect(refused["isError"] == true)
                    #expect(refused["content"]?[0]?["text"]?.stringValue?.hasPrefix("The gateway is already running 1 calls on this endpoint, its limit.") == true)
                    gate.withLock { $0 = true }
                    let finished = try await group.next()
                    #expect(finished?["isError"] == false)
                }
                // The slot is free again.
                #expect(try await other.callTool("slow")["isError"] == false)
                let metrics = String(buffer: try await client.get("/metrics").body ?? ByteBuffer())
                #expect(metrics.contains(#"reshapr_tool_calls_total{endpoint="/mcp/open",tool="slow",outcome="overloaded"} 1"#))
                #expect(metrics.contains(#"reshapr_tool_calls_total{endpoint="/mcp/open",tool="slow",outcome="ok"} 2"#))
            }
        }
    }

    @Test func metricsCountCallsErrorsReloadsAndSessions() async throws {
        try await withServer(ToolCallTests.Backend().router()) { backendPort in
            let dir = try ToolCallTests.configuration(backendPort: backendPort)
            defer { dir.remove() }
            try await withRunningGateway(configDirectory: dir.path) { client, gateway in
                var mcp = MCPTestClient(client, path: "/mcp/open")
                _ = try await mcp.initialize()
                _ = try await mcp.callTool("getPet", ["petId": 7])
                _ = try await mcp.callTool("getPet", ["petId": "seven"])
                _ = try await mcp.callTool("missing")
                await gateway.reload(reason: "test")
                let response = try await client.get("/metrics")
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                let text = String(buffer: response.body ?? ByteBuffer())
                #expect(text.contains(#"reshapr_tool_calls_total{endpoint="/mcp/open",tool="getPet",outcome="ok"} 1"#))
                #expect(text.contains(#"reshapr_tool_calls_total{endpoint="/mcp/open",tool="getPet",outcome="invalid_arguments"} 1"#))
                #expect(text.contains(#"reshapr_tool_calls_total{endpoint="/mcp/open",tool="missing",outcome="tool_error"} 1"#))
                #expect(text.contains(#"reshapr_backend_errors_total{endpoint="/mcp/open",reason="status_4xx"} 1"#))
                #expect(text.contains(#"reshapr_tool_call_duration_seconds_count{endpoint="/mcp/open",tool="getPet"} 1"#))
                #expect(text.contains(#"reshapr_config_reloads_total{result="ok"} 1"#))
                #expect(text.contains("reshapr_config_generation 2"))
                #expect(text.contains("reshapr_mcp_sessions 1"))
                #expect(text.contains("# TYPE reshapr_tool_call_duration_seconds histogram"))

                // An endpoint removed by a reload leaves /metrics; the others stay. (The write may
                // also be reloaded by the directory watcher: the reload count is not checked here.)
                let all = try String(contentsOfFile: dir.path + "/all.yaml", encoding: .utf8)
                try dir.write("all.yaml", all.replacingOccurrences(of: "path: /mcp/open}", with: "path: /mcp/reopened}"))
                await gateway.reload(reason: "test")
                let after = String(buffer: try await client.get("/metrics").body ?? ByteBuffer())
                #expect(!after.contains(#"endpoint="/mcp/open""#))
                var moved = MCPTestClient(client, path: "/mcp/reopened")
                _ = try await moved.initialize()
                _ = try await moved.callTool("getPet", ["petId": 7])
                let again = String(buffer: try await client.get("/metrics").body ?? ByteBuffer())
                #expect(again.contains(#"reshapr_tool_calls_total{endpoint="/mcp/reopened",tool="getPet",outcome="ok"} 1"#))
            }
        }
    }

    @Test func requestIDsAndTraceContextReachTheBackend() async throws {
        let seen = Mutex<[String]>([])
        let router = Router()
        router.get("/api/pets/:petId") { request, _ -> Response in
            seen.withLock { $0.append((request.headers[HTTPField.Name("traceparent")!] ?? "") + " " + (request.headers[HTTPField.Name("tracestate")!] ?? "")) }
            return ToolCallTests.Backend.json(["id": 1, "name": "rex"])
        }
        try await withServer(router) { backendPort in
            let dir = try ToolCallTests.configuration(backendPort: backendPort)
            defer { dir.remove() }
            try await withRunningGateway(configDirectory: dir.path) { client, _ in
                var mcp = MCPTestClient(client, path: "/mcp/open")
                _ = try await mcp.initialize()
                let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                let traced = try await mcp.post(
                    ["jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": ["name": "getPet", "arguments": ["petId": 1]]],
                    headers: [HTTPField.Name("traceparent")!: incoming, HTTPField.Name("tracestate")!: "vendor=1"])
                // Without X-Request-Id, the request id is the trace id.
                #expect(traced.headers[.requestID] == "4bf92f3577b34da6a3ce929d0e0e4736")
                _ = try await mcp.post(
                    ["jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": ["name": "getPet", "arguments": ["petId": 1]]],
                    headers: [.requestID: "req-42"])
                let untraced = try await mcp.post(["jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": ["name": "getPet", "arguments": ["petId": 1]]])
                let generated = try #require(untraced.headers[.requestID])
                #expect(generated.count == 32)
                let forwarded = seen.withLock { $0 }
                #expect(forwarded.count == 3)
                #expect(forwarded.first == incoming + " vendor=1")
                // A caller without trace context gets a new, unsampled trace whose id is the request id.
                let started = try #require(TraceParent(String(forwarded[2].dropLast())))
                #expect(started.traceID == generated)
                #expect(started.flags == "00")
                let withID = try #require(TraceParent(String(forwarded[1].dropLast())))
                #expect(withID.traceID.count == 32)
            }
        }
    }
}

@Suite struct RateLimiterTests {
    @Test func bucketsRefillAndStayBounded() {
        let limiter = RateLimiter(maxClients: 100)
        let limit = RateLimiter.Limit(requestsPerSecond: 2, burst: 2)
        let start = ContinuousClock.now
        #expect(limiter.admit("a", limit: limit, now: start) == .allowed)
        #expect(limiter.admit("a", limit: limit, now: start) == .allowed)
        #expect(limiter.admit("a", limit: limit, now: start) == .limited(retryAfter: .milliseconds(500)))
        // Another client has its own bucket.
        #expect(limiter.admit("b", limit: limit, now: start) == .allowed)
        // Half a second later, one token is back.
        #expect(limiter.admit("a", limit: limit, now: start + .milliseconds(500)) == .allowed)
        #expect(limiter.admit("a", limit: limit, now: start + .milliseconds(500)) != .allowed)
        // Thousands of one-off clients do not grow the table past its bound.
        for i in 0..<5000 { _ = limiter.admit("client-\(i)", limit: limit, now: start + .seconds(1)) }
        #expect(limiter.trackedClients <= 100)
        #expect(RateLimiter.Limit(requestsPerSecond: 2.5).burst == 3)
    }
}
