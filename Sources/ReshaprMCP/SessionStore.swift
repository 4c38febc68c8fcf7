import Foundation
import NIOCore
import ReshaprJSON
import Synchronization

/// MCP sessions: created by `initialize`, bound to one endpoint path, ended by DELETE, by idle
/// expiry, or by eviction of the least recently used.
///
/// Eviction is fair between endpoints: an endpoint holds at most `maxSessionsPerEndpoint`
/// sessions, and past its cap a new session evicts one of the same endpoint; when the whole
/// store is full, the endpoint holding the most sessions gives one up. A flood of anonymous
/// `initialize` on one open endpoint therefore never ends the sessions of another.
public final class SessionStore: Sendable {
    struct Session {
        var path: String
        var protocolVersion: String
        /// The client that opened it (see ``MCPAuthorization``); another client cannot use it.
        var client: String?
        var lastUsed: ContinuousClock.Instant
        /// Open GET streams, for server-to-client notifications.
        var streams: [UInt64: AsyncStream<ByteBuffer>.Continuation] = [:]
        /// Tool calls in flight, by JSON-RPC request id, for `notifications/cancelled`.
        var inFlight: [JSONValue: @Sendable () -> Void] = [:]
        /// The capabilities the client declared at `initialize`.
        var clientCapabilities: JSONValue = .emptyObject
        /// What the user gave when asked (``MCPUserInput``), by key, for the session's lifetime.
        var userInputs: [String: String] = [:]
        /// Requests we sent the client (elicitation), waiting for its answer, by our request id.
        var awaiting: [String: CheckedContinuation<JSONValue?, Never>] = [:]
    }

    struct State {
        var sessions: [String: Session] = [:]
        /// Sessions per endpoint path.
        var perPath: [String: Int] = [:]
        var nextStream: UInt64 = 0
        var openStreams = 0
        var lastSweep: ContinuousClock.Instant = .now

        mutating func insert(_ id: String, _ session: Session) {
            sessions[id] = session
            perPath[session.path, default: 0] += 1
        }

        mutating func remove(_ id: String) -> Session? {
            guard let session = sessions.removeValue(forKey: id) else { return nil }
            let left = (perPath[session.path] ?? 1) - 1
            perPath[session.path] = left > 0 ? left : nil
            openStreams -= session.streams.count
            return session
        }

        /// The least recently used session of `path`.
        /// Room for one more session on `path`: past the endpoint's cap, its oldest session goes;
        /// when the store is full, the busiest endpoint gives one up.
        mutating func makeRoom(on path: String, perPath cap: Int, total: Int) -> [Session] {
            var evicted: [Session] = []
            if (perPath[path] ?? 0) >= cap, let oldest = oldest(on: path), let removed = remove(oldest) {
                evicted.append(removed)
            }
            while sessions.count >= total, let busiest = perPath.max(by: { $0.value < $1.value })?.key,
                let oldest = oldest(on: busiest), let removed = remove(oldest)
            {
                evicted.append(removed)
            }
            return evicted
        }

        func oldest(on path: String) -> String? {
            sessions.lazy.filter { $0.value.path == path }.min { $0.value.lastUsed < $1.value.lastUsed }?.key
        }
    }

    /// Why a notification stream cannot be opened.
    enum StreamRefusal: Error {
        case unknownSession
        case tooManyForSession
        case tooManyOverall
    }

    private let state = Mutex<State>(State())
    public let maxSessions: Int
    public let maxSessionsPerEndpoint: Int
    /// GET streams one session may hold open at once.
    public let maxStreamsPerSession: Int
    /// GET streams open across all sessions.
    public let maxStreams: Int
    public let idleTimeout: Duration
    /// With a sealer, session ids are self-contained and any replica with its key accepts them.
    public let sealer: SessionSealer?

    public init(
        maxSessions: Int = 10_000, maxSessionsPerEndpoint: Int = 1_000, maxStreamsPerSession: Int = 4, maxStreams: Int = 10_000,
        idleTimeout: Duration = .seconds(3600), sealer: SessionSealer? = nil
    ) {
        self.sealer = sealer
        self.maxSessions = max(1, maxSessions)
        self.maxSessionsPerEndpoint = max(1, min(maxSessionsPerEndpoint, maxSessions))
        self.maxStreamsPerSession = max(1, maxStreamsPerSession)
        self.maxStreams = max(1, maxStreams)
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

    public func create(path: String, protocolVersion: String, clientCapabilities: JSONValue = .emptyObject, client: String? = nil) -> String {
        let id =
            sealer.map { sealer in
                sealer.seal(
                    SessionSealer.Facts(
                        path: path, protocolVersion: protocolVersion, client: client,
                        expires: Int(Date().timeIntervalSince1970) + Int(sealer.lifetime.components.seconds)))
            } ?? Self.newSessionID()
        let now = ContinuousClock.now
        let evicted: [Session] = state.withLock { state in
            var evicted: [Session] = []
            // Idle sessions are swept at most once a second, so that a flood of initialize does
            // not scan the whole store at every request.
            if now - state.lastSweep > .seconds(1) {
                state.lastSweep = now
                for (key, session) in state.sessions where now - session.lastUsed > idleTimeout {
                    if let removed = state.remove(key) { evicted.append(removed) }
                }
            }
            evicted += state.makeRoom(on: path, perPath: maxSessionsPerEndpoint, total: maxSessions)
            state.insert(id, Session(path: path, protocolVersion: protocolVersion, client: client, lastUsed: now, clientCapabilities: clientCapabilities))
            return evicted
        }
        for session in evicted { Self.close(session) }
        return id
    }

    /// Sessions bound to `path`.
    public func count(on path: String) -> Int { state.withLock { $0.perPath[path] ?? 0 } }

    /// The session's negotiated version if it exists on `path` for `client`; refreshes its idle
    /// clock. A sealed id another replica made is taken in here, with local state of its own
    /// (streams, calls in flight, the user's answers).
    func touch(_ id: String, path: String, client: String?) -> String? {
        let known: String?? = state.withLock { state in
            guard var session = state.sessions[id] else { return .none }
            guard session.path == path, session.client == client else { return .some(nil) }
            session.lastUsed = .now
            state.sessions[id] = session
            return .some(session.protocolVersion)
        }
        if let known { return known }
        guard let facts = sealer?.open(id), facts.path == path, facts.client == client else { return nil }
        let evicted: [Session] = state.withLock { state in
            guard state.sessions[id] == nil else { return [] }
            let evicted = state.makeRoom(on: path, perPath: maxSessionsPerEndpoint, total: maxSessions)
            state.insert(id, Session(path: path, protocolVersion: facts.protocolVersion, client: client, lastUsed: .now))
            return evicted
        }
        for session in evicted { Self.close(session) }
        return facts.protocolVersion
    }

    @discardableResult
    public func remove(_ id: String) -> Bool {
        let removed = state.withLock { $0.remove(id) }
        if let removed { Self.close(removed) }
        return removed != nil
    }

    public var count: Int { state.withLock { $0.sessions.count } }

    /// Tool calls in flight across all sessions.
    public var callsInFlight: Int { state.withLock { $0.sessions.values.reduce(0) { $0 + $1.inFlight.count } } }

    /// Notification (GET) streams open across all sessions.
    public var openStreams: Int { state.withLock { $0.openStreams } }

    /// Opens a notification stream for a session, within the per-session and overall caps.
    func openStream(_ id: String) -> Result<(UInt64, AsyncStream<ByteBuffer>), StreamRefusal> {
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let key: Result<UInt64, StreamRefusal> = state.withLock { state in
            guard let session = state.sessions[id] else { return .failure(.unknownSession) }
            guard session.streams.count < maxStreamsPerSession else { return .failure(.tooManyForSession) }
            guard state.openStreams < maxStreams else { return .failure(.tooManyOverall) }
            state.nextStream += 1
            state.openStreams += 1
            state.sessions[id]?.streams[state.nextStream] = continuation
            return .success(state.nextStream)
        }
        return key.map { ($0, stream) }
    }

    func closeStream(_ id: String, key: UInt64) {
        let continuation = state.withLock { state in
            let removed = state.sessions[id]?.streams.removeValue(forKey: key)
            if removed != nil { state.openStreams -= 1 }
            return removed
        }
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

    /// Tells the sessions of `paths` that their tools, prompts or resources changed (`kind`);
    /// returns how many sessions had a stream open.
    @discardableResult
    public func notify(_ kind: SubscriptionHub.Kind, paths: Set<String>) -> Int {
        notify(paths: paths, JSONRPC.notification(kind.method))
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
            state.openStreams -= all.count
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
            state.openStreams = 0
            return all
        }
        for continuation in continuations { continuation.finish() }
    }

    private static func close(_ session: Session) {
        for continuation in session.streams.values { continuation.finish() }
        for cancel in session.inFlight.values { cancel() }
        for waiting in session.awaiting.values { waiting.resume(returning: nil) }
    }

    // MARK: - Asking the client (legacy server-to-client requests)

    func clientCapabilities(_ id: String) -> JSONValue? {
        state.withLock { $0.sessions[id]?.clientCapabilities }
    }

    func userInput(_ id: String, key: String) -> String? {
        state.withLock { $0.sessions[id]?.userInputs[key] }
    }

    func forgetUserInputs(_ id: String) {
        state.withLock { $0.sessions[id]?.userInputs.removeAll() }
    }

    func setUserInput(_ id: String, key: String, value: String) {
        state.withLock { $0.sessions[id]?.userInputs[key] = value }
    }

    /// Waits for the client's answer to our request `requestID`: the response message, or nil
    /// when the session ends, `timeout` passes or the waiting task is cancelled.
    func awaitResponse(_ id: String, requestID: String, timeout: Duration) async -> JSONValue? {
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            self?.resolve(id, requestID: requestID, with: nil)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let registered = state.withLock { state -> Bool in
                    guard state.sessions[id] != nil, !Task.isCancelled else { return false }
                    state.sessions[id]?.awaiting[requestID] = continuation
                    return true
                }
                if !registered { continuation.resume(returning: nil) }
            }
        } onCancel: {
            resolve(id, requestID: requestID, with: nil)
        }
    }

    /// Hands a client's response to the request waiting for it; false when none waits.
    @discardableResult
    func deliverResponse(_ id: String, _ message: JSONValue) -> Bool {
        guard let requestID = message["id"]?.stringValue else { return false }
        return resolve(id, requestID: requestID, with: message)
    }

    @discardableResult
    private func resolve(_ id: String, requestID: String, with message: JSONValue?) -> Bool {
        let waiting = state.withLock { $0.sessions[id]?.awaiting.removeValue(forKey: requestID) }
        waiting?.resume(returning: message)
        return waiting != nil
    }
}

/// Server-sent events framing.
enum SSE {
    static func event(_ message: JSONValue) -> ByteBuffer {
        ByteBuffer(string: "event: message\ndata: \(message.serialized())\n\n")
    }
}
