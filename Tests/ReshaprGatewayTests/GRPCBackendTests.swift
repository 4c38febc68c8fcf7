import Foundation
import HummingbirdTesting
import NIOCore
import ReshaprJSON
import TestSupport
import Testing

@testable import ReshaprGateway

/// gRPC services through the gateway to a real gRPC server (Python grpcio,
/// Tests/Interop/grpc_server.py) on 127.0.0.1, described by a protoc descriptor set.
@Suite(.enabled(if: Python.canImport("grpc_tools") || Python.required, "grpcio-tools is not installed (pip install grpcio grpcio-tools)"))
struct GRPCBackendTests {
    @Test func unaryMethodsAreToolsTranscodedBothWays() async throws {
        let (server, port) = try await Python.startServer("grpc_server.py", ["--token", "grpc-token"])
        defer { server.terminate() }
        let descriptorLine = try await server.waitForStdout(containing: "descriptor ")
        let descriptor = String(descriptorLine.dropFirst("descriptor ".count)).trimmingCharacters(in: .whitespacesAndNewlines)

        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.mkdir("petstore")
        try FileManager.default.copyItem(atPath: descriptor, toPath: dir.path + "/petstore/petstore.pb")
        try dir.write(
            "petstore/mcp.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: petstore-grpc}
            spec: {version: v1, type: GRPC, artifacts: [{type: PROTOBUF_DESCRIPTOR_SET, path: petstore.pb}]}
            ---
            apiVersion: reshapr.io/v1
            kind: Secret
            metadata: {name: grpc}
            spec: {data: {token: grpc-token}}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: grpc}
            spec:
              service: {name: petstore-grpc, version: v1}
              backend: {endpoint: 'http://127.0.0.1:\(port)', timeout: 10s}
              backendSecurity: {type: bearer, secretRef: {name: grpc, key: token}}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: grpc}
            spec: {plan: grpc, path: /mcp/grpc}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: grpc-filtered}
            spec:
              service: {name: petstore-grpc, version: v1}
              backend: {endpoint: 'http://127.0.0.1:\(port)', timeout: 10s}
              backendSecurity: {type: bearer, secretRef: {name: grpc, key: token}}
              tools:
                overrides:
                  GetPet:
                    output:
                      jsonRetain: [/name, /owner/name]
                      jsonPatches: [{op: move, from: /owner/name, path: /ownerName}, {op: remove, path: /owner}]
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: grpc-filtered}
            spec: {plan: grpc-filtered, path: /mcp/grpc-filtered}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: grpc-anonymous}
            spec:
              service: {name: petstore-grpc, version: v1}
              backend: {endpoint: 'http://127.0.0.1:\(port)', timeout: 10s}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: grpc-anonymous}
            spec: {plan: grpc-anonymous, path: /mcp/grpc-anonymous}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: grpc-mock}
            spec: {service: {name: petstore-grpc, version: v1}, backend: {mock: true}}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: grpc-mock}
            spec: {plan: grpc-mock, path: /mcp/grpc-mock}
            """)
        try await withRunningGateway(configDirectory: dir.path) { client, gateway in
            #expect(gateway.store.current.issues.isEmpty, "\(gateway.store.current.issues)")
            let skipped = gateway.store.current.routing.endpoints["/mcp/grpc"]?.catalog.skipped ?? []
            #expect(skipped.map(\.description) == ["petstore.v1.PetStore/ListPets: server-streaming methods are not exposed as tools; only unary methods are"])

            var mcp = MCPTestClient(client, path: "/mcp/grpc")
            _ = try await mcp.initialize()
            let tools = try await mcp.request("tools/list")["result"]?["tools"]?.arrayValue ?? []
            // Listed by name, so that every replica lists them in the same order.
            #expect(tools.compactMap { $0["name"]?.stringValue } == ["AddPet", "GetPet"])
            let getPet = try #require(tools.first { $0["name"] == "GetPet" })
            #expect(getPet["description"] == "Finds a pet by id.")
            #expect(getPet["inputSchema"]?["properties"]?["id"]?["type"] == ["string", "integer"])

            let rex = try await mcp.callTool("GetPet", ["id": "1"])
            #expect(rex["isError"] == false, "\(rex)")
            let pet = try #require(rex["structuredContent"])
            #expect(pet["id"] == "1")
            #expect(pet["name"] == "Rex")
            #expect(pet["status"] == "AVAILABLE")
            #expect(pet["tags"] == ["dog"])
            #expect(pet["labels"] == ["color": "brown"])
            #expect(pet["born"] == "2020-02-29T10:00:00Z")
            #expect(pet["nickname"] == "rexy")
            #expect(pet["scores"] == [3, 5])
            // proto3 JSON writes 0, 3, 6 or 9 fraction digits.
            #expect(pet["groomedEvery"] == "1.500s")
            #expect(pet["owner"] == ["name": "Alice"])
            #expect(pet["balance"] == "-42")
            #expect(pet["weight"] == 12.5)

            // The plan's own output filter, on a gRPC answer; the advertised schema follows it.
            var filtered = MCPTestClient(client, path: "/mcp/grpc-filtered")
            _ = try await filtered.initialize()
            #expect(try await filtered.callTool("GetPet", ["id": "1"])["structuredContent"] == ["name": "Rex", "ownerName": "Alice"])
            let filteredTools = try await filtered.request("tools/list")["result"]?["tools"]?.arrayValue ?? []
            let schema = try #require(filteredTools.first { $0["name"] == "GetPet" }?["outputSchema"])
            #expect(schema["properties"]?.objectValue.map { Set($0.keys) } == ["name", "ownerName"])

            let added = try await mcp.callTool(
                "AddPet",
                [
                    "pet": [
                        "name": "Nemo", "status": "SOLD", "tags": ["fish", "orange"], "labels": ["water": "salt"], "born": "2024-06-01T08:30:00.250Z",
                        "nickname": "nem", "scores": [1, 2, 3], "groomedEvery": "90s", "owner": ["name": "Marlin"], "photo": "AQID", "balance": "-7",
                        "weight": 0.25,
                    ]
                ])
            #expect(added["isError"] == false, "\(added)")
            let nemo = try #require(added["structuredContent"])
            #expect(nemo["id"] == "1001")
            #expect(nemo["tags"] == ["fish", "orange"])
            #expect(nemo["labels"] == ["water": "salt"])
            #expect(nemo["born"] == "2024-06-01T08:30:00.250Z")
            #expect(nemo["groomedEvery"] == "90s")
            #expect(nemo["photo"] == "AQID")
            #expect(nemo["balance"] == "-7")
            #expect(nemo["scores"] == [1, 2, 3])
            // The trace context reaches the server as metadata.
            #expect(nemo["extra"]?["traceparent"]?.stringValue?.hasPrefix("00-") == true)

            // gRPC statuses are tool errors.
            let missing = try await mcp.callTool("GetPet", ["id": 99])
            #expect(missing["isError"] == true)
            #expect(missing["content"]?[0]?["text"] == "The gRPC backend answered gRPC status NOT_FOUND: no pet 99.")
            // Values that do not fit the message are refused before the call.
            let wrongEnum = try await mcp.callTool("AddPet", ["pet": ["name": "X", "status": "LOST"]])
            #expect(wrongEnum["isError"] == true)
            #expect(wrongEnum["content"]?[0]?["text"]?.stringValue?.contains("LOST") == true)

            // Backend security is sent as metadata: without it the server refuses.
            var anonymous = MCPTestClient(client, path: "/mcp/grpc-anonymous")
            _ = try await anonymous.initialize()
            let refused = try await anonymous.callTool("GetPet", ["id": "1"])
            #expect(refused["content"]?[0]?["text"] == "The gRPC backend answered gRPC status UNAUTHENTICATED: missing or wrong bearer token.")

            var mock = MCPTestClient(client, path: "/mcp/grpc-mock")
            _ = try await mock.initialize()
            let mocked = try await mock.callTool("GetPet", ["id": "5"])
            #expect(mocked["structuredContent"]?["status"] == "AVAILABLE")
            #expect(mocked["structuredContent"]?["born"] == "2026-01-01T00:00:00Z")
        }
        server.terminate()
        _ = try await server.waitForExit()
    }

    @Test func aFileThatIsNotADescriptorSetIsReported() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("api.pb", "this is not protobuf")
        try dir.write(
            "mcp.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: broken}
            spec: {version: v1, type: GRPC, artifacts: [{type: PROTOBUF_DESCRIPTOR_SET, path: api.pb}]}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: broken}
            spec: {service: {name: broken, version: v1}, backend: {mock: true}}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: broken}
            spec: {plan: broken}
            """)
        try await withRunningGateway(configDirectory: dir.path) { _, gateway in
            let issue = try #require(gateway.store.current.issues.first)
            #expect(issue.file == "api.pb")
            #expect(issue.message.hasPrefix("not a protobuf FileDescriptorSet"))
        }
    }
}
