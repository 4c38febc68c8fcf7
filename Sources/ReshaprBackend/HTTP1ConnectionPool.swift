import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ReshaprConfig

/// A backend's address, parsed from a plan's `backend.endpoint`.
struct BackendTarget: Hashable, Sendable {
    var usesTLS: Bool
    /// Host name or IP address, without IPv6 brackets.
    var host: String
    var port: Int
    /// The endpoint's path, without a trailing slash; request paths are appended to it.
    var basePath: String

    init(endpoint raw: String) throws(BackendFailure) {
        // Messages name the endpoint without any user:password it may carry.
        let endpoint = HTTPBackend.withoutUserInfo(raw)
        guard endpoint == raw else { throw .unreachable("the backend endpoint \(endpoint) carries credentials: use backendSecurity") }
        let rest: Substring
        if endpoint.hasPrefix("http://") {
            usesTLS = false
            rest = endpoint.dropFirst(7)
        } else if endpoint.hasPrefix("https://") {
            usesTLS = true
            rest = endpoint.dropFirst(8)
        } else {
            throw .unreachable("the backend endpoint \(endpoint) is not an http:// or https:// URL")
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = rest[authorityEnd...]
        if let fragment = path.firstIndex(of: "#") { path = path[..<fragment] }
        while path.hasSuffix("/") { path = path.dropLast() }
        basePath = String(path)
        let defaultPort = usesTLS ? 443 : 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .unreachable("the backend endpoint \(endpoint) has an unclosed IPv6 address") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            port = try Self.port(after.isEmpty ? nil : after.hasPrefix(":") ? after.dropFirst() : nil, default: defaultPort, endpoint: endpoint, present: !after.isEmpty)
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            port = try Self.port(authority[authority.index(after: colon)...], default: defaultPort, endpoint: endpoint, present: true)
        } else {
            host = String(authority)
            port = defaultPort
        }
        guard !host.isEmpty else { throw .unreachable("the backend endpoint \(endpoint) has no host") }
    }

    private static func port(_ text: Substring?, default defaultPort: Int, endpoint: String, present: Bool) throws(BackendFailure) -> Int {
        guard present else { return defaultPort }
        guard let text, let port = Int(text), (1...65535).contains(port) else { throw .unreachable("the backend endpoint \(endpoint) has an invalid port") }
        return port
    }

    /// The `Host` header: the port is written only when it is not the scheme's default.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (usesTLS ? 443 : 80) ? name : "\(name):\(port)"
    }
}

/// Keep-alive HTTP/1.1 connections to backends, pooled per event loop.
///
/// The gateway runs its Swift tasks on NIO's event loops (see `reshapr-gateway`'s entry point),
/// so a tool call is already on the event loop that read the caller's request. Sending the
/// backend request on a connection of that same loop, and resuming there when the answer
/// arrives, keeps a call on one thread from the caller's request to its response. A general
/// client's shared pool hands out connections of any loop and costs two thread hops per call,
/// which was most of the gateway's added latency.
final class HTTP1ConnectionPool: Sendable {
    /// Idle connections kept per backend and event loop; more are closed when released.
    static let maxIdlePerLoop = 64
    static let idleTimeout: TimeAmount = .seconds(60)
    static let connectTimeout: TimeAmount = .seconds(10)

    private let group: MultiThreadedEventLoopGroup
    private let loops: [ObjectIdentifier: NIOLoopBoundBox<LoopPool>]
    private let ordered: [NIOLoopBoundBox<LoopPool>]
    private let tlsContexts = NIOLockedValueBox<[TLSSettings?: NIOSSLContext]>([:])

    init(group: MultiThreadedEventLoopGroup = .singleton) {
        self.group = group
        ordered = group.makeIterator().map { eventLoop in .makeBoxSendingValue(LoopPool(eventLoop: eventLoop), eventLoop: eventLoop) }
        loops = Dictionary(uniqueKeysWithValues: ordered.map { (ObjectIdentifier($0.eventLoop), $0) })
    }

    /// Sends one request and collects its whole response, on the caller's event loop when it
    /// runs on one of ours.
    func execute(
        method: HTTPMethod, target: BackendTarget, tls: TLSSettings?, pathAndQuery: String, headers: HTTPHeaders, body: [UInt8]?,
        timeout: Duration, maxResponseBytes: Int
    ) async throws(BackendFailure) -> BackendResponse {
        let sslContext = target.usesTLS ? try context(for: tls) : nil
        // Off our loops (Swift's own thread pool), a backend's calls share one loop's connections.
        let pool = MultiThreadedEventLoopGroup.currentEventLoop.flatMap { loops[ObjectIdentifier($0)] } ?? fallback(for: target)
        let eventLoop = pool.eventLoop
        let uri = target.basePath + pathAndQuery
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri.isEmpty ? "/" : uri, headers: headers)
        head.headers.replaceOrAdd(name: "Host", value: target.hostHeader)
        if let body {
            head.headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
        } else if method == .POST || method == .PUT || method == .PATCH {
            head.headers.replaceOrAdd(name: "Content-Length", value: "0")
        }
        let request = PendingRequest.Parameters(
            key: .init(target: target, tls: tls), sslContext: sslContext, head: head, body: body.map { ByteBuffer(bytes: $0) },
            timeout: timeout, maxResponseBytes: maxResponseBytes)
        let promise = eventLoop.makePromise(of: BackendResponse.self)
        let pending = NIOLoopBoundBox.makeEmptyBox(valueType: PendingRequest.self, eventLoop: eventLoop)
        let start: @Sendable () -> Void = {
            let call = PendingRequest(parameters: request, promise: promise)
            pending.value = call
            pool.value.start(call)
        }
        if eventLoop.inEventLoop { start() } else { eventLoop.execute(start) }
        do {
            return try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                eventLoop.execute { pending.value?.fail(.cancelled) }
            }
        } catch let error as BackendFailure {
            throw error
        } catch {
            throw .unreachable(BackendClient.describe(error))
        }
    }

    private func fallback(for target: BackendTarget) -> NIOLoopBoundBox<LoopPool> {
        ordered[Int(UInt(bitPattern: target.hashValue) % UInt(ordered.count))]
    }

    /// Closes the idle connections; calls in flight finish on theirs, which then close.
    func shutdown() async {
        var closing: [EventLoopFuture<Void>] = []
        for (_, pool) in loops {
            closing.append(pool.eventLoop.submit { pool.value.shutdown() }.flatMap { $0 })
        }
        for future in closing { try? await future.get() }
    }

    private func context(for tls: TLSSettings?) throws(BackendFailure) -> NIOSSLContext {
        if let context = tlsContexts.withLockedValue({ $0[tls] }) { return context }
        do {
            let context = try NIOSSLContext(configuration: try BackendClient.tlsConfiguration(tls))
            tlsContexts.withLockedValue { $0[tls] = context }
            return context
        } catch let error as BackendFailure {
            throw error
        } catch {
            throw .unreachable("cannot set up TLS: \(error)")
        }
    }
}

/// Connections to one backend share a pool when they go to the same place with the same TLS settings.
struct PoolKey: Hashable {
    var target: BackendTarget
    var tls: TLSSettings?
}

/// One call: its response promise, its deadline and the connection it is on. Lives on one event loop.
final class PendingRequest {
    struct Parameters: Sendable {
        var key: PoolKey
        var sslContext: NIOSSLContext?
        var head: HTTPRequestHead
        var body: ByteBuffer?
        var timeout: Duration
        var maxResponseBytes: Int
    }

    let parameters: Parameters
    private let promise: EventLoopPromise<BackendResponse>
    private(set) var finished = false
    var connection: BackendConnection?
    var deadline: Scheduled<Void>?

    init(parameters: Parameters, promise: EventLoopPromise<BackendResponse>) {
        self.parameters = parameters
        self.promise = promise
    }

    var isReplayable: Bool {
        switch parameters.head.method {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE: return true
        default: return false
        }
    }

    func succeed(_ response: BackendResponse) {
        guard !finished else { return }
        finish()
        promise.succeed(response)
    }

    /// Fails the call; the connection it was on, if any, is closed, since its state is unknown.
    func fail(_ failure: BackendFailure) {
        guard !finished else { return }
        finish()
        if let connection {
            self.connection = nil
            connection.abandon()
        }
        promise.fail(failure)
    }

    private func finish() {
        finished = true
        deadline?.cancel()
        deadline = nil
    }
}

/// The idle connections of one event loop, by backend. Touched only on that loop.
final class LoopPool {
    let eventLoop: any EventLoop
    private var idle: [PoolKey: [BackendConnection]] = [:]
    private var isShutdown = false
    /// Closes connections idle for longer than the idle timeout; one timer per loop rather than
    /// one per connection, which a call would schedule and cancel each time.
    private var sweep: Scheduled<Void>?

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func start(_ call: PendingRequest) {
        guard !isShutdown else { return call.fail(.cancelled) }
        let timeout = call.parameters.timeout
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        // The cycle call -> deadline -> call ends when the call finishes, which cancels the deadline.
        call.deadline = eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(nanoseconds)) {
            call.fail(.timeout(timeout))
        }
        run(call, reuse: true)
    }

    private func run(_ call: PendingRequest, reuse: Bool) {
        if reuse, let connection = checkout(call.parameters.key) {
            send(call, on: connection, reused: true)
            return
        }
        connect(call.parameters).assumeIsolated().whenComplete { result in
            switch result {
            case .failure(let error):
                call.fail(.unreachable(BackendClient.describe(error)))
            case .success(let connection):
                if call.finished {
                    self.release(connection, keepAlive: true)
                } else {
                    self.send(call, on: connection, reused: false)
                }
            }
        }
    }

    private func send(_ call: PendingRequest, on connection: BackendConnection, reused: Bool) {
        call.connection = connection
        connection.send(call) { outcome in
            call.connection = nil
            switch outcome {
            case .response(let response, let keepAlive):
                self.release(connection, keepAlive: keepAlive)
                call.succeed(response)
            case .closedBeforeResponse where reused && call.isReplayable:
                // The backend closed a kept-alive connection as we reused it: try a new one, once.
                connection.abandon()
                self.run(call, reuse: false)
            case .closedBeforeResponse(let failure), .failed(let failure):
                connection.abandon()
                call.fail(failure)
            }
        }
    }

    private func checkout(_ key: PoolKey) -> BackendConnection? {
        while var connections = idle[key], let connection = connections.popLast() {
            idle[key] = connections.isEmpty ? nil : connections
            if connection.channel.isActive { return connection }
            connection.abandon()
        }
        return nil
    }

    private func release(_ connection: BackendConnection, keepAlive: Bool) {
        let key = connection.key
        guard keepAlive, !isShutdown, connection.channel.isActive, idle[key, default: []].count < HTTP1ConnectionPool.maxIdlePerLoop else {
            connection.abandon()
            return
        }
        connection.idleSince = .now()
        idle[key, default: []].append(connection)
        scheduleSweep()
        // A backend that closes an idle connection takes it out of the pool at once.
        connection.onClose = { [weak self, weak connection] in
            guard let self, let connection else { return }
            self.remove(connection)
        }
    }

    private func remove(_ connection: BackendConnection) {
        guard var connections = idle[connection.key], let index = connections.firstIndex(where: { $0 === connection }) else { return }
        connections.remove(at: index)
        idle[connection.key] = connections.isEmpty ? nil : connections
    }

    private func scheduleSweep() {
        guard sweep == nil else { return }
        sweep = eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(HTTP1ConnectionPool.idleTimeout.nanoseconds / 4)) { [weak self] in
            guard let self else { return }
            self.sweep = nil
            let expired = NIODeadline.now() - HTTP1ConnectionPool.idleTimeout
            for (key, connections) in self.idle {
                let (stale, fresh) = (connections.filter { $0.idleSince < expired }, connections.filter { $0.idleSince >= expired })
                self.idle[key] = fresh.isEmpty ? nil : fresh
                for connection in stale { connection.abandon() }
            }
            if !self.idle.isEmpty { self.scheduleSweep() }
        }
    }

    private func connect(_ parameters: PendingRequest.Parameters) -> EventLoopFuture<BackendConnection> {
        let target = parameters.key.target
        let sslContext = parameters.sslContext
        let key = parameters.key
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(HTTP1ConnectionPool.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let sslContext {
                        let serverName = target.host.contains(":") || target.host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : target.host
                        try sync.addHandler(try NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    }
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(BackendResponseHandler())
                }
            }
            .connect(host: target.host, port: target.port)
            .assumeIsolated()
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: BackendResponseHandler.self)
                let connection = BackendConnection(key: key, channel: channel, handler: handler)
                channel.closeFuture.assumeIsolated().whenComplete { _ in connection.closed() }
                return connection
            }
            .nonisolated()
    }

    func shutdown() -> EventLoopFuture<Void> {
        isShutdown = true
        sweep?.cancel()
        sweep = nil
        let connections = idle.values.flatMap { $0 }
        idle = [:]
        for connection in connections { connection.abandon() }
        return EventLoopFuture.andAllComplete(connections.map { $0.channel.closeFuture }, on: eventLoop)
    }
}

/// One kept-alive connection to a backend, and the request it carries, if any.
final class BackendConnection {
    enum Outcome {
        case response(BackendResponse, keepAlive: Bool)
        /// Closed, or failed, with not a byte of the answer read: the request may be sent again.
        case closedBeforeResponse(BackendFailure)
        case failed(BackendFailure)
    }

    let key: PoolKey
    let channel: any Channel
    private let handler: BackendResponseHandler
    var idleSince = NIODeadline.now()
    var onClose: (() -> Void)?

    init(key: PoolKey, channel: any Channel, handler: BackendResponseHandler) {
        self.key = key
        self.channel = channel
        self.handler = handler
    }

    /// Writes the request head, body and end in one flush; `done` runs once, on the loop.
    func send(_ call: PendingRequest, done: @escaping (Outcome) -> Void) {
        onClose = nil
        handler.expect(maxBytes: call.parameters.maxResponseBytes, done: done)
        let pipeline = channel.pipeline.syncOperations
        pipeline.write(NIOAny(HTTPClientRequestPart.head(call.parameters.head)), promise: nil)
        if let body = call.parameters.body, body.readableBytes > 0 {
            pipeline.write(NIOAny(HTTPClientRequestPart.body(.byteBuffer(body))), promise: nil)
        }
        pipeline.writeAndFlush(NIOAny(HTTPClientRequestPart.end(nil)), promise: nil)
    }

    /// Closes the connection without waiting for anything on it.
    func abandon() {
        handler.cancel()
        channel.close(promise: nil)
    }

    func closed() {
        handler.channelClosed()
        onClose?()
        onClose = nil
    }
}

/// Collects one response at a time into a `BackendResponse`.
final class BackendResponseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var done: ((BackendConnection.Outcome) -> Void)?
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?
    private var maxBytes = 0
    private var received = false
    private var interim = false

    func expect(maxBytes: Int, done: @escaping (BackendConnection.Outcome) -> Void) {
        self.maxBytes = maxBytes
        self.done = done
        head = nil
        body = nil
        received = false
        interim = false
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received = true
        guard done != nil else { return }
        switch unwrapInboundIn(data) {
        case .head(let responseHead):
            // A 1xx answer is interim: the real one follows its end.
            interim = (100..<200).contains(responseHead.status.code)
            if !interim { head = responseHead }
        case .body(var chunk):
            let size = (body?.readableBytes ?? 0) + chunk.readableBytes
            guard size <= maxBytes else {
                finish(.failed(.responseTooLarge(limit: maxBytes)))
                context.close(promise: nil)
                return
            }
            if body == nil { body = chunk } else { body?.writeBuffer(&chunk) }
        case .end:
            if interim {
                interim = false
                return
            }
            guard let head else {
                finish(.failed(.unreachable("the backend answered without a status line")))
                return
            }
            let response = BackendResponse(
                status: Int(head.status.code), headers: head.headers.map { ($0.name, $0.value) },
                body: body.map { Array($0.readableBytesView) } ?? [])
            finish(.response(response, keepAlive: head.isKeepAlive))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if done != nil {
            let failure = BackendFailure.unreachable(BackendClient.describe(error))
            finish(received ? .failed(failure) : .closedBeforeResponse(failure))
        }
        context.close(promise: nil)
    }

    func channelClosed() {
        guard done != nil else { return }
        finish(
            received
                ? .failed(.unreachable("the backend closed the connection in the middle of its answer"))
                : .closedBeforeResponse(.unreachable("the backend closed the connection before answering")))
    }

    func cancel() {
        done = nil
    }

    private func finish(_ outcome: BackendConnection.Outcome) {
        let done = self.done
        self.done = nil
        head = nil
        body = nil
        done?(outcome)
    }
}
