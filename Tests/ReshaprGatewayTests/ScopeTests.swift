import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ReshaprJSON
import TestSupport
import Testing

@testable import ReshaprGateway

/// OAuth2 scopes on a JWT-protected endpoint: `scopes` for every request, `writeScopes` for
/// tools that are not read-only, `requiredScopes` per tool; the MCP authorization spec's
/// step-up challenge; tools/list filtered by scope; RFC 8707 resource indicators.
@Suite struct ScopeTests {
    static let audience = "https://gateway.example.test/mcp/scoped"

    static func configuration(_ dir: TemporaryDirectory, jwks: String) throws {
        try copySamples(to: dir)
        _ = try dir.write("keys/jwks.json", jwks)
        _ = try dir.write(
            "scoped.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: scoped}
            spec:
              service: {name: petstore, version: 1.0.0}
              backend: {mock: true}
              tools:
                include: [getPetById, findPetsByStatus, addPet, deletePet]
                overrides:
                  deletePet: {requiredScopes: [pets:admin]}
              clientSecurity:
                type: jwt
                issuer: https://idp.example.test
                audiences: [\(audience)]
                jwksFile: keys/jwks.json
                scopes: [pets:read]
                writeScopes: [pets:write]
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: scoped}
            spec: {plan: scoped, path: /mcp/scoped}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: anyaudience}
            spec:
              service: {name: petstore, version: 1.0.0}
              backend: {mock: true}
              clientSecurity: {type: jwt, issuer: https://idp.example.test, audiences: [\(audience)], jwksFile: keys/jwks.json, disableAudienceValidation: true}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: anyaudience}
            spec: {plan: anyaudience, path: /mcp/anyaudience}
            """)
    }

    func session(_ client: TestClient, _ path: String, token: String) async throws -> (TestClient.Response, MCPTestClient) {
        let opened = try await OperabilityTests.initialize(client, path: path, headers: [.authorization: "Bearer " + token])
        var mcp = MCPTestClient(client, path: path)
        mcp.sessionID = opened.headers[.mcpSessionID]
        mcp.protocolVersion = "2025-11-25"
        return (opened, mcp)
    }

    func post(_ mcp: MCPTestClient, token: String, _ method: String, _ params: JSONValue) async throws -> TestClient.Response {
        try await mcp.post(["jsonrpc": "2.0", "id": 5, "method": .string(method), "params": params], headers: [.authorization: "Bearer " + token])
    }

    @Test func scopesGateRequestsToolsAndTheirListing() async throws {
        let mint = try await TokenMint()
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.configuration(dir, jwks: mint.jwks)
        try await withRunningGateway(configDirectory: dir.path) { client, gateway in
            let warnings = gateway.store.current.issues.map(\.description)
            #expect(warnings.contains { $0.contains("disableAudienceValidation") && $0.contains("tokens are accepted whatever audience") }, "\(warnings)")
            #expect(gateway.store.current.configuration.errors.isEmpty, "\(warnings)")

            // Without the endpoint's scope: 403 and the step-up challenge.
            let none = try await mint.token(audience: Self.audience)
            let refused = try await OperabilityTests.initialize(client, path: "/mcp/scoped", headers: [.authorization: "Bearer " + none])
            #expect(refused.status == .forbidden)
            #expect(refused.headers[.wwwAuthenticate]?.hasPrefix(#"Bearer error="insufficient_scope", scope="pets:read", resource_metadata=""#) == true, "\(refused.headers)")

            // Reading: the read-only tools alone are listed; a write is refused with the scopes it needs.
            let reader = try await mint.token(audience: Self.audience, scope: "pets:read")
            let (opened, mcp) = try await session(client, "/mcp/scoped", token: reader)
            #expect(opened.status == .ok)
            let listed = try JSONParser.parse(String(buffer: try await post(mcp, token: reader, "tools/list", [:]).body ?? ByteBuffer()))
            #expect(Set(listed["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []) == ["getPetById", "findPetsByStatus"], "\(listed)")
            let write = try await post(mcp, token: reader, "tools/call", ["name": "addPet", "arguments": ["name": "rex", "photoUrls": []]])
            #expect(write.status == .forbidden)
            #expect(write.headers[.wwwAuthenticate]?.hasPrefix(#"Bearer error="insufficient_scope", scope="pets:read pets:write""#) == true, "\(write.headers)")
            let read = try await post(mcp, token: reader, "tools/call", ["name": "getPetById", "arguments": ["petId": 1]])
            #expect(read.status == .ok)

            // Writing: the write tools too, but not the one that needs its own scope.
            let writer = try await mint.token(audience: Self.audience, scope: "pets:read pets:write")
            let (_, writing) = try await session(client, "/mcp/scoped", token: writer)
            let writerList = try JSONParser.parse(String(buffer: try await post(writing, token: writer, "tools/list", [:]).body ?? ByteBuffer()))
            #expect(Set(writerList["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []) == ["getPetById", "findPetsByStatus", "addPet"])
            #expect(try await post(writing, token: writer, "tools/call", ["name": "addPet", "arguments": ["name": "rex", "photoUrls": []]]).status == .ok)
            let admin = try await post(writing, token: writer, "tools/call", ["name": "deletePet", "arguments": ["petId": 1]])
            #expect(admin.status == .forbidden)
            #expect(admin.headers[.wwwAuthenticate]?.contains(#"scope="pets:read pets:admin""#) == true)

            // RFC 8707: a token for another resource is refused; one for this endpoint's URL is taken.
            let elsewhere = try await mint.token(audience: Self.audience, scope: "pets:read", resource: ["https://other.example.test/mcp"])
            let wrongResource = try await OperabilityTests.initialize(client, path: "/mcp/scoped", headers: [.authorization: "Bearer " + elsewhere])
            #expect(wrongResource.status == .unauthorized)
            #expect(wrongResource.headers[.wwwAuthenticate]?.contains("error=\"invalid_token\"") == true)
            // The endpoint's URL, as its protected resource metadata gives it to clients.
            let resource = try JSONParser.parse(String(buffer: try await client.get("/.well-known/oauth-protected-resource/mcp/scoped").body ?? ByteBuffer()))["resource"]
            let here = try await mint.token(audience: Self.audience, scope: "pets:read", resource: [resource?.stringValue ?? ""])
            #expect(try await OperabilityTests.initialize(client, path: "/mcp/scoped", headers: [.authorization: "Bearer " + here]).status == .ok)

            // Audience validation turned off: a token for another audience is taken there.
            let otherAudience = try await mint.token(audience: "https://elsewhere.example.test/mcp")
            #expect(try await OperabilityTests.initialize(client, path: "/mcp/anyaudience", headers: [.authorization: "Bearer " + otherAudience]).status == .ok)
            #expect(try await OperabilityTests.initialize(client, path: "/mcp/scoped", headers: [.authorization: "Bearer " + otherAudience]).status == .unauthorized)

            let metadata = try JSONParser.parse(String(buffer: try await client.get("/.well-known/oauth-protected-resource/mcp/scoped").body ?? ByteBuffer()))
            #expect(metadata["scopes_supported"] == ["pets:admin", "pets:read", "pets:write"])
        }
    }
}
