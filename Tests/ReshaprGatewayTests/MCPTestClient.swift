import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ReshaprJSON
import ReshaprMCP
import ServiceLifecycle
import Synchronization

/// A minimal MCP client over the test HTTP client, for protocol-level assertions.
struct MCPTestClient {
    let client: TestClient
    let path: String
    var sessionID: String?
    var protocolVersion = "2025-06-18"
    private let nextID = Counter()

    init(_ client: TestClient, path: String) {
        self.client = client
        self.path = path
    }

    func headers(extra: HTTPFields = [:]) -> HTTPFields {
        var fields: HTTPFields = [.contentType: "application/json", .accept: "application/json, text/event-stream"]
        if let sessionID { fields[.mcpSessionID] = sessionID }
        fields[.mcpProtocolVersion] = protocolVersion
        for field in extra { fields[field.name] = field.value }
        return fields
    }

    func post(_ message: JSONValue, headers extra: HTTPFields = [:]) async throws -> TestClient.Response {
        try await client.post(path, headers: headers(extra: extra), body: ByteBuffer(string: message.serialized()))
    }

    mutating func initialize(version: String = "2025-06-18") async throws -> JSONValue {
        let response = try await client.post(
            path, headers: [.contentType: "application/json", .accept: "application/json, text/event-stream"],
            body: ByteBuffer(string: Self.initializeMessage(version).serialized()))
        sessionID = response.headers[.mcpSessionID]
        let body = try json(response)
        if let negotiated = body["result"]?["protocolVersion"]?.stringValue { protocolVersion = negotiated }
        _ = try await post(["jsonrpc": "2.0", "method": "notifications/initialized"])
        return body
    }

    static func initializeMessage(_ version: String) -> JSONValue {
        [
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": ["protocolVersion": .string(version), "capabilities": [:], "clientInfo": ["name": "test", "version": "1"]],
        ]
    }

    func request(_ method: String, _ params: JSONValue = [:]) async throws -> JSONValue {
        let id = nextID.increment() + 1
        return try json(try await post(["jsonrpc": "2.0", "id": .integer(id), "method": .string(method), "params": params]))
    }

    /// The `result` of a `tools/call`.
    func callTool(_ name: String, _ arguments: JSONValue = [:], headers: HTTPFields = [:]) async throws -> JSONValue {
        let response = try await post(["jsonrpc": "2.0", "id": 99, "method": "tools/call", "params": ["name": .string(name), "arguments": arguments]], headers: headers)
        let body = try json(response)
        return body["result"] ?? body
    }
}

/// Runs a Hummingbird application on 127.0.0.1 with an OS-chosen port for the duration of `body`.
func withServer(_ router: Router<BasicRequestContext>, _ body: @Sendable (Int) async throws -> Void) async throws {
    var logger = Logger(label: "test.backend")
    logger.logLevel = .warning
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
    let group = ServiceGroup(services: [app], logger: logger)
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        do {
            try await body(port)
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

/// Counts calls made to a test backend.
final class Counter: Sendable {
    private let value = Mutex(0)

    @discardableResult
    func increment() -> Int {
        value.withLock { v in
            v += 1
            return v
        }
    }

    var count: Int { value.withLock { $0 } }
}
