import Foundation
import HummingbirdTesting
import Logging
import NIOCore
import ReshaprConfig
import ReshaprJSON
import ServiceLifecycle
import TestSupport
import Testing

@testable import ReshaprGateway

/// Starts the gateway (HTTP server, inotify reloads) on 127.0.0.1 with a port picked by the OS,
/// runs `body`, and shuts it down.
func withRunningGateway(
    configDirectory: String, debounce: Duration = .milliseconds(20), keepAlive: Duration = .seconds(15), loader: LoaderOptions = LoaderOptions(),
    _ body: @Sendable (TestClient, Gateway) async throws -> Void
) async throws {
    var logger = Logger(label: "test.gateway")
    logger.logLevel = .warning
    let options = GatewayOptions(
        configDirectory: configDirectory, host: "127.0.0.1", port: 0, loader: loader, reloadDebounce: debounce, keepAliveInterval: keepAlive)
    let gateway = try Gateway(options: options, logger: logger)
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let group = ServiceGroup(services: gateway.services { port in continuation.yield(port) }, logger: logger)
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestClient.Error.invalidURL }
        let client = TestClient(host: "127.0.0.1", port: port)
        client.connect()
        do {
            try await body(client, gateway)
        } catch {
            try? await client.shutdown()
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            await gateway.shutdown()
            throw error
        }
        try await client.shutdown()
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        await gateway.shutdown()
    }
}

func json(_ response: TestClient.Response) throws -> JSONValue {
    try JSONParser.parse(Array((response.body ?? ByteBuffer()).readableBytesView))
}

@Suite struct GatewayHTTPTests {
    @Test func healthAndStatusOnTheSamples() async throws {
        try await withRunningGateway(configDirectory: Repository.samples) { client, _ in
            let live = try await client.get("/health/live")
            #expect(live.status == .ok)
            #expect(try json(live)["status"] == "live")

            let ready = try await client.get("/health/ready")
            #expect(ready.status == .ok)
            #expect(try json(ready)["endpoints"] == 3)

            let status = try await client.get("/status")
            #expect(status.status == .ok)
            #expect(status.headers[.contentType] == "application/json")
            let body = try json(status)
            #expect(body["ready"] == true)
            #expect(body["resources"]?["Service"] == 3)
            let endpoint = try #require(body["endpoints"]?.arrayValue?.first { $0["path"] == "/mcp/default/petstore/1.0.0" })
            #expect(endpoint["path"] == "/mcp/default/petstore/1.0.0")
            #expect(endpoint["backend"]?["mock"] == true)
            #expect(endpoint["source"] == "petstore/mcp.yaml#2")
            #expect(body["errors"] == [])
            #expect(body["gateway"]?["listen"]?.stringValue?.hasPrefix("127.0.0.1:") == true)
        }
    }

    @Test func notReadyWithNoEndpointAndErrorsShownOnStatus() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("plan.yaml", "apiVersion: reshapr.io/v1\nkind: ConfigurationPlan\nmetadata: {name: p}\nspec:\n  service: {name: nope, version: \"1\"}\n  backend: {mock: true}\n")
        try await withRunningGateway(configDirectory: dir.path) { client, _ in
            #expect(try await client.get("/health/live").status == .ok)
            let ready = try await client.get("/health/ready")
            #expect(ready.status == .serviceUnavailable)
            #expect(try json(ready)["reason"]?.stringValue?.contains("1 configuration error(s)") == true)
            let status = try json(try await client.get("/status"))
            #expect(status["ready"] == false)
            let error = try #require(status["errors"]?.arrayValue?.first)
            #expect(error["file"] == "plan.yaml")
            #expect(error["document"] == 1)
            #expect(error["field"] == "spec.service.name")
            #expect(error["line"] == 5)
            #expect(error["text"] == "plan.yaml#1 spec.service.name: service nope not found in org default (line 5)")
        }
    }

    @Test func statusNeverShowsSecretValues() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("openapi.yaml", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n")
        try dir.write(
            "all.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: s}
            spec: {version: "1", type: REST, artifacts: [{type: OPENAPI, path: openapi.yaml}]}
            ---
            apiVersion: reshapr.io/v1
            kind: Secret
            metadata: {name: creds}
            spec: {data: {token: very-secret-token-123}}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: p}
            spec:
              service: {name: s, version: "1"}
              backend: {endpoint: "http://127.0.0.1:9", headers: {X-Static-Key: static-header-secret}}
              backendSecurity: {type: bearer, secretRef: {name: creds, key: token}}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: e}
            spec: {plan: p}
            """)
        try await withRunningGateway(configDirectory: dir.path) { client, _ in
            let status = try await client.get("/status")
            let text = String(buffer: status.body ?? ByteBuffer())
            #expect(text.contains("\"backendSecurity\": \"bearer\""))
            #expect(!text.contains("very-secret-token-123"))
            #expect(!text.contains("static-header-secret"))
        }
    }

    @Test func unknownPathsAre404() async throws {
        try await withRunningGateway(configDirectory: Repository.samples) { client, _ in
            let response = try await client.get("/nope")
            #expect(response.status == .notFound)
        }
    }
}
