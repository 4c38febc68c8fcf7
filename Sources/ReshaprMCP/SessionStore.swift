import Foundation
import NIOCore
import ReshaprJSON
import Synchronization

/// MCP sessions: created by `initialize`, bound to one endpoint path, ended by DELETE, by idle
/// expiry, or when the store is full and the session is the least recently used.
public final class SessionStore: Sendable {
    struct Session {
        var path: String
        var protocolVersion: String
        var lastUsed: ContinuousClock.Instant
        /// Open GET streams, for server-to-client notifications.
        var streams: [UInt64: AsyncStream<ByteBuffer>.Continuation] = [:]
        /// Tool calls in flight, by JSON-RPC request id, for `notifications/cancelled`.
        var inFlight: [JSONValue: @Sendable () -> Void] = [:]
    }

    private let state = Mutex<(sessions: [String: Session], nextStream: UInt64)>(([:], 0))
    public let maxSessions: Int
    public let idleTimeout: Duration

    public init(maxSessions: Int = 10_000, idleTimeout: Duration = .seconds(3600)) {
        self.maxSessions = maxSessions
        self.idleTimeout = idleTimeout
    }

    /// 128 random bits from the system's secure generator, as hex.
    static func newSessionID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    public func create(path: String, protocolVersion: String) -> String {
        let id = Self.newSessionID()
        let now = ContinuousClock.now
        let evicted: [Session] = state.withLock { state in
            var evicted: [Session] = []
            for (key, session) in state.sessions where now - session.lastUsed > idleTimeout {
                if let removed = state.sessions.removeValue(forKey: key) { evicted.append(removed) }
            }
            while state.sessions.count >= maxSessions, let oldest = state.sessions.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
                if let removed = state.sessions.removeValue(forKey: oldest) { evicted.append(removed) }
            }
            state.sessions[id] = Session(path: path, protocolVersion: protocolVersion, lastUsed: now)
            return evicted
        }
        for session in evicted { Self.close(session) }
        return id
    }

    /// The session's negotiated version if it exists on `path`; refreshes its idle clock.
    func touch(_ id: String, path: String) -> String? {
        state.withLock { state in
            guard var session = state.sessions[id], session.path == path else { return nil }
            session.lastUsed = .now
            state.sessions[id] = session
            return session.protocolVersion
        }
    }

    @discardableResult
    public func remove(_ id: String) -> Bool {
        let removed = state.withLock { $0.sessions.removeValue(forKey: id) }
        if let removed { Self.close(removed) }
        return removed != nil
    }

    public var count: Int { state.withLock { $0.sessions.count } }

    /// Tool calls in flight across all sessions.
    public var callsInFlight: Int { state.withLock { $0.sessions.values.reduce(0) { $0 + $1.inFlight.count } } }

    /// Notification (GET) streams open across all sessions.
    public var openStreams: Int { state.withLock { $0.sessions.values.reduce(0) { $0 + $1.streams.count } } }

    /// Opens a notification stream for a session; `nil` when the session does not exist.
    func openStream(_ id: String) -> (UInt64, AsyncStream<ByteBuffer>)? {
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let key: UInt64? = state.withLock { state in
            guard state.sessions[id] != nil else { return nil }
            state.nextStream += 1
            state.sessions[id]?.streams[state.nextStream] = continuation
            return state.nextStream
        }
        guard let key else { return nil }
        return (key, stream)
    }

    func closeStream(_ id: String, key: UInt64) {
        let continuation = state.withLock { $0.sessions[id]?.streams.removeValue(forKey: key) }
        continuation?.finish()
    }

    func registerCall(_ session: String, requestID: JSONValue, cancel: @escaping @Sendable () -> Void) {
        state.withLock { $0.sessions[session]?.inFlight[requestID] = cancel }
    }

    func finishCall(_ session: String, requestID: JSONValue) {
        _ = state.withLock { $0.sessions[session]?.inFlight.removeValue(forKey: requestID) }
    }

    func cancelCall(_ session: String, requestID: JSONValue) {
        let cancel = state.withLock { $0.sessions[session]?.inFlight.removeValue(forKey: requestID) }
        cancel?()
    }

    /// Tells the sessions of `paths` that their tool list changed; returns how many sessions had a stream open.
    @discardableResult
    public func notifyToolsChanged(paths: Set<String>) -> Int {
        notify(paths: paths, JSONRPC.notification("notifications/tools/list_changed"))
    }

    /// Sends a notification on every open stream of the sessions of `paths`; returns how many sessions got it.
    @discardableResult
    func notify(paths: Set<String>, _ message: JSONValue) -> Int {
        let event = SSE.event(message)
        return state.withLock { state in
            var reached = 0
            for session in state.sessions.values where paths.contains(session.path) {
                if !session.streams.isEmpty { reached += 1 }
                for continuation in session.streams.values { continuation.yield(event) }
            }
            return reached
        }
    }

    /// Ends the notification streams of sessions whose endpoint is no longer served, so that
    /// their clients notice. The sessions themselves stay (and expire when idle): their calls in
    /// flight finish, and they work again if the endpoint comes back.
    public func closeStreams(notIn paths: Set<String>) {
        let continuations = state.withLock { state in
            var all: [AsyncStream<ByteBuffer>.Continuation] = []
            for (key, session) in state.sessions where !paths.contains(session.path) && !session.streams.isEmpty {
                all.append(contentsOf: session.streams.values)
                state.sessions[key]?.streams.removeAll()
            }
            return all
        }
        for continuation in continuations { continuation.finish() }
    }

    /// Ends every stream (graceful shutdown must not wait for idle GET streams).
    public func closeAllStreams() {
        let continuations = state.withLock { state in
            var all: [AsyncStream<ByteBuffer>.Continuation] = []
            for key in state.sessions.keys {
                all.append(contentsOf: state.sessions[key]?.streams.values.map { $0 } ?? [])
                state.sessions[key]?.streams.removeAll()
            }
            return all
        }
        for continuation in continuations { continuation.finish() }
    }

    private static func close(_ session: Session) {
        for continuation in session.streams.values { continuation.finish() }
        for cancel in session.inFlight.values { cancel() }
    }
}

/// Server-sent events framing.
enum SSE {
    static func event(_ message: JSONValue) -> ByteBuffer {
        ByteBuffer(string: "event: message\ndata: \(message.serialized())\n\n")
    }
}
