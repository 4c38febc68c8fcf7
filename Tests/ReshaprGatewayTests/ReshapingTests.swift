import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ReshaprJSON
import ReshaprScripting
import Synchronization
import TestSupport
import Testing

@testable import ReshaprGateway

/// Output filters and custom tools (declarative and scripted) against a real HTTP backend.
@Suite struct ReshapingTests {
    static let spec = """
        openapi: 3.0.3
        info: {title: Pets, version: '1'}
        paths:
          /pets/{petId}:
            get:
              operationId: getPetById
              parameters: [{name: petId, in: path, required: true, schema: {type: integer}}]
              responses:
                '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}}
          /pets:
            get:
              operationId: findPets
              parameters: [{name: status, in: query, schema: {type: string}}]
              responses:
                '200': {description: ok, content: {application/json: {schema: {type: array, items: {$ref: '#/components/schemas/Pet'}}}}}
          /slow/{n}:
            get:
              operationId: slow
              parameters: [{name: n, in: path, required: true, schema: {type: integer}}]
              responses: {'200': {description: ok, content: {application/json: {schema: {type: object}}}}}
        components:
          schemas:
            Pet:
              type: object
              required: [name]
              properties:
                id: {type: integer}
                name: {type: string}
                status: {type: string}
                category: {type: object, properties: {id: {type: integer}, name: {type: string}}}
                tags: {type: array, items: {type: object, properties: {id: {type: integer}, name: {type: string}}}}
        """

    static let filters = """
        apiVersion: reshapr.io/v1alpha1
        kind: ToolsOutputFilters
        service: {name: pets, version: '1'}
        filters:
          getPetById:
            jsonRetain: [/name, /status, /category/name, /tags]
            jsonPatches:
              - {op: move, from: /category/name, path: /kind}
              - {op: remove, path: /category}
              - {op: add, path: /source, value: reshapr}
          findPets:
            convertToToon: true
        """

    static let customTools = """
        apiVersion: reshapr.io/v1alpha1
        kind: CustomTools
        service: {name: pets, version: '1'}
        customTools:
          petName:
            tool: getPetById
            title: Name of a pet
            description: The name of the pet with this id.
            input: {type: object, properties: {id: {type: integer}}, required: [id]}
            arguments: {petId: '${id}'}
          twoSlowCalls:
            description: Calls slow twice at once and sums what they answered.
            input: {type: object, properties: {a: {type: integer}, b: {type: integer}}}
            tools: [{tool: slow}]
            script: |
              var first = rs.callToolAsync('slow', {n: input.a});
              var second = rs.callToolAsync('slow', {n: input.b});
              var results = rs.awaitPromises([first, second]);
              return {sum: results[0].content.n + results[1].content.n, ok: results[0].ok && results[1].ok};
          forever:
            description: Never ends.
            script: 'while (true) {}'
          sneaky:
            description: Calls a tool it did not list.
            tools: [{tool: slow}]
            script: 'return rs.callTool("getPetById", {petId: 1});'
          refuses:
            description: Fails on purpose.
            script: 'rs.fail("no pets today", {reason: "closed"});'
        """

    /// Pets, and `/slow/{n}` which waits 300 ms and says how many calls were in flight at once.
    final class Backend: Sendable {
        final class InFlight: Sendable {
            let counts = Mutex((now: 0, most: 0))
        }
        let inFlight = InFlight()

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.get("/api/pets/:petId") { _, context -> Response in
                let id = context.parameters.get("petId", as: Int.self) ?? 0
                return ToolCallTests.Backend.json(Self.pet(id))
            }
            router.get("/api/pets") { _, _ -> Response in
                ToolCallTests.Backend.json(.array([Self.pet(1), Self.pet(2), Self.pet(3)]))
            }
            router.get("/api/slow/:n") { [inFlight] _, context -> Response in
                let n = context.parameters.get("n", as: Int.self) ?? 0
                inFlight.counts.withLock { state in
                    state.now += 1
                    state.most = max(state.most, state.now)
                }
                try await Task.sleep(for: .milliseconds(300))
                inFlight.counts.withLock { $0.now -= 1 }
                return ToolCallTests.Backend.json(["n": .integer(n)])
            }
            return router
        }

        static func pet(_ id: Int) -> JSONValue {
            ["id": .integer(id), "name": .string("pet-\(id)"), "status": "available", "category": ["id": 1, "name": "Dogs"], "tags": [["id": 1, "name": "good"]]]
        }
    }

    /// `scriptTimeout` is wall-clock time: generous by default, since the tool calls of the
    /// scripts share this test process's busy task pool with every other suite.
    static func configuration(
        backendPort: Int, filters: String = filters, customTools: String = customTools, scriptTimeout: String = "60s"
    ) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        try dir.write("spec.yaml", spec)
        try dir.write("filters.yaml", filters)
        try dir.write("custom-tools.yaml", customTools)
        try dir.write(
            "all.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: pets}
            spec:
              version: '1'
              type: REST
              artifacts:
                - {type: OPENAPI, path: spec.yaml}
                - {type: RESHAPR_TOOLS_OUTPUT_FILTERS, path: filters.yaml}
                - {type: RESHAPR_CUSTOM_TOOLS, path: custom-tools.yaml}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: pets}
            spec:
              service: {name: pets, version: '1'}
              backend: {endpoint: 'http://127.0.0.1:\(backendPort)/api', timeout: 10s}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: pets}
            spec: {plan: pets, path: /mcp/pets}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: pets-with-originals}
            spec:
              service: {name: pets, version: '1'}
              backend: {endpoint: 'http://127.0.0.1:\(backendPort)/api', timeout: 10s}
              tools: {include: [getPetById, findPets, petName]}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: pets-with-originals}
            spec: {plan: pets-with-originals, path: /mcp/originals}
            ---
            apiVersion: reshapr.io/v1
            kind: Gateway
            metadata: {name: gateway}
            spec:
              limits: {scripts: {timeout: \(scriptTimeout)}}
            """)
        return dir
    }

    func withGateway(
        path: String = "/mcp/pets", scriptTimeout: String = "60s", _ body: @Sendable (MCPTestClient, Backend, Gateway) async throws -> Void
    ) async throws {
        let backend = Backend()
        try await withServer(backend.router()) { port in
            let dir = try Self.configuration(backendPort: port, scriptTimeout: scriptTimeout)
            defer { dir.remove() }
            try await withRunningGateway(configDirectory: dir.path) { client, gateway in
                var mcp = MCPTestClient(client, path: path)
                _ = try await mcp.initialize()
                try await body(mcp, backend, gateway)
            }
        }
    }

    static var scripting: Bool {
        if case .success = ScriptRunner.availability { return true }
        return ProcessInfo.processInfo.environment["RESHAPR_REQUIRE_JAVASCRIPTCORE"] == "1"
    }

    @Test func retainedAndPatchedAnswerWithTheSchemaThatFollows() async throws {
        // This plan includes the original too, so that the custom tool does not replace it.
        try await withGateway(path: "/mcp/originals") { mcp, _, gateway in
            #expect(gateway.store.current.issues.filter { $0.severity == .error && !$0.message.contains("JavaScript") }.isEmpty, "\(gateway.store.current.issues)")
            let result = try await mcp.callTool("getPetById", ["petId": 7])
            #expect(result["isError"] == false)
            #expect(result["structuredContent"] == ["name": "pet-7", "status": "available", "kind": "Dogs", "tags": [["id": 1, "name": "good"]], "source": "reshapr"])
            let tools = try await mcp.request("tools/list")["result"]?["tools"]?.arrayValue ?? []
            let schema = try #require(tools.first { $0["name"] == "getPetById" }?["outputSchema"])
            #expect(schema["properties"]?["kind"]?["type"] == "string")
            #expect(schema["properties"]?["id"] == nil)
            #expect(schema["properties"]?["source"]?["const"] == "reshapr")
            // TOON: text only, and no outputSchema to contradict.
            let list = try await mcp.callTool("findPets")
            #expect(list["structuredContent"] == nil)
            #expect(list["content"]?[0]?["text"]?.stringValue?.hasPrefix("[3]{id,name,status,category{id,name},tags}") == false)
            // The backend writes keys sorted; TOON keeps the order it is given.
            #expect(list["content"]?[0]?["text"]?.stringValue?.hasPrefix("[3]:\n  - category:\n      id: 1\n      name: Dogs\n    id: 1\n    name: pet-1\n    status: available\n    tags[1]{id,name}:\n      1,good\n  - category:") == true, "\(list)")
            #expect(tools.first { $0["name"] == "findPets" }?["outputSchema"] == nil)
            #expect(Set(tools.compactMap { $0["name"]?.stringValue }) == ["getPetById", "findPets", "petName"])
        }
    }

    @Test func declarativeCustomToolReplacesItsOriginal() async throws {
        try await withGateway { mcp, _, _ in
            let tools = try await mcp.request("tools/list")["result"]?["tools"]?.arrayValue ?? []
            let names = tools.compactMap { $0["name"]?.stringValue }
            #expect(names.contains("petName"))
            #expect(!names.contains("getPetById"), "replaced by petName: \(names)")
            let result = try await mcp.callTool("petName", ["id": 12])
            // The original's filter applies: the custom tool answers what getPetById answers.
            #expect(result["structuredContent"]?["name"] == "pet-12")
            #expect(result["structuredContent"]?["kind"] == "Dogs")
            let bad = try await mcp.callTool("petName", ["id": "twelve"])
            #expect(bad["isError"] == true)
        }
    }

    @Test(.enabled(if: scripting)) func scriptCallsTwoToolsConcurrently() async throws {
        try await withGateway { mcp, backend, _ in
            let result = try await mcp.callTool("twoSlowCalls", ["a": 2, "b": 3])
            #expect(result["isError"] == false, "\(result)")
            #expect(result["structuredContent"] == ["sum": 5, "ok": true])
            #expect(backend.inFlight.counts.withLock { $0.most } == 2, "both calls were in flight at once")
        }
    }

    @Test(.enabled(if: scripting)) func endlessScriptIsStoppedAndTheGatewayKeepsServing() async throws {
        try await withGateway(scriptTimeout: "2s") { mcp, _, _ in
            let result = try await mcp.callTool("forever")
            #expect(result["isError"] == true)
            #expect(result["content"]?[0]?["text"]?.stringValue?.contains("ran longer than") == true, "\(result)")
            let after = try await mcp.callTool("petName", ["id": 1])
            #expect(after["structuredContent"]?["name"] == "pet-1")
        }
    }

    @Test(.enabled(if: scripting)) func allowListAndFailures() async throws {
        try await withGateway { mcp, _, _ in
            let sneaky = try await mcp.callTool("sneaky")
            #expect(sneaky["isError"] == false)
            #expect(sneaky["structuredContent"]?["ok"] == false)
            #expect(sneaky["structuredContent"]?["error"]?.stringValue?.contains("not among the tools sneaky may call") == true, "\(sneaky)")
            let refused = try await mcp.callTool("refuses")
            #expect(refused["isError"] == true)
            #expect(refused["structuredContent"] == ["error": "no pets today", "data": ["reason": "closed"]])
        }
    }

    @Test func filterOnAMissingToolIsRefusedAtLoad() async throws {
        let dir = try Self.configuration(
            backendPort: 1, filters: "apiVersion: reshapr.io/v1alpha1\nkind: ToolsOutputFilters\nservice: {name: pets, version: '1'}\nfilters:\n  getPetByName: {convertToToon: true}\n")
        defer { dir.remove() }
        try await withRunningGateway(configDirectory: dir.path) { client, gateway in
            let issues = gateway.store.current.issues.map(\.description)
            #expect(issues.contains { $0.contains("filters.yaml") && $0.contains("filters.getPetByName") && $0.contains("no tool getPetByName") }, "\(issues)")
            #expect(gateway.store.current.routing.endpoints["/mcp/pets"] == nil)
            _ = client
        }
    }

    @Test func aCustomToolNamedLikeAnOriginalIsRefused() async throws {
        let dir = try Self.configuration(backendPort: 1, customTools: Self.customTools.replacingOccurrences(of: "  petName:", with: "  findPets:"))
        defer { dir.remove() }
        try await withRunningGateway(configDirectory: dir.path) { _, gateway in
            let issues = gateway.store.current.issues.map(\.description)
            #expect(issues.contains { $0.contains("custom-tools.yaml customTools.findPets: custom tool findPets has the name of a tool of pets 1") }, "\(issues)")
        }
    }

    @Test func editingAFilterIsPickedUpLive() async throws {
        let backend = Backend()
        try await withServer(backend.router()) { port in
            let dir = try Self.configuration(backendPort: port)
            defer { dir.remove() }
            try await withRunningGateway(configDirectory: dir.path) { client, _ in
                var mcp = MCPTestClient(client, path: "/mcp/originals")
                _ = try await mcp.initialize()
                #expect(try await mcp.callTool("getPetById", ["petId": 3])["structuredContent"]?["kind"] == "Dogs")
                try dir.write("filters.yaml", Self.filters.replacingOccurrences(of: "[/name, /status, /category/name, /tags]", with: "[/name, /category/name]"))
                #expect(
                    try await eventually {
                        try await mcp.callTool("getPetById", ["petId": 3])["structuredContent"] == ["name": "pet-3", "kind": "Dogs", "source": "reshapr"]
                    })
            }
        }
    }

    /// Without the engine (here: a library path that does not exist), the gateway still serves
    /// and says which scripted tools it cannot run and what to install.
    @Test func scriptedToolsWithoutAnEngineAreReportedWithWhatToInstall() async throws {
        let dir = try Self.configuration(backendPort: 1)
        defer { dir.remove() }
        let result = try await ChildProcess.run(
            Repository.builtProduct("reshapr-gateway"), ["validate", dir.path], environment: ["RESHAPR_JAVASCRIPTCORE_LIBRARY": dir.path + "/no-such-library.so"])
        #expect(result.stderr.contains("custom tool forever is not served: scripted tools need a JavaScript engine"), "\(result.stderr)")
        #expect(result.stderr.contains("apt-get install libjavascriptcoregtk-4.1-0"))
        #expect(result.stdout.contains("/mcp/pets"), "the endpoint is still served: \(result.stdout)")
    }

    @Test func artifactOfAnotherServiceIsRefused() async throws {
        let dir = try Self.configuration(backendPort: 1, filters: Self.filters.replacingOccurrences(of: "name: pets,", with: "name: cats,"))
        defer { dir.remove() }
        try await withRunningGateway(configDirectory: dir.path) { _, gateway in
            let issues = gateway.store.current.issues.map(\.description)
            #expect(issues.contains { $0.contains("filters.yaml is for service cats 1") }, "\(issues)")
        }
    }
}
