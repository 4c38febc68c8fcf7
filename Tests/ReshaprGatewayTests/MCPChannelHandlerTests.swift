import Foundation
import HummingbirdTesting
import NIOCore
import NIOPosix
import ReshaprJSON
import Synchronization
import TestSupport
import Testing

/// Requests pipelined on one connection, some answered by the MCP fast path in the channel
/// pipeline and some by Hummingbird's router, must be answered in the order they were sent.
@Suite struct MCPChannelHandlerTests {
    let path = "/mcp/default/petstore/1.0.0"

    /// Collects everything a connection receives.
    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex<[UInt8]>([])

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLock { $0.append(contentsOf: buffer.readableBytesView) }
        }
    }

    /// Splits `bytes` into HTTP/1.1 responses (each with a Content-Length); nil while incomplete.
    static func responses(_ bytes: [UInt8], count: Int) -> [(status: Int, body: String)]? {
        var rest = bytes[...]
        var found: [(Int, String)] = []
        let separator = Array("\r\n\r\n".utf8)
        while found.count < count {
            guard let end = rest.indices.first(where: { rest[$0...].starts(with: separator) }) else { return nil }
            let head = String(decoding: rest[rest.startIndex..<end], as: UTF8.self)
            let lines = head.split(separator: "\r\n")
            let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
            let length = lines.first { $0.lowercased().hasPrefix("content-length:") }.flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            let bodyStart = end + separator.count
            guard rest.endIndex - bodyStart >= length else { return nil }
            found.append((status, String(decoding: rest[bodyStart..<bodyStart + length], as: UTF8.self)))
            rest = rest[(bodyStart + length)...]
        }
        return found
    }

    func request(_ method: String, _ target: String, session: String?, body: String = "") -> String {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-06-18\r\n"
        if let session { text += "Mcp-Session-Id: \(session)\r\n" }
        if method == "POST" { text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        return text + "\r\n" + body
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withRunningGateway(configDirectory: Repository.samples) { client, _ in
            var mcp = MCPTestClient(client, path: path)
            _ = try await mcp.initialize()
            let session = mcp.sessionID
            let listen = try json(try await client.get("/status"))["gateway"]?["listen"]?.stringValue ?? ""
            let port = try #require(listen.split(separator: ":").last.flatMap { Int($0) })
            let collector = Collector()
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
                .connect(host: "127.0.0.1", port: port).get()
            let pipelined =
                request("POST", path, session: session, body: #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
                + request("GET", "/health/live", session: nil)
                + request("POST", path, session: session, body: #"{"jsonrpc":"2.0","id":2,"method":"ping"}"#)
                + request("POST", path, session: session, body: #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"getPetById","arguments":{"petId":7}}}"#)
                + request("GET", "/health/live", session: nil)
            try await channel.writeAndFlush(ByteBuffer(string: pipelined))
            var answers: [(status: Int, body: String)]?
            let deadline = ContinuousClock.now + .seconds(30)
            while answers == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                answers = Self.responses(collector.received.withLock { $0 }, count: 5)
            }
            try await channel.close()
            let all = try #require(answers, "five answers on the connection; got: \(String(decoding: collector.received.withLock { $0 }, as: UTF8.self))")
            #expect(all.map(\.status) == [200, 200, 200, 200, 200])
            let bodies = try all.map { try JSONParser.parse(Array($0.body.utf8)) }
            #expect(bodies[0]["id"] == 1 && bodies[0]["result"]?["tools"]?.arrayValue?.isEmpty == false)
            #expect(bodies[1]["status"] == "live")
            #expect(bodies[2]["id"] == 2 && bodies[2]["result"] == [:])
            #expect(bodies[3]["id"] == 3 && bodies[3]["result"]?["isError"] != true)
            #expect(bodies[4]["status"] == "live")
        }
    }
}
