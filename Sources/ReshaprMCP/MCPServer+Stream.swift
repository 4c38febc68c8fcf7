import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import ReshaprJSON
import Synchronization
import Tracing

/// GET: the notification stream of a session.
extension MCPServer {
    func get(_ request: Request, path: String, client: String?) -> Response {
        guard request.headers[.accept]?.lowercased().utf8.contains("text/event-stream".utf8) == true else {
            return Self.httpError(.notAcceptable, "Accept must include text/event-stream")
        }
        guard let id = request.headers[.mcpSessionID] else { return Self.httpError(.badRequest, "Mcp-Session-Id header is required") }
        guard sessions.touch(id, path: path, client: client) != nil else { return Self.httpError(.notFound, "unknown session") }
        let key: UInt64
        let stream: AsyncStream<ByteBuffer>
        switch sessions.openStream(id) {
        case .success(let opened): (key, stream) = opened
        case .failure(.unknownSession): return Self.httpError(.notFound, "unknown session")
        case .failure(.tooManyForSession):
            reject("streams")
            return Self.httpError(.tooManyRequests, "this session already has \(sessions.maxStreamsPerSession) notification streams open; close one first")
        case .failure(.tooManyOverall):
            reject("streams")
            return Self.httpError(.serviceUnavailable, "the gateway has \(sessions.maxStreams) notification streams open, its limit; retry later")
        }
        let sessions = self.sessions
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .mcpSessionID: id],
            body: ResponseBody { writer in
                // A comment first, so that clients and proxies see the stream open at once.
                try await writer.write(ByteBuffer(string: ": stream open\n\n"))
                for await event in stream {
                    try await writer.write(event)
                }
                sessions.closeStream(id, key: key)
                try await writer.finish(nil)
            })
    }
}
