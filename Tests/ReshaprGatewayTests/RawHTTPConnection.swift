import NIOCore
import NIOPosix
import ReshaprJSON

/// A plain TCP connection for what an HTTP test client hides: reading a response as it streams,
/// and closing the connection halfway through an answer.
struct RawHTTPConnection {
    struct Closed: Error, CustomStringConvertible {
        var received: String
        var description: String { "the connection closed (by the server, or by the timeout); received:\n\(received)" }
    }

    /// What the server sent so far, as text.
    private(set) var received = ""
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    /// Connects to 127.0.0.1:`port`, runs `body`, and closes the connection when it returns,
    /// whatever the server is doing. After `timeout` the connection is closed under `body`,
    /// whose reads then fail with what was received.
    static func with(port: Int, timeout: Duration = .seconds(20), _ body: @Sendable (inout RawHTTPConnection) async throws -> Void) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        let watchdog = Task { [channel = channel.channel] in
            try await Task.sleep(for: timeout)
            try await channel.close()
        }
        defer { watchdog.cancel() }
        try await channel.executeThenClose { inbound, outbound in
            var connection = RawHTTPConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            try await body(&connection)
        }
    }

    /// Sends a POST with a JSON body.
    func post(_ path: String, headers: [(String, String)], body: JSONValue) async throws {
        let bytes = body.serialized()
        var text = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(bytes.utf8.count)\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n" + bytes
        try await outbound.write(ByteBuffer(string: text))
    }

    /// Reads until `condition` holds for everything received.
    @discardableResult
    mutating func read(until condition: (String) -> Bool) async throws -> String {
        while !condition(received) {
            guard let chunk = try await inbound.next() else { throw Closed(received: received) }
            received += String(buffer: chunk)
        }
        return received
    }

    /// The JSON-RPC messages of the SSE events received so far.
    var events: [JSONValue] { Self.events(in: received) }

    /// The JSON-RPC messages of the complete SSE `data:` lines of `text`.
    static func events(in text: String) -> [JSONValue] {
        text.components(separatedBy: "\n").compactMap { line in
            guard line.hasPrefix("data: ") else { return nil }
            return try? JSONParser.parse(Array(line.dropFirst(6).utf8))
        }
    }
}
