import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ReshaprJSON
import TestSupport
import Testing

@testable import ReshaprGateway

/// Tool calls through the gateway to a real HTTP backend running in the test.
@Suite struct ToolCallTests {
    static let spec = """
        openapi: 3.0.3
        info: {title: Backend, version: '1'}
        paths:
          /pets/{petId}:
            get:
              operationId: getPet
              parameters:
                - {name: petId, in: path, required: true, schema: {type: integer}}
                - {name: q, in: query, schema: {type: array, items: {type: string}}}
                - {name: X-Trace, in: header, schema: {type: string}}
              responses:
                '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}}
          /pets:
            post:
              operationId: addPet
              requestBody:
                required: true
                content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}
              responses:
                '201': {description: created, content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}}
          /missing: {get: {operationId: missing, responses: {'200': {description: ok}}}}
          /slow: {get: {operationId: slow, responses: {'200': {description: ok}}}}
          /image: {get: {operationId: image, responses: {'200': {description: ok, content: {image/png: {}}}}}}
          /drift:
            get:
              operationId: drift
              responses: {'200': {description: ok, content: {application/json: {schema: {type: object, properties: {id: {type: integer}}}}}}}
          /secure: {get: {operationId: secure, responses: {'200': {description: ok}}}}
        components:
          schemas:
            Pet:
              type: object
              required: [name]
              properties:
                id: {type: integer, readOnly: true}
                name: {type: string}
                seen: {type: object}
        """

    /// A backend that echoes what it received, plus an OAuth2 token endpoint.
    final class Backend: Sendable {
        let tokensIssued = Counter()
        let acceptedToken = Counter()

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.get("/api/pets/:petId") { request, context -> Response in
                let id = context.parameters.get("petId", as: Int.self) ?? -1
                let seen: JSONValue = [
                    "query": .string(request.uri.query ?? ""),
                    "trace": .string(request.headers[HTTPField.Name("X-Trace")!] ?? ""),
                    "authorization": .string(request.headers[.authorization] ?? ""),
                    "apiKey": .string(request.headers[HTTPField.Name("X-API-Key")!] ?? ""),
                ]
                return Self.json(["id": .integer(id), "name": "rex", "seen": seen])
            }
            router.post("/api/pets") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                guard case .object(var pet) = try JSONParser.parse(Array(body.readableBytesView)) else { return Response(status: .badRequest) }
                pet["id"] = 1
                pet["seen"] = ["contentType": .string(request.headers[.contentType] ?? "")]
                return Self.json(.object(pet), status: .created)
            }
            router.get("/api/missing") { _, _ in
                Response(status: .notFound, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "no such pet")))
            }
            router.get("/api/slow") { _, _ -> Response in
                try await Task.sleep(for: .seconds(5))
                return Self.json(["late": true])
            }
            router.get("/api/image") { _, _ in
                Response(status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: ByteBuffer(bytes: [0x89, 0x50, 0x4E, 0x47])))
            }
            router.get("/api/drift") { _, _ in Self.json(["id": "not a number"]) }
            router.post("/oauth/token") { [tokensIssued] request, _ -> Response in
                let expected = "Basic " + Data("client:s3cret".utf8).base64EncodedString()
                guard request.headers[.authorization] == expected else { return Response(status: .unauthorized) }
                let body = String(buffer: try await request.body.collect(upTo: 4096))
                guard body.hasPrefix("grant_type=client_credentials") else { return Response(status: .badRequest) }
                let n = tokensIssued.increment()
                return Self.json(["access_token": .string("tok-\(n)"), "token_type": "Bearer", "expires_in": 3600])
            }
            router.get("/api/secure") { [acceptedToken] request, _ -> Response in
                // The token the server accepts is tok-(rotations + 1).
                guard request.headers[.authorization] == "Bearer tok-\(acceptedToken.count + 1)" else { return Response(status: .unauthorized) }
                return Self.json(["ok": true])
            }
            return router
        }

        static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
            Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: value.serialized())))
        }
    }

    /// One service, and one plan and exposition per kind of backend security.
    static func configuration(backendPort: Int) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        try dir.write("spec.yaml", spec)
        let base = "http://127.0.0.1:\(backendPort)"
        var documents = [
            "apiVersion: reshapr.io/v1\nkind: Service\nmetadata: {name: pets}\nspec: {version: '1', type: REST, artifacts: [{type: OPENAPI, path: spec.yaml}]}",
            "apiVersion: reshapr.io/v1\nkind: Secret\nmetadata: {name: creds}\nspec: {data: {token: static-bearer-token, key: k-123, password: pw, client: s3cret}}",
        ]
        let plans: [(String, String, String)] = [
            ("open", "\(base)/api", ""),
            ("bearer", "\(base)/api", "backendSecurity: {type: bearer, secretRef: {name: creds, key: token}}"),
            ("apikey", "\(base)/api", "backendSecurity: {type: apiKey, in: header, name: X-API-Key, secretRef: {name: creds, key: key}}"),
            ("apikeyquery", "\(base)/api", "backendSecurity: {type: apiKey, in: query, name: api_key, secretRef: {name: creds, key: key}}"),
            ("basic", "\(base)/api", "backendSecurity: {type: basic, username: admin, secretRef: {name: creds, key: password}}"),
            ("passthrough", "\(base)/api", "backendSecurity: {type: passthrough}"),
            ("oauth", "\(base)/api", "backendSecurity: {type: oauth2ClientCredentials, tokenUrl: '\(base)/oauth/token', clientId: client, secretRef: {name: creds, key: client}}"),
            ("down", "http://127.0.0.1:1/api", ""),
        ]
        // Generous timeouts everywhere, so that a loaded machine cannot turn a success into a
        // timeout; the one plan that tests timeouts is "impatient".
        documents.append(
            "apiVersion: reshapr.io/v1\nkind: ConfigurationPlan\nmetadata: {name: impatient}\nspec:\n  service: {name: pets, version: '1'}\n  backend: {endpoint: '\(base)/api', timeout: 1s}")
        documents.append("apiVersion: reshapr.io/v1\nkind: Exposition\nmetadata: {name: impatient}\nspec: {plan: impatient, path: /mcp/impatient}")
        for (name, endpoint, security) in plans {
            documents.append(
                "apiVersion: reshapr.io/v1\nkind: ConfigurationPlan\nmetadata: {name: \(name)}\nspec:\n  service: {name: pets, version: '1'}\n  backend: {endpoint: '\(endpoint)', timeout: 10s}\n  \(security)")
            documents.append("apiVersion: reshapr.io/v1\nkind: Exposition\nmetadata: {name: \(name)}\nspec: {plan: \(name), path: /mcp/\(name)}")
        }
        try dir.write("all.yaml", documents.joined(separator: "\n---\n"))
        return dir
    }

    func withGatewayAndBackend(_ body: @Sendable (TestClient, Backend, Gateway) async throws -> Void) async throws {
        let backend = Backend()
        try await withServer(backend.router()) { port in
            let dir = try Self.configuration(backendPort: port)
            defer { dir.remove() }
            try await withRunningGateway(configDirectory: dir.path) { client, gateway in
                #expect(gateway.store.current.issues.isEmpty, "\(gateway.store.current.issues)")
                try await body(client, backend, gateway)
            }
        }
    }

    func session(_ client: TestClient, _ path: String) async throws -> MCPTestClient {
        var mcp = MCPTestClient(client, path: path)
        _ = try await mcp.initialize()
        return mcp
    }

    @Test func argumentsBecomeTheRequestAndJSONBecomesStructuredContent() async throws {
        try await withGatewayAndBackend { client, _, _ in
            let mcp = try await session(client, "/mcp/open")
            let result = try await mcp.callTool("getPet", ["petId": 42, "q": ["a", "b c"], "X-Trace": "t-1"])
            #expect(result["isError"] == false)
            #expect(result["structuredContent"]?["id"] == 42)
            #expect(result["structuredContent"]?["seen"]?["query"] == "q=a&q=b%20c")
            #expect(result["structuredContent"]?["seen"]?["trace"] == "t-1")
            #expect(result["content"]?[0]?["type"] == "text")

            let created = try await mcp.callTool("addPet", ["name": "fido"])
            #expect(created["structuredContent"]?["name"] == "fido")
            #expect(created["structuredContent"]?["seen"]?["contentType"] == "application/json")
        }
    }

    @Test func badArgumentsAreToolErrorsTheModelCanFix() async throws {
        try await withGatewayAndBackend { client, _, _ in
            let mcp = try await session(client, "/mcp/open")
            let wrongType = try await mcp.callTool("getPet", ["petId": "abc"])
            #expect(wrongType["isError"] == true)
            #expect(wrongType["content"]?[0]?["text"]?.stringValue?.contains("petId: expected integer, got string \"abc\"") == true)
            let unknown = try await mcp.callTool("getPet", ["petId": 1, "color": "red"])
            #expect(unknown["content"]?[0]?["text"]?.stringValue?.contains("color: unknown field") == true)
            let injection = try await mcp.callTool("getPet", ["petId": 1, "X-Trace": "a\r\nX-Admin: yes"])
            #expect(injection["isError"] == true)
            #expect(injection["content"]?[0]?["text"]?.stringValue?.contains("header values must not contain line breaks") == true)
        }
    }

    @Test func backendFailuresAreToolErrorsNeverHangs() async throws {
        try await withGatewayAndBackend { client, _, _ in
            let mcp = try await session(client, "/mcp/open")
            let missing = try await mcp.callTool("missing")
            #expect(missing["isError"] == true)
            #expect(missing["content"]?[0]?["text"] == "The backend answered 404 Not Found: no such pet")

            let slow = try await session(client, "/mcp/impatient").callTool("slow")
            #expect(slow["isError"] == true)
            #expect(slow["content"]?[0]?["text"]?.stringValue?.contains("did not answer within 1.0 seconds") == true)

            let drift = try await mcp.callTool("drift")
            #expect(drift["isError"] == true)
            #expect(drift["content"]?[0]?["text"]?.stringValue?.contains("does not match the documented response schema") == true)

            let down = try await session(client, "/mcp/down")
            let unreachable = try await down.callTool("getPet", ["petId": 1])
            #expect(unreachable["isError"] == true)
            #expect(unreachable["content"]?[0]?["text"]?.stringValue?.contains("could not be reached") == true)
        }
    }

    @Test func cancelledCallsAreAnsweredAsCancelled() async throws {
        try await withGatewayAndBackend { client, _, gateway in
            let mcp = try await session(client, "/mcp/open")
            async let slow = mcp.post(["jsonrpc": "2.0", "id": 41, "method": "tools/call", "params": ["name": "slow", "arguments": [:]]])
            for _ in 0..<500 where gateway.sessions.callsInFlight == 0 { try await Task.sleep(for: .milliseconds(10)) }
            // The cancellation travels on another connection, as it would from a real client.
            let other = TestClient(host: "127.0.0.1", port: try await client.getChannel().remoteAddress?.port ?? 0)
            other.connect()
            var canceller = MCPTestClient(other, path: "/mcp/open")
            canceller.sessionID = mcp.sessionID
            let cancel = try await canceller.post(["jsonrpc": "2.0", "method": "notifications/cancelled", "params": ["requestId": 41, "reason": "user"]])
            #expect(cancel.status == .accepted)
            try await other.shutdown()
            let answer = try json(try await slow)
            #expect(answer["id"] == 41)
            #expect(answer["error"]?["code"] == -32800)
        }
    }

    @Test func imagesBecomeImageContent() async throws {
        try await withGatewayAndBackend { client, _, _ in
            let mcp = try await session(client, "/mcp/open")
            let image = try await mcp.callTool("image")
            #expect(image["content"]?[0] == ["type": "image", "mimeType": "image/png", "data": .string(Data([0x89, 0x50, 0x4E, 0x47]).base64EncodedString())])
        }
    }

    @Test func backendSecurityIsApplied() async throws {
        try await withGatewayAndBackend { client, _, _ in
            let bearer = try await session(client, "/mcp/bearer").callTool("getPet", ["petId": 1])
            #expect(bearer["structuredContent"]?["seen"]?["authorization"] == "Bearer static-bearer-token")
            let apiKey = try await session(client, "/mcp/apikey").callTool("getPet", ["petId": 1])
            #expect(apiKey["structuredContent"]?["seen"]?["apiKey"] == "k-123")
            let query = try await session(client, "/mcp/apikeyquery").callTool("getPet", ["petId": 1, "q": ["x"]])
            #expect(query["structuredContent"]?["seen"]?["query"] == "q=x&api_key=k-123")
            let basic = try await session(client, "/mcp/basic").callTool("getPet", ["petId": 1])
            #expect(basic["structuredContent"]?["seen"]?["authorization"] == .string("Basic " + Data("admin:pw".utf8).base64EncodedString()))
            let passthrough = try await session(client, "/mcp/passthrough").callTool("getPet", ["petId": 1], headers: [.authorization: "Bearer caller-token"])
            #expect(passthrough["structuredContent"]?["seen"]?["authorization"] == "Bearer caller-token")
            let open = try await session(client, "/mcp/open").callTool("getPet", ["petId": 1], headers: [.authorization: "Bearer caller-token"])
            #expect(open["structuredContent"]?["seen"]?["authorization"] == "", "the caller's credentials are not forwarded unless the plan says so")
        }
    }

    @Test func oauth2TokensAreCachedAndRefreshedWhenRejected() async throws {
        try await withGatewayAndBackend { client, backend, _ in
            let mcp = try await session(client, "/mcp/oauth")
            #expect(try await mcp.callTool("secure")["isError"] == false)
            #expect(try await mcp.callTool("secure")["isError"] == false)
            #expect(backend.tokensIssued.count == 1)
            backend.acceptedToken.increment()
            #expect(try await mcp.callTool("secure")["isError"] == false)
            #expect(backend.tokensIssued.count == 2)
        }
    }

    @Test func statusShowsToolsButNoSecrets() async throws {
        try await withGatewayAndBackend { client, _, _ in
            let status = String(buffer: try await client.get("/status").body ?? ByteBuffer())
            #expect(status.contains("\"tools\": 7"))
            #expect(status.contains("/mcp/impatient"))
            for secret in ["static-bearer-token", "k-123", "s3cret", "\"pw\""] { #expect(!status.contains(secret)) }
        }
    }
}
