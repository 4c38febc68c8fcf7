import Foundation
import HummingbirdTesting
import NIOCore
import ReshaprConfig
import ReshaprJSON
import TestSupport
import Testing

@testable import ReshaprGateway

/// Secret values and `backend.headers` holding `${env:…}` and `${file:…}` references, resolved
/// on the gateway at each call, against a backend that says what it received.
@Suite struct SecretReferenceTests {
    /// Names of this test's own environment variables (the process is shared with other suites).
    static let token = "PETS_TEST_TOKEN_\(UInt32.random(in: 0...UInt32.max))"
    static let trace = "PETS_TEST_TRACE_\(UInt32.random(in: 0...UInt32.max))"
    static let unset = "PETS_TEST_UNSET_\(UInt32.random(in: 0...UInt32.max))"

    static func configuration(backendPort: Int, secrets: String) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        _ = try dir.write("spec.yaml", ToolCallTests.spec)
        _ = try dir.write("mounted/key.txt", "first-key\n")
        let base = "http://127.0.0.1:\(backendPort)/api"
        let plan = { (name: String, backend: String, security: String) in
            """
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: \(name)}
            spec:
              service: {name: pets, version: '1'}
              backend: \(backend)
              \(security)
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: \(name)}
            spec: {plan: \(name), path: /mcp/\(name)}
            """
        }
        let documents = [
            "apiVersion: reshapr.io/v1\nkind: Service\nmetadata: {name: pets}\nspec: {version: '1', type: REST, artifacts: [{type: OPENAPI, path: spec.yaml}]}",
            """
            apiVersion: reshapr.io/v1
            kind: Secret
            metadata: {name: refs}
            spec:
              data:
                token: 'tok-${env:\(token)}'
                key: '${file:\(dir.path)/mounted/key.txt}'
                missing: '${env:\(unset)}'
                outside: '${file:/etc/hostname}'
            \(secrets)
            """,
            plan("env", "{endpoint: '\(base)', headers: {X-Trace: 'trace-${env:\(trace)}'}}", "backendSecurity: {type: bearer, secretRef: {name: refs, key: token}}"),
            plan("file", "{endpoint: '\(base)', headers: {X-Trace: 'literal $${env:\(trace)}'}}", "backendSecurity: {type: apiKey, in: header, name: X-API-Key, secretRef: {name: refs, key: key}}"),
            plan("missing", "{endpoint: '\(base)'}", "backendSecurity: {type: bearer, secretRef: {name: refs, key: missing}}"),
            plan("outside", "{endpoint: '\(base)'}", "backendSecurity: {type: bearer, secretRef: {name: refs, key: outside}}"),
        ]
        _ = try dir.write("all.yaml", documents.joined(separator: "\n---\n"))
        return dir
    }

    @Test func referencesAreResolvedAtEachCallAndNeverSentEmpty() async throws {
        setenv(Self.token, "one", 1)
        setenv(Self.trace, "t1", 1)
        let backend = ToolCallTests.Backend()
        try await withServer(backend.router()) { port in
            let dir = try Self.configuration(backendPort: port, secrets: "")
            defer { dir.remove() }
            let loader = LoaderOptions(secretReferences: SecretReferencePolicy(fileRoots: [dir.path + "/mounted"]))
            try await withRunningGateway(configDirectory: dir.path, loader: loader) { client, gateway in
                #expect(gateway.store.current.configuration.errors.isEmpty, "\(gateway.store.current.issues)")
                // Unresolvable at load: a warning naming the variable or the file, nothing more.
                let warnings = gateway.store.current.issues.map(\.description).joined(separator: "\n")
                #expect(warnings.contains("environment variable \(Self.unset) is not set or empty"), "\(warnings)")
                #expect(warnings.contains("${file:/etc/hostname}: files are read only under \(dir.path)/mounted"), "\(warnings)")

                var env = MCPTestClient(client, path: "/mcp/env")
                _ = try await env.initialize()
                let first = try await env.callTool("getPet", ["petId": 1])
                #expect(first["structuredContent"]?["seen"]?["authorization"] == "Bearer tok-one", "\(first)")
                #expect(first["structuredContent"]?["seen"]?["trace"] == "trace-t1")
                // A rotation needs no reload: the next call reads the new value.
                setenv(Self.token, "two", 1)
                let second = try await env.callTool("getPet", ["petId": 1])
                #expect(second["structuredContent"]?["seen"]?["authorization"] == "Bearer tok-two")

                var file = MCPTestClient(client, path: "/mcp/file")
                _ = try await file.initialize()
                #expect(try await file.callTool("getPet", ["petId": 1])["structuredContent"]?["seen"]?["apiKey"] == "first-key")
                _ = try dir.write("mounted/key.txt", "second-key\n")
                let rotated = try await file.callTool("getPet", ["petId": 1])
                #expect(rotated["structuredContent"]?["seen"]?["apiKey"] == "second-key")
                #expect(rotated["structuredContent"]?["seen"]?["trace"] == .string("literal ${env:\(Self.trace)}"), "$${ is a literal ${")

                // Never an empty credential: the call fails, naming what is missing.
                for (path, reason) in [("/mcp/missing", "environment variable \(Self.unset) is not set or empty"), ("/mcp/outside", "files are read only under")] {
                    var mcp = MCPTestClient(client, path: path)
                    _ = try await mcp.initialize()
                    let failed = try await mcp.callTool("getPet", ["petId": 1])
                    #expect(failed["isError"] == true)
                    #expect(failed["content"]?[0]?["text"]?.stringValue?.contains(reason) == true, "\(failed)")
                }
                let status = String(buffer: try await client.get("/status").body ?? ByteBuffer())
                #expect(!status.contains("tok-two") && !status.contains("second-key"))
            }
        }
    }

    @Test(arguments: [
        ("bad: '${env:1X}'", "${env:1X}: a variable name is letters, digits and _"),
        ("bad: '${file:relative/key}'", "${file:relative/key}: the path must be absolute"),
        ("bad: '${file:/run/secrets/../x}'", "the path must be absolute, without .."),
        ("bad: 'Bearer ${env:OPEN'", "${env: has no closing }"),
    ])
    func aMalformedReferenceIsAnError(data: String, expected: String) throws {
        let dir = try Self.configuration(backendPort: 9, secrets: "    " + data)
        defer { dir.remove() }
        let configuration = try ConfigLoader(root: dir.path).load()
        #expect(configuration.errors.contains { $0.description.contains("spec.data.bad") && $0.description.contains(expected) }, "\(configuration.issues)")
    }

    @Test func theGatewaysOwnVariablesAreNeverRead() throws {
        let value = try SecretValue(template: "${env:RESHAPR_CTRL_TOKEN}", policy: SecretReferencePolicy())
        #expect(throws: SecretReferenceError.self) { try value.resolve() }
        #expect(try SecretValue(template: "plain ${other} $${env:X}", policy: SecretReferencePolicy()).resolve() == "plain ${other} ${env:X}")
        // A user's own answer is never a template.
        #expect(try SecretValue("${env:PATH}").resolve() == "${env:PATH}")
    }
}
