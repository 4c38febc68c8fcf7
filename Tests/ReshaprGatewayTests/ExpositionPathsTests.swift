import Foundation
import HummingbirdTesting
import NIOCore
import ReshaprConfig
import ReshaprJSON
import TestSupport
import Testing

@testable import ReshaprGateway

/// An exposition without a written path answers at `/mcp/{org}/{service}/{version}`,
/// `/mcp/{org}/{name}` and `/mcp/{id}`; one session whichever path the client uses.
@Suite struct ExpositionPathsTests {
    static func directory(extra: String = "") throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        _ = try dir.write("petstore/openapi.yaml", try String(contentsOfFile: Repository.samples + "/petstore/openapi.yaml", encoding: .utf8))
        _ = try dir.write(
            "petstore/all.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: petstore, org: acme}
            spec: {version: 1.0.0, type: REST, artifacts: [{type: OPENAPI, path: openapi.yaml}]}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: mock, org: acme}
            spec: {service: {name: petstore, version: 1.0.0}, backend: {mock: true}, tools: {include: [getPetById]}}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: pets, org: acme, id: 0SCYVK7C3CQQC}
            spec: {plan: mock}
            \(extra)
            """)
        return dir
    }

    @Test func everyPathReachesTheSameEndpointAndSession() async throws {
        let dir = try Self.directory()
        defer { dir.remove() }
        try await withRunningGateway(configDirectory: dir.path) { client, gateway in
            #expect(gateway.store.current.issues.isEmpty, "\(gateway.store.current.issues)")
            var canonical = MCPTestClient(client, path: "/mcp/acme/petstore/1.0.0")
            _ = try await canonical.initialize()
            for path in ["/mcp/acme/pets", "/mcp/0SCYVK7C3CQQC", "/mcp/acme/pets/"] {
                var alias = MCPTestClient(client, path: path)
                alias.sessionID = canonical.sessionID
                alias.protocolVersion = canonical.protocolVersion
                let tools = try await alias.request("tools/list")["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
                #expect(tools == ["getPetById"], "\(path)")
            }
            let status = try JSONParser.parse(String(buffer: try await client.get("/status").body ?? ByteBuffer()))
            #expect(status["endpoints"]?[0]?["paths"] == ["/mcp/acme/petstore/1.0.0", "/mcp/acme/pets", "/mcp/0SCYVK7C3CQQC"])
            #expect(status["endpoints"]?[0]?["urls"]?.arrayValue?.count == 3)
            let table = SummaryTable.render(gateway.store.current.configuration, routing: gateway.store.current.routing)
            #expect(table.contains("/mcp/acme/petstore/1.0.0  /mcp/acme/pets /mcp/0SCYVK7C3CQQC"), "\(table)")
            #expect(try await client.get("/mcp/acme/nothing").status == .notFound)
        }
    }

    @Test func aWrittenPathWinsOverAnAlias() async throws {
        let dir = try Self.directory(
            extra: """
                ---
                apiVersion: reshapr.io/v1
                kind: Exposition
                metadata: {name: other, org: acme}
                spec: {plan: mock, path: /mcp/acme/pets}
                """)
        defer { dir.remove() }
        let configuration = try ConfigLoader(root: dir.path).load()
        #expect(configuration.errors.isEmpty, "\(configuration.issues)")
        let pets = try #require(configuration.expositions.first { $0.name.name == "pets" })
        #expect(pets.aliases == ["/mcp/0SCYVK7C3CQQC"])
        let other = try #require(configuration.expositions.first { $0.name.name == "other" })
        #expect(other.path == "/mcp/acme/pets")
        #expect(other.aliases.isEmpty, "a written path is the only one")
        #expect(configuration.issues.contains { $0.description.contains("exposition acme/pets is not served at /mcp/acme/pets too: another endpoint's path is /mcp/acme/pets") },
            "\(configuration.issues)")
    }
}
