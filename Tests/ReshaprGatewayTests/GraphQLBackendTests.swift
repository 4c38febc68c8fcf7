import Foundation
import HummingbirdTesting
import NIOCore
import ReshaprJSON
import TestSupport
import Testing

@testable import ReshaprGateway

/// GraphQL services through the gateway to a real GraphQL server (Python graphql-core,
/// Tests/Interop/graphql_server.py) on 127.0.0.1.
@Suite(.enabled(if: Python.canImport("graphql") || Python.required, "graphql-core is not installed (pip install graphql-core)"))
struct GraphQLBackendTests {
    static func configuration(_ dir: TemporaryDirectory, backendPort: Int, sdl: String, introspection: String) throws {
        try dir.write("store/schema.graphql", sdl)
        try dir.write("store/introspection.json", introspection)
        let endpoint = "http://127.0.0.1:\(backendPort)/graphql"
        try dir.write(
            "store/mcp.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: store}
            spec: {version: '1', type: GRAPHQL, artifacts: [{type: GRAPHQL_SCHEMA, path: schema.graphql}]}
            ---
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: store-introspected}
            spec: {version: '1', type: GRAPHQL, artifacts: [{type: GRAPHQL_INTROSPECTION, path: introspection.json}]}
            ---
            apiVersion: reshapr.io/v1
            kind: Secret
            metadata: {name: gql}
            spec: {data: {token: gql-token, wrong: nope}}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: store}
            spec:
              service: {name: store, version: '1'}
              backend: {endpoint: '\(endpoint)', timeout: 10s}
              backendSecurity: {type: bearer, secretRef: {name: gql, key: token}}
              tools:
                overrides:
                  pets: {selection: '{ name status }'}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: store}
            spec: {plan: store, path: /mcp/store}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: introspected}
            spec:
              service: {name: store-introspected, version: '1'}
              backend: {endpoint: '\(endpoint)', timeout: 10s}
              backendSecurity: {type: bearer, secretRef: {name: gql, key: token}}
              tools: {include: [pet, search], selectionDepth: 1}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: introspected}
            spec: {plan: introspected, path: /mcp/introspected}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: wrong-token}
            spec:
              service: {name: store, version: '1'}
              backend: {endpoint: '\(endpoint)', timeout: 10s}
              backendSecurity: {type: bearer, secretRef: {name: gql, key: wrong}}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: wrong-token}
            spec: {plan: wrong-token, path: /mcp/wrong-token}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: mock}
            spec:
              service: {name: store, version: '1'}
              backend: {mock: true}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: mock}
            spec: {plan: mock, path: /mcp/mock}
            """)
    }

    @Test func queriesAndMutationsReachARealGraphQLServer() async throws {
        let (server, port) = try await Python.startServer("graphql_server.py", ["--token", "gql-token"])
        defer { server.terminate() }
        let backend = TestClient(host: "127.0.0.1", port: port)
        backend.connect()
        let sdl = String(buffer: try await backend.get("/sdl").body ?? ByteBuffer())
        let introspection = String(buffer: try await backend.get("/introspection").body ?? ByteBuffer())
        try await backend.shutdown()

        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.configuration(dir, backendPort: port, sdl: sdl, introspection: introspection)
        try await withRunningGateway(configDirectory: dir.path) { client, gateway in
            #expect(gateway.store.current.issues.isEmpty, "\(gateway.store.current.issues)")
            var mcp = MCPTestClient(client, path: "/mcp/store")
            _ = try await mcp.initialize()
            let tools = try await mcp.request("tools/list")["result"]?["tools"]?.arrayValue ?? []
            #expect(tools.compactMap { $0["name"]?.stringValue } == ["addPet", "fail", "pet", "pets", "search"])
            let addPet = try #require(tools.first { $0["name"] == "addPet" })
            #expect(addPet["annotations"]?["destructiveHint"] == true)
            #expect(addPet["inputSchema"]?["properties"]?["input"]?["properties"]?["status"]?["enum"] == ["AVAILABLE", "PENDING", "SOLD"])

            let pet = try await mcp.callTool("pet", ["id": "1"])
            #expect(pet["isError"] == false)
            #expect(pet["structuredContent"]?["pet"]?["name"] == "Rex")
            #expect(pet["structuredContent"]?["pet"]?["owner"]?["name"] == "Alice")
            #expect(pet["structuredContent"]?["pet"]?["tags"] == ["dog"])

            // The plan's selection override.
            let pets = try await mcp.callTool("pets", ["status": "SOLD"])
            #expect(pets["structuredContent"]?["pets"] == [["name": "Tom", "status": "SOLD"]])

            let search = try await mcp.callTool("search", ["text": "Rex"])
            #expect(search["structuredContent"]?["search"]?[0]?["__typename"] == "Pet")

            let added = try await mcp.callTool("addPet", ["input": ["name": "Nemo", "tags": ["fish"]]])
            #expect(added["structuredContent"]?["addPet"]?["status"] == "AVAILABLE")
            #expect(added["structuredContent"]?["addPet"]?["id"] == "3")

            // GraphQL errors are tool errors with their messages.
            let failed = try await mcp.callTool("fail", ["message": "the store is closed"])
            #expect(failed["isError"] == true)
            #expect(failed["content"]?[0]?["text"] == "The GraphQL backend answered errors: the store is closed (at fail). Partial data: {\"fail\":null}")

            // Arguments are checked before the backend is called.
            let invalid = try await mcp.callTool("pets", ["status": "LOST"])
            #expect(invalid["isError"] == true)
            #expect(invalid["content"]?[0]?["text"]?.stringValue?.hasPrefix("Invalid arguments for pets") == true)

            // The schema given as an introspection result serves the same calls.
            var introspected = MCPTestClient(client, path: "/mcp/introspected")
            _ = try await introspected.initialize()
            let listed = try await introspected.request("tools/list")["result"]?["tools"]?.arrayValue ?? []
            #expect(listed.compactMap { $0["name"]?.stringValue } == ["pet", "search"])
            let shallow = try await introspected.callTool("pet", ["id": 2])
            #expect(shallow["structuredContent"]?["pet"] == ["id": "2", "name": "Tom", "status": "SOLD", "tags": ["cat"]])

            // Backend security applies: a wrong token is refused by the server.
            var wrong = MCPTestClient(client, path: "/mcp/wrong-token")
            _ = try await wrong.initialize()
            let refused = try await wrong.callTool("pet", ["id": "1"])
            #expect(refused["isError"] == true)
            #expect(refused["content"]?[0]?["text"] == "The GraphQL backend answered errors: missing or wrong bearer token")

            // Mock mode answers from the schema alone.
            var mock = MCPTestClient(client, path: "/mcp/mock")
            _ = try await mock.initialize()
            let mocked = try await mock.callTool("pet", ["id": "9"])
            #expect(mocked["structuredContent"]?["pet"]?["status"] == "AVAILABLE")

            let metrics = String(buffer: try await client.get("/metrics").body ?? ByteBuffer())
            #expect(metrics.contains(#"reshapr_tool_calls_total{endpoint="/mcp/store",tool="fail",outcome="tool_error"} 1"#))
            #expect(metrics.contains(#"reshapr_backend_errors_total{endpoint="/mcp/store",reason="graphql_errors"} 1"#))
        }
        server.terminate()
        _ = try await server.waitForExit()
    }

    /// A declarative custom tool over `search` (with the plan's selection) sets the `first`
    /// argument of the nested `Owner.pets` field (inside an inline fragment) from its input, and the filter of the
    /// custom tool keeps only the owner's pets.
    @Test func customToolRelationArgumentsReachTheServer() async throws {
        let (server, port) = try await Python.startServer("graphql_server.py")
        defer { server.terminate() }
        let backend = TestClient(host: "127.0.0.1", port: port)
        backend.connect()
        let sdl = String(buffer: try await backend.get("/sdl").body ?? ByteBuffer())
        try await backend.shutdown()

        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("schema.graphql", sdl)
        try dir.write(
            "custom-tools.yaml",
            """
            apiVersion: reshapr.io/v1alpha1
            kind: CustomTools
            service: {name: store, version: '1'}
            customTools:
              ownerPets:
                tool: search
                description: The pets of the owners whose name matches, at most `count` each.
                input: {type: object, properties: {name: {type: string}, count: {type: integer}}, required: [name, count]}
                arguments:
                  text: '${name}'
                  __relation_pets: {first: '${count}'}
            """)
        try dir.write(
            "filters.yaml",
            """
            apiVersion: reshapr.io/v1alpha1
            kind: ToolsOutputFilters
            service: {name: store, version: '1'}
            filters:
              ownerPets: {jsonRetain: [/search/0/name, /search/0/pets]}
            """)
        try dir.write(
            "mcp.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: store}
            spec:
              version: '1'
              type: GRAPHQL
              artifacts:
                - {type: GRAPHQL_SCHEMA, path: schema.graphql}
                - {type: RESHAPR_CUSTOM_TOOLS, path: custom-tools.yaml}
                - {type: RESHAPR_TOOLS_OUTPUT_FILTERS, path: filters.yaml}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: store}
            spec:
              service: {name: store, version: '1'}
              backend: {endpoint: 'http://127.0.0.1:\(port)/graphql', timeout: 10s}
              tools:
                overrides:
                  search: {selection: '{ ... on Owner { id name pets { name } } ... on Pet { name } }'}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: store}
            spec: {plan: store, path: /mcp/store}
            """)
        try await withRunningGateway(configDirectory: dir.path) { client, gateway in
            #expect(gateway.store.current.issues.isEmpty, "\(gateway.store.current.issues)")
            var mcp = MCPTestClient(client, path: "/mcp/store")
            _ = try await mcp.initialize()
            let none = try await mcp.callTool("ownerPets", ["name": "Alice", "count": 0])
            #expect(none["isError"] == false, "\(none)")
            #expect(none["structuredContent"] == ["search": [["name": "Alice", "pets": []]]])
            let one = try await mcp.callTool("ownerPets", ["name": "Alice", "count": 1])
            #expect(one["structuredContent"]?["search"]?[0]?["pets"]?.arrayValue?.count == 1)
            #expect(one["structuredContent"]?["search"]?[0]?["pets"]?[0]?["name"] == "Rex")
            // The original stays callable by the custom tool but is no longer listed.
            let tools = try await mcp.request("tools/list")["result"]?["tools"]?.arrayValue ?? []
            #expect(tools.compactMap { $0["name"]?.stringValue } == ["addPet", "fail", "ownerPets", "pet", "pets"])
        }
        server.terminate()
        _ = try await server.waitForExit()
    }

    @Test func anInvalidSchemaIsReportedAndNotServed() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("schema.graphql", "type Query {\n  pet(id: ID!): Pett\n}\n")
        try dir.write(
            "mcp.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: broken}
            spec: {version: '1', type: GRAPHQL, artifacts: [{type: GRAPHQL_SCHEMA, path: schema.graphql}]}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: broken}
            spec: {service: {name: broken, version: '1'}, backend: {mock: true}}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: broken}
            spec: {plan: broken}
            """)
        try await withRunningGateway(configDirectory: dir.path) { client, gateway in
            let issue = try #require(gateway.store.current.issues.first)
            #expect(issue.file == "schema.graphql")
            #expect(issue.message.hasPrefix("invalid GraphQL schema: Unknown type \"Pett\"."))
            #expect(try await client.get("/health/ready").status == .serviceUnavailable)
        }
    }
}
