import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ReshaprJSON
import ReshaprMCP
import TestSupport
import Testing

/// A directory full of secrets and of every kind of error around them, served by the real
/// binary at debug level: no secret value may appear on `/status`, in the logs, or in what
/// `validate` prints.
@Suite struct SecretLeakTests {
    let binary = Repository.builtProduct("reshapr-gateway")

    /// Every value that must never be shown.
    static let secrets = [
        "SECRET-TOKEN-1111", "SECRET-APIKEY-2222", "SECRET-CLIENT-3333", "SECRET-PASS-4444", "55556666", "SECRET-URL-5555", "SECRET-FILE-7777",
        "SECRET-HEADER-8888", "99990000", "SECRET-PATTERN-1234",
    ]

    static func directory(closedPort: Int) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        try dir.write(
            "openapi.yaml",
            """
            openapi: 3.0.3
            info: {title: Pets, version: '1'}
            paths:
              /pets/{id}:
                get:
                  operationId: getPet
                  parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
                  responses: {'200': {description: ok}}
            """)
        try dir.write("secret-file.txt", "SECRET-FILE-7777\n")
        try dir.write(
            "secrets.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Secret
            metadata: {name: good}
            spec:
              data: {token: SECRET-TOKEN-1111, key: SECRET-APIKEY-2222, client: SECRET-CLIENT-3333, password: SECRET-PASS-4444}
              files: {file: secret-file.txt}
            ---
            apiVersion: reshapr.io/v1
            kind: Secret
            metadata: {name: wrong-type}
            spec: {data: {number: 55556666}}
            ---
            apiVersion: reshapr.io/v1
            kind: Secret
            metadata: {name: Bad_Name}
            spec: {data: {k: SECRET-PATTERN-1234}}
            ---
            apiVersion: reshapr.io/v1
            kind: Secret
            metadata: {name: empty}
            spec: {data: {blank: ''}}
            """)
        func plan(_ name: String, _ body: String) -> String {
            """

            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: \(name)}
            spec:
              service: {name: pets, version: '1'}
            \(body)
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: \(name)}
            spec: {plan: \(name), path: /mcp/\(name)}
            """
        }
        let backend = "http://127.0.0.1:\(closedPort)/api"
        try dir.write(
            "mcp.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: pets}
            spec: {version: '1', type: REST, artifacts: [{type: OPENAPI, path: openapi.yaml}]}
            """
                + plan("bearer", "  backend: {endpoint: '\(backend)', headers: {X-Token: SECRET-HEADER-8888}}\n  backendSecurity: {type: bearer, secretRef: {name: good, key: token}}\n  clientSecurity: {type: apiKey, secretRef: {name: good, key: key}}")
                + plan("basic", "  backend: {endpoint: '\(backend)'}\n  backendSecurity: {type: basic, username: u, secretRef: {name: good, key: password}}")
                + plan("oauth", "  backend: {endpoint: '\(backend)'}\n  backendSecurity: {type: oauth2ClientCredentials, tokenUrl: '\(backend)/token', clientId: c, secretRef: {name: good, key: client}}")
                + plan("header-type", "  backend: {endpoint: '\(backend)', headers: {Authorization: 99990000}}")
                + plan("userinfo", "  backend: {endpoint: 'http://admin:SECRET-URL-5555@127.0.0.1:\(closedPort)/api'}")
                + plan("missing-key", "  backend: {endpoint: '\(backend)'}\n  backendSecurity: {type: bearer, secretRef: {name: good, key: nope}}")
                + plan("bad-secret", "  backend: {endpoint: '\(backend)'}\n  backendSecurity: {type: bearer, secretRef: {name: wrong-type, key: number}}")
                + plan("empty-secret", "  backend: {endpoint: '\(backend)'}\n  backendSecurity: {type: bearer, secretRef: {name: empty, key: blank}}"))
        return dir
    }

    func assertNoSecret(in text: String, _ source: String) {
        for secret in Self.secrets {
            #expect(!text.contains(secret), "\(secret) appears in \(source)")
        }
    }

    @Test func noSecretValueIsShownAnywhere() async throws {
        let closed = try HeldPort()
        defer { closed.close() }
        let dir = try Self.directory(closedPort: closed.port)
        defer { dir.remove() }

        let text = try await ChildProcess.run(binary, ["validate", dir.path])
        #expect(text.status == 1)
        #expect(text.stderr.contains("spec.data.number: expected string, got a number (value not shown)"))
        #expect(text.stderr.contains("spec.data.blank: a secret value must not be empty"))
        #expect(text.stderr.contains("spec.backend.endpoint: must not carry credentials"))
        assertNoSecret(in: text.stdout + text.stderr, "validate")
        let json = try await ChildProcess.run(binary, ["validate", "--format", "json", dir.path])
        assertNoSecret(in: json.stdout + json.stderr, "validate --format json")

        let gateway = try ChildProcess(binary, ["--host", "127.0.0.1", "--port", "0", "--log-level", "trace", "--config-dir", dir.path])
        defer { gateway.terminate() }
        let line = try await gateway.waitForStderr(containing: "[ReshaprGateway] listening")
        let port = try #require(line.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) })
        let client = TestClient(host: "127.0.0.1", port: port)
        client.connect()
        let call: JSONValue = ["jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": ["name": "getPet", "arguments": ["id": 1]]]
        for (path, key) in [("/mcp/bearer", "wrong"), ("/mcp/bearer", "SECRET-APIKEY-2222"), ("/mcp/basic", ""), ("/mcp/oauth", "")] {
            var headers: HTTPFields = [.contentType: "application/json", .accept: "application/json, text/event-stream"]
            if !key.isEmpty { headers[HTTPField.Name("X-API-Key")!] = key }
            let initialized = try await client.post(path, headers: headers, body: ByteBuffer(string: MCPTestClient.initializeMessage("2025-06-18").serialized()))
            assertNoSecret(in: String(buffer: initialized.body ?? ByteBuffer()), "the initialize answer of \(path)")
            if let session = initialized.headers[.mcpSessionID] { headers[.mcpSessionID] = session }
            let response = try await client.post(path, headers: headers, body: ByteBuffer(string: call.serialized()))
            assertNoSecret(in: String(buffer: response.body ?? ByteBuffer()), "the answer of \(path)")
        }
        let status = try await client.get("/status")
        let statusText = String(buffer: status.body ?? ByteBuffer())
        #expect(statusText.contains("spec.backend.endpoint"))
        assertNoSecret(in: statusText, "/status")
        let metrics = try await client.get("/metrics")
        assertNoSecret(in: String(buffer: metrics.body ?? ByteBuffer()), "/metrics")
        try await client.shutdown()
        gateway.terminate()
        _ = try await gateway.waitForExit(timeout: .seconds(20))
        #expect(gateway.stderr.contains("refused request"))
        assertNoSecret(in: gateway.stdout + gateway.stderr, "the logs")
    }
}
