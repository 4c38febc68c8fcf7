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
        if session == 7 {
            // A 2026-07-28 client: the request headers mirror the body, so that inputs get past
            // the header checks to the methods.
            modernHeaders(for: Array(bytes.dropFirst()), provider: provider, into: &fields)
        } else if session > 0 {
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

    /// `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` as a conforming client
    /// derives them from the body (values a header cannot carry are left out).
    static func modernHeaders(for body: [UInt8], provider: any MCPToolProvider, into fields: inout HTTPFields) {
        guard let message = try? JSONParser.parse(body) else { return }
        func set(_ name: String, _ value: String?) {
            guard let value, let field = HTTPField.Name(name), value.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else { return }
            fields[field] = value
        }
        let params = message["params"]
        set("MCP-Protocol-Version", params?["_meta"]?["io.modelcontextprotocol/protocolVersion"]?.stringValue)
        set("Mcp-Method", message["method"]?.stringValue)
        set("Mcp-Name", (params?["name"] ?? params?["uri"])?.stringValue)
        if let name = params?["name"]?.stringValue, case .object(let arguments)? = params?["arguments"] {
            for header in provider.paramHeaders(ofTool: name) {
                var value: JSONValue? = .object(arguments)
                for key in header.path { value = value?[key] }
                switch value {
                case .string(let text)?: set("Mcp-Param-" + header.name, text)
                case .integer(let number)?: set("Mcp-Param-" + header.name, String(number))
                case .bool(let flag)?: set("Mcp-Param-" + header.name, flag ? "true" : "false")
                default: break
                }
            }
        }
    }
}
