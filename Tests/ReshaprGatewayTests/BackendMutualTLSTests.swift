import Foundation
import HummingbirdTesting
import ReshaprConfig
import ReshaprJSON
import TestSupport
import Testing

@testable import ReshaprGateway

/// `backend.tls` with a client certificate and key from a Secret, and the CA bundle from a
/// Secret: against HTTPS and gRPC backends that refuse a client without a certificate.
@Suite(.enabled(if: Python.canImport("ssl") || Python.required))
struct BackendMutualTLSTests {
    /// Plans `mtls` (the client certificate) and `nocert` (the CA alone) in front of `endpoint`.
    static func configuration(_ dir: TemporaryDirectory, pki: TestPKI, service: String, endpoint: String) throws {
        let documents = [
            service,
            "apiVersion: reshapr.io/v1\nkind: Secret\nmetadata: {name: tls}\nspec: {files: {ca: pki-ca.pem, cert: pki-client.pem, key: pki-client.key}}",
        ] + [("mtls", "clientCertificateSecretRef: {name: tls, key: cert}, clientKeySecretRef: {name: tls, key: key}, "), ("nocert", "")].flatMap { name, identity in
            [
                """
                apiVersion: reshapr.io/v1
                kind: ConfigurationPlan
                metadata: {name: \(name)}
                spec:
                  service: {name: svc, version: '1'}
                  backend: {endpoint: '\(endpoint)', timeout: 10s, tls: {\(identity)caSecretRef: {name: tls, key: ca}}}
                """,
                "apiVersion: reshapr.io/v1\nkind: Exposition\nmetadata: {name: \(name)}\nspec: {plan: \(name), path: /mcp/\(name)}",
            ]
        }
        _ = try dir.write("all.yaml", documents.joined(separator: "\n---\n"))
    }

    @Test func anHTTPSBackendGetsTheClientCertificate() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pki = try await TestPKI(in: dir)
        let (server, port) = try await Python.startServer("mtls_server.py", [pki.serverCertificate, pki.serverKey, pki.caCertificate])
        defer { server.terminate() }
        _ = try dir.write("spec.yaml", ToolCallTests.spec)
        try Self.configuration(
            dir, pki: pki, service: "apiVersion: reshapr.io/v1\nkind: Service\nmetadata: {name: svc}\nspec: {version: '1', type: REST, artifacts: [{type: OPENAPI, path: spec.yaml}]}",
            endpoint: "https://127.0.0.1:\(port)/api")
        try await withRunningGateway(configDirectory: dir.path) { client, gateway in
            #expect(gateway.store.current.issues.isEmpty, "\(gateway.store.current.issues)")
            var mtls = MCPTestClient(client, path: "/mcp/mtls")
            _ = try await mtls.initialize()
            let answer = try await mtls.callTool("getPet", ["petId": 1])
            #expect(answer["isError"] == false, "\(answer)")
            #expect(answer["structuredContent"]?["seen"]?["client"] == "gateway")
            var nocert = MCPTestClient(client, path: "/mcp/nocert")
            _ = try await nocert.initialize()
            let refused = try await nocert.callTool("getPet", ["petId": 1])
            #expect(refused["isError"] == true, "a backend that requires a client certificate refuses a gateway without one: \(refused)")
        }
    }

    @Test(.enabled(if: Python.canImport("grpc_tools") || Python.required))
    func aGRPCBackendGetsTheClientCertificate() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pki = try await TestPKI(in: dir)
        let (server, port) = try await Python.startServer("grpc_server.py", ["--tls", pki.serverCertificate, pki.serverKey, pki.caCertificate])
        defer { server.terminate() }
        let descriptorLine = try await server.waitForStdout(containing: "descriptor ")
        let descriptor = String(descriptorLine.dropFirst("descriptor ".count)).trimmingCharacters(in: .whitespacesAndNewlines)
        try FileManager.default.copyItem(atPath: descriptor, toPath: dir.path + "/petstore.pb")
        try Self.configuration(
            dir, pki: pki,
            service: "apiVersion: reshapr.io/v1\nkind: Service\nmetadata: {name: svc}\nspec: {version: '1', type: GRPC, artifacts: [{type: PROTOBUF_DESCRIPTOR_SET, path: petstore.pb}]}",
            endpoint: "https://127.0.0.1:\(port)")
        try await withRunningGateway(configDirectory: dir.path) { client, gateway in
            #expect(gateway.store.current.issues.isEmpty, "\(gateway.store.current.issues)")
            var mtls = MCPTestClient(client, path: "/mcp/mtls")
            _ = try await mtls.initialize()
            let answer = try await mtls.callTool("GetPet", ["id": 1])
            #expect(answer["isError"] == false, "\(answer)")
            #expect(answer["structuredContent"]?["name"] == "Rex")
            var nocert = MCPTestClient(client, path: "/mcp/nocert")
            _ = try await nocert.initialize()
            #expect(try await nocert.callTool("GetPet", ["id": 1])["isError"] == true)
        }
    }
}
