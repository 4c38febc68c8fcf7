import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ReshaprBackend
import ReshaprConfig
import ReshaprGateway
import ReshaprJSON
import ReshaprMCP
import Synchronization

extension FuzzTarget {
    /// The repository's `samples/`, found from this source file (or `RESHAPR_SAMPLES`).
    static var samples: String {
        if let path = ProcessInfo.processInfo.environment["RESHAPR_SAMPLES"] { return path }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/samples"
    }

    /// The MCP server and the endpoints of the bundled samples (mock backends), built once.
    struct MCPHarness: Sendable {
        let server: MCPServer
        let routing: RoutingTable
        let paths: [String]
        /// Sessions of each revision, created once, so that inputs reach session-bound code.
        let sessions: [String]

        init?() {
            var logger = Logger(label: "fuzz")
            logger.logLevel = .critical
            guard let configuration = try? ConfigLoader(root: FuzzTarget.samples).load(), !configuration.expositions.isEmpty else { return nil }
            routing = RoutingTable.build(configuration, backend: BackendClient(), logger: logger)
            let paths = routing.endpoints.keys.sorted()
            self.paths = paths
            let store = SessionStore(maxSessions: 64)
            server = MCPServer(sessions: store, logger: logger) {
                MCPServer.Options(maxBodyBytes: 1 << 20, pageSize: 3, rateLimit: nil)
            }
            sessions = MCPVersion.supported.flatMap { version in paths.map { store.create(path: $0, protocolVersion: version) } }
        }
    }

    static let mcpHarness = MCPHarness()

    /// The first byte picks the endpoint, the session (none, or one of each revision), the
    /// method and the Accept header; the rest is the body. Blocks its thread until the request
    /// is answered: call it from a thread of its own (as libFuzzer does), never from a task.
    static func fuzzMCP(_ bytes: [UInt8]) {
        guard let harness = mcpHarness, let selector = bytes.first, !harness.paths.isEmpty else { return }
        let path = harness.paths[Int(selector & 0x3) % harness.paths.count]
        guard let provider = harness.routing.endpoints[path] else { return }
        var fields: HTTPFields = [.contentType: "application/json", .accept: selector & 0x40 == 0 ? "application/json, text/event-stream" : "text/event-stream"]
        let session = Int(selector >> 2 & 0x7)
        if session > 0 {
            fields[HTTPField.Name("Mcp-Session-Id")!] = harness.sessions[(session - 1) % harness.sessions.count]
        }
        let method: HTTPRequest.Method = selector & 0x80 == 0 ? .post : [.get, .delete, .put][Int(selector) % 3]
        let request = Request(
            head: HTTPRequest(method: method, scheme: "http", authority: "localhost", path: path, headerFields: fields),
            body: RequestBody(buffer: ByteBuffer(bytes: bytes.dropFirst())))
        let done = DispatchSemaphore(value: 0)
        Task {
            let response = await harness.server.handle(request, path: path, provider: provider, remoteAddress: "127.0.0.1")
            _ = response.status
            done.signal()
        }
        done.wait()
    }
}
