import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Answers POSTs to MCP endpoints from the connection's channel pipeline, ahead of Hummingbird's
/// router; every other request (GET streams, DELETE, health, status, metrics) goes on to it.
///
/// Tool calls are the gateway's hot path. Hummingbird hands each request to an async sequence
/// and its answer back through an async writer, which cost as much CPU per request as the rest
/// of a tool call; here a POST is collected in the handler and answered by one task, whose
/// head, body and end go out in one flush. Both paths run the same `MCPServer.handle`.
///
/// Order on a connection is kept: while a request is answered here, later requests (pipelining)
/// wait in the handler; while Hummingbird answers one, later requests go to Hummingbird too.
/// A graceful shutdown's quiesce event waits for the answer in progress.
///
/// A client that closes the connection while its answer is produced cancels it: for MCP
/// 2026-07-28, closing a response stream is how a client cancels a request, and the backend
/// call in flight is cancelled with it. Event-stream answers (progress, `subscriptions/listen`)
/// go out event by event.
public final class MCPChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        /// Collecting the body of a POST answered here; bytes past the limit are dropped.
        case collecting(head: HTTPRequest, path: String, provider: any MCPToolProvider, body: ByteBuffer)
        case answering
        /// Forwarding a request's parts to Hummingbird.
        case forwarding
    }

    private let server: MCPServer
    private let resolve: @Sendable (String) -> (path: String, provider: any MCPToolProvider)?
    private let serverName: String?
    private var state = State.idle
    /// Requests forwarded to Hummingbird whose answer has not been written out yet.
    private var forwardedAwaitingAnswer = 0
    /// Parts read while an answer is being produced here.
    private var queued: [HTTPRequestPart] = []
    private var quiesceHeld: Any?
    /// A read asked for while answering with `maxQueued` parts already queued: held, so that a
    /// client pipelining without end cannot fill the queue faster than it is answered. Reads
    /// go on below that, so that a client closing its connection is noticed while it waits.
    private var readHeld = false
    private static let maxQueued = 16
    /// The task producing the answer in progress, cancelled if the client goes away.
    private var answering: Task<Void, Never>?

    public init(server: MCPServer, serverName: String?, resolve: @escaping @Sendable (String) -> (path: String, provider: any MCPToolProvider)?) {
        self.server = server
        self.serverName = serverName
        self.resolve = resolve
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .answering = state {
            queued.append(part)
        } else {
            process(part, context: context)
        }
    }

    private func process(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let head)):
            if forwardedAwaitingAnswer == 0, let (path, provider) = answerable(head) {
                state = .collecting(head: head, path: path, provider: provider, body: context.channel.allocator.buffer(capacity: 0))
            } else {
                forwardedAwaitingAnswer += 1
                state = .forwarding
                context.fireChannelRead(wrapInboundOut(part))
            }
        case (.collecting(let head, let path, let provider, var body), .body(var chunk)):
            state = .idle
            // One byte over the limit is enough for MCPServer to answer 413.
            if body.readableBytes <= server.options().maxBodyBytes { body.writeBuffer(&chunk) }
            state = .collecting(head: head, path: path, provider: provider, body: body)
        case (.collecting(let head, let path, let provider, let body), .end):
            state = .answering
            answer(Request(head: head, body: RequestBody(buffer: body)), path: path, provider: provider, context: context)
        case (.forwarding, .end):
            state = .idle
            context.fireChannelRead(wrapInboundOut(part))
        default:
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    /// POSTs to a known MCP endpoint that keep the connection open (`Connection: keep-alive`,
    /// which many clients send, or nothing).
    private func answerable(_ head: HTTPRequest) -> (String, any MCPToolProvider)? {
        guard head.method == .post, head.headerFields[.expect] == nil, let target = head.path else { return nil }
        if let connection = head.headerFields[.connection], connection.lowercased() != "keep-alive" { return nil }
        return resolve(MCPServer.endpointPath(target))
    }

    private func answer(_ request: Request, path: String, provider: any MCPToolProvider, context: ChannelHandlerContext) {
        let remoteAddress = context.channel.remoteAddress?.ipAddress
        let writer = ChannelResponseWriter(handler: NIOLoopBound(self, eventLoop: context.eventLoop), context: NIOLoopBound(context, eventLoop: context.eventLoop))
        let server = self.server
        let serverName = self.serverName
        answering = Task {
            var response = await server.handle(request, path: path, provider: provider, remoteAddress: remoteAddress)
            response.headers[.date] = HTTPDate.now
            if let serverName { response.headers[.server] = serverName }
            await writer.write(response)
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        answering?.cancel()
        answering = nil
        context.fireChannelInactive()
    }

    /// The answer is out: requests read meanwhile are handled in order, then a held quiesce goes on.
    fileprivate func answered(context: ChannelHandlerContext) {
        state = .idle
        answering = nil
        let replaying = !queued.isEmpty
        while !queued.isEmpty, !isAnswering {
            process(queued.removeFirst(), context: context)
        }
        // Hummingbird's async channel hands reads over at read-complete: replayed parts need one.
        if replaying { context.fireChannelReadComplete() }
        if !isAnswering, readHeld {
            readHeld = false
            context.read()
        }
        if !isAnswering, let event = quiesceHeld {
            quiesceHeld = nil
            context.fireUserInboundEventTriggered(event)
        }
    }

    private var isAnswering: Bool {
        if case .answering = state { return true }
        return false
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), forwardedAwaitingAnswer > 0 { forwardedAwaitingAnswer -= 1 }
        context.write(data, promise: promise)
    }

    public func read(context: ChannelHandlerContext) {
        if isAnswering, queued.count >= Self.maxQueued {
            readHeld = true
        } else {
            context.read()
        }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, isAnswering {
            quiesceHeld = event
            return
        }
        // The client closed its side while waiting: it will read no answer, so the work stops.
        if case ChannelEvent.inputClosed? = event as? ChannelEvent, isAnswering {
            answering?.cancel()
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Writes one `Response` to the channel. JSON answers are collected and go out in one flush
/// (head, body and end); event streams go out event by event, each flushed as it is written.
private struct ChannelResponseWriter: Sendable {
    let handler: NIOLoopBound<MCPChannelHandler>
    let context: NIOLoopBound<ChannelHandlerContext>

    func write(_ response: Response) async {
        let head = response.head
        if head.headerFields[.contentType]?.hasPrefix("text/event-stream") == true {
            onLoop { context in context.writeAndFlush(NIOAny(HTTPResponsePart.head(head)), promise: nil) }
            try? await response.body.write(StreamingWriter(writer: self))
            onLoop { context in
                context.writeAndFlush(NIOAny(HTTPResponsePart.end(nil)), promise: nil)
                handler.value.answered(context: context)
            }
            return
        }
        let collector = BodyCollector()
        try? await response.body.write(collector)
        let buffers = collector.buffers.withLock { $0 }
        onLoop { context in
            context.write(NIOAny(HTTPResponsePart.head(head)), promise: nil)
            for buffer in buffers { context.write(NIOAny(HTTPResponsePart.body(buffer)), promise: nil) }
            context.writeAndFlush(NIOAny(HTTPResponsePart.end(nil)), promise: nil)
            handler.value.answered(context: context)
        }
    }

    /// Runs on the channel's event loop, in order with earlier calls.
    fileprivate func onLoop(_ body: @escaping @Sendable (ChannelHandlerContext) -> Void) {
        let context = self.context
        if context.eventLoop.inEventLoop {
            body(context.value)
        } else {
            context.eventLoop.execute { body(context.value) }
        }
    }

    private final class BodyCollector: ResponseBodyWriter, Sendable {
        let buffers = Mutex<[ByteBuffer]>([])

        func write(_ buffer: ByteBuffer) async throws {
            buffers.withLock { $0.append(buffer) }
        }

        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    /// Each event is flushed as it comes; once the connection is gone, writing throws, which ends
    /// the stream's producer.
    private struct StreamingWriter: ResponseBodyWriter {
        let writer: ChannelResponseWriter

        mutating func write(_ buffer: ByteBuffer) async throws {
            try Task.checkCancellation()
            let promise = writer.context.eventLoop.makePromise(of: Void.self)
            writer.onLoop { context in context.writeAndFlush(NIOAny(HTTPResponsePart.body(buffer)), promise: promise) }
            try await promise.futureResult.get()
        }

        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}

/// `Date` header values (RFC 9110 IMF-fixdate), formatted once per second.
enum HTTPDate {
    private static let cache = Mutex<(second: Int, text: String)>((0, ""))
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static var now: String {
        let second = Int(Date().timeIntervalSince1970)
        return cache.withLock { cache in
            if cache.second != second { cache = (second, format(second)) }
            return cache.text
        }
    }

    static func format(_ secondsSince1970: Int) -> String {
        var time = time_t(secondsSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
