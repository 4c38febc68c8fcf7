import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ReshaprJSON
import ReshaprMCP
import TestSupport
import Testing

@testable import ReshaprGateway

/// Waits until `condition` holds (polling every 10 ms, at most `timeout`).
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

/// Live reload through real inotify on temporary directories.
@Suite struct ReloadTests {
    static let path = "/mcp/default/petstore/1.0.0"

    static func plan(exclude: [String], name: String = "petstore-mock", service: String = "petstore", version: String = "1.0.0") -> String {
        """
        apiVersion: reshapr.io/v1
        kind: ConfigurationPlan
        metadata: {name: \(name)}
        spec:
          service: {name: \(service), version: "\(version)"}
          backend: {mock: true}
          tools: {exclude: [\(exclude.joined(separator: ", "))]}
        ---
        apiVersion: reshapr.io/v1
        kind: Exposition
        metadata: {name: \(name == "petstore-mock" ? "petstore" : name)}
        spec: {plan: \(name)}
        """
    }

    func toolCount(_ mcp: MCPTestClient) async throws -> Int {
        try await mcp.request("tools/list")["result"]?["tools"]?.arrayValue?.count ?? -1
    }

    @Test func addChangeAndRemoveAreServedAtOnceAndSessionsAreNotified() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try copySamples(to: dir)
        try await withRunningGateway(configDirectory: dir.path) { client, gateway in
            var mcp = MCPTestClient(client, path: Self.path)
            _ = try await mcp.initialize()
            #expect(try await toolCount(mcp) == 8)
            let session = mcp.sessionID ?? ""
            let port = try await client.getChannel().remoteAddress?.port ?? 0
            let streamClient = TestClient(host: "127.0.0.1", port: port)
            streamClient.connect()
            async let stream = streamClient.execute(.init(Self.path, method: .get, headers: [.accept: "text/event-stream", .mcpSessionID: session]))
            #expect(try await eventually { gateway.sessions.openStreams == 1 })

            // Change: exclude one more operation.
            try dir.write("petstore/mcp.yaml", Self.plan(exclude: ["uploadFile", "deletePet"]))
            #expect(try await eventually { try await toolCount(mcp) == 7 })
            #expect(try await mcp.request("ping")["result"] == [:], "the session survives the reload")

            // Change the service's spec: a new operation is a new tool.
            let spec = try String(contentsOfFile: dir.path + "/petstore/openapi.yaml", encoding: .utf8)
            try dir.write(
                "petstore/openapi.yaml",
                spec.replacingOccurrences(
                    of: "paths:\n", with: "paths:\n  /health:\n    get:\n      operationId: petstoreHealth\n      responses: {'200': {description: ok}}\n"))
            #expect(try await eventually { try await toolCount(mcp) == 8 })

            // Add a second service version and its endpoint.
            try dir.write(
                "v2/service.yaml",
                "apiVersion: reshapr.io/v1\nkind: Service\nmetadata: {name: petstore}\nspec: {version: 2.0.0, type: REST, artifacts: [{type: OPENAPI, path: ../petstore/openapi.yaml}]}\n")
            try dir.write("v2/mcp.yaml", Self.plan(exclude: [], name: "v2", version: "2.0.0"))
            var v2 = MCPTestClient(client, path: "/mcp/default/petstore/2.0.0")
            #expect(try await eventually { gateway.store.current.routing.endpoints["/mcp/default/petstore/2.0.0"] != nil })
            _ = try await v2.initialize()
            #expect(try await toolCount(v2) == 10, "9 operations plus the one added above")

            // Remove it: new requests get 404.
            try FileManager.default.removeItem(atPath: dir.path + "/v2")
            #expect(try await eventually { try await v2.post(["jsonrpc": "2.0", "id": 1, "method": "ping"]).status == .notFound })

            gateway.sessions.remove(session)
            let events = String(buffer: try await stream.body ?? ByteBuffer())
            #expect(events.contains("notifications/tools/list_changed"))
            try await streamClient.shutdown()
            #expect(gateway.store.current.history.failed == 0)
        }
    }

    @Test func theConfigMapSymlinkSwapIsApplied() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let files = ["openapi.yaml", "service.yaml", "prompts.yaml", "resources.yaml"]
        for (revision, exclude) in [("..r1", ["uploadFile"]), ("..r2", ["uploadFile", "addPet", "updatePet"])] {
            for name in files {
                try dir.write("\(revision)/\(name)", try String(contentsOfFile: Repository.samples + "/petstore/" + name, encoding: .utf8))
            }
            try dir.write("\(revision)/mcp.yaml", Self.plan(exclude: exclude))
        }
        try dir.symlink("..data", to: "..r1")
        for name in files + ["mcp.yaml"] { try dir.symlink(name, to: "..data/\(name)") }
        try await withRunningGateway(configDirectory: dir.path) { client, gateway in
            var mcp = MCPTestClient(client, path: Self.path)
            _ = try await mcp.initialize()
            #expect(try await toolCount(mcp) == 8)
            try dir.symlink("..data_tmp", to: "..r2")
            #expect(rename(dir.path + "/..data_tmp", dir.path + "/..data") == 0)
            #expect(try await eventually { try await toolCount(mcp) == 6 })
            #expect(gateway.store.current.issues.isEmpty)
        }
    }

    @Test func aBrokenEditKeepsTheLastGoodVersionUntilFixed() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try copySamples(to: dir)
        try await withRunningGateway(configDirectory: dir.path) { client, gateway in
            var mcp = MCPTestClient(client, path: Self.path)
            _ = try await mcp.initialize()

            // A dangling reference: the exposition keeps its last good version.
            try dir.write("petstore/mcp.yaml", Self.plan(exclude: [], version: "9.9"))
            #expect(try await eventually { gateway.store.current.history.succeeded >= 1 && !gateway.store.current.configuration.errors.isEmpty })
            #expect(gateway.store.current.routing.endpoints[Self.path] != nil)
            #expect(try await mcp.callTool("getInventory")["isError"] == false)
            let status = try json(try await client.get("/status"))
            #expect(status["errors"]?[0]?["text"]?.stringValue?.contains("spec.service.version: service petstore 9.9 not found") == true)
            #expect(status["warnings"]?.arrayValue?.contains { $0["message"]?.stringValue?.contains("last good version stays served") == true } == true)
            #expect(try await client.get("/health/ready").status == .ok)

            // Malformed YAML: same.
            try dir.write("petstore/mcp.yaml", "apiVersion: reshapr.io/v1\nkind: [oops\n")
            #expect(try await eventually { gateway.store.current.configuration.unreadableFiles.contains("petstore/mcp.yaml") })
            #expect(try await toolCount(mcp) == 8)

            // Fixed: the new version is served and the errors are gone.
            try dir.write("petstore/mcp.yaml", Self.plan(exclude: ["uploadFile", "getInventory"]))
            #expect(try await eventually { try await toolCount(mcp) == 7 })
            #expect(gateway.store.current.issues.isEmpty)
        }
    }

    @Test func aBurstOfWritesIsAFewReloads() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try copySamples(to: dir)
        try await withRunningGateway(configDirectory: dir.path, debounce: .milliseconds(25)) { _, gateway in
            for i in 0..<500 { try dir.write("notes/\(i % 100).yaml", "note: \(i)\n") }
            #expect(try await eventually { gateway.store.current.history.succeeded >= 1 })
            try await Task.sleep(for: .milliseconds(500))
            let reloads = gateway.store.current.history.succeeded
            print("burst of 500 writes: \(reloads) reload(s)")
            #expect(reloads >= 1 && reloads <= 10, "\(reloads) reloads for 500 writes")
        }
    }

    @Test func deletingTheRootKeepsServingAndRecreatingItRecovers() async throws {
        let parent = try TemporaryDirectory()
        defer { parent.remove() }
        let root = parent.path + "/config"
        let dir = TemporaryDirectory(path: root)
        try copySamples(to: dir)
        try await withRunningGateway(configDirectory: root) { client, gateway in
            try FileManager.default.removeItem(atPath: root)
            #expect(try await eventually { gateway.store.current.history.failed >= 1 })
            #expect(gateway.store.current.routing.endpoints[Self.path] != nil)
            let status = try json(try await client.get("/status"))
            #expect(status["reloads"]?["lastError"]?.stringValue?.contains("does not exist; still serving") == true)
            try copySamples(to: dir)
            #expect(try await eventually { gateway.store.current.history.lastError == nil && gateway.store.current.history.succeeded >= 1 })
            #expect(gateway.store.current.routing.endpoints[Self.path] != nil)
        }
    }

    @Test func callsInFlightFinishOnTheOldTable() async throws {
        let router = Router()
        router.get("/api/wait") { _, _ -> Response in
            try await Task.sleep(for: .milliseconds(800))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"done":true}"#)))
        }
        try await withServer(router) { port in
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            try dir.write("spec.yaml", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /wait: {get: {operationId: wait, responses: {'200': {description: ok}}}}\n")
            let config = """
                apiVersion: reshapr.io/v1
                kind: Service
                metadata: {name: slow}
                spec: {version: '1', type: REST, artifacts: [{type: OPENAPI, path: spec.yaml}]}
                ---
                apiVersion: reshapr.io/v1
                kind: ConfigurationPlan
                metadata: {name: slow}
                spec: {service: {name: slow, version: '1'}, backend: {endpoint: 'http://127.0.0.1:\(port)/api', timeout: 12s}}
                ---
                apiVersion: reshapr.io/v1
                kind: Exposition
                metadata: {name: slow}
                spec: {plan: slow, path: /mcp/slow}
                """
            try dir.write("all.yaml", config)
            try await withRunningGateway(configDirectory: dir.path) { client, gateway in
                var mcp = MCPTestClient(client, path: "/mcp/slow")
                _ = try await mcp.initialize()
                let session = mcp
                async let result = session.callTool("wait")
                #expect(try await eventually { gateway.sessions.callsInFlight == 1 })
                // Remove the endpoint while the call is in flight.
                try dir.write("all.yaml", config.replacingOccurrences(of: "path: /mcp/slow", with: "path: /mcp/moved"))
                #expect(try await eventually { gateway.store.current.routing.endpoints["/mcp/slow"] == nil })
                let finished = try await result
                #expect(finished["isError"] == false, "\(finished)")
                #expect(finished["structuredContent"]?["done"] == true)
                #expect(try await mcp.post(["jsonrpc": "2.0", "id": 1, "method": "ping"]).status == .notFound)
            }
        }
    }

    @Test func sighupReloadsTheRunningBinary() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try copySamples(to: dir)
        let binary = Repository.builtProduct("reshapr-gateway")
        let gateway = try ChildProcess(binary, ["--config-dir", dir.path, "--host", "127.0.0.1", "--port", "0", "--no-watch"])
        defer { gateway.terminate() }
        let line = try await gateway.waitForStderr(containing: "[ReshaprGateway] listening")
        let port = try #require(line.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) })
        let client = TestClient(host: "127.0.0.1", port: port)
        client.connect()
        try dir.write("petstore/mcp.yaml", Self.plan(exclude: ["uploadFile", "deletePet"]))
        try await Task.sleep(for: .milliseconds(300))
        #expect(try json(try await client.get("/status"))["generation"] == 1, "no reload without --watch")
        kill(gateway.pid, SIGHUP)
        #expect(try await eventually { try json(try await client.get("/status"))["reloads"]?["lastReason"] == "SIGHUP" })
        #expect(try json(try await client.get("/status"))["endpoints"]?[0]?["tools"] == 7)
        try await client.shutdown()
        gateway.terminate()
        #expect(try await gateway.waitForExit() == 0)
    }
}
