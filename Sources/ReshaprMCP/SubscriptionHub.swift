import NIOCore
import ReshaprJSON
import Synchronization

/// The `subscriptions/listen` streams of MCP 2026-07-28 clients: long-lived POST answers that
/// carry the change notifications each client opted in to, tagged with its subscription id.
///
/// Unlike legacy sessions, a subscription lives exactly as long as its HTTP response: nothing
/// is kept once the client goes, and any replica can serve any client.
public final class SubscriptionHub: Sendable {
    /// The change notifications a client may opt in to.
    public enum Kind: String, Sendable, CaseIterable {
        case toolsListChanged
        case promptsListChanged
        case resourcesListChanged

        /// The notification a change sends.
        public var method: String {
            switch self {
            case .toolsListChanged: "notifications/tools/list_changed"
            case .promptsListChanged: "notifications/prompts/list_changed"
            case .resourcesListChanged: "notifications/resources/list_changed"
            }
        }

        /// The server capability that announces it.
        var capability: String {
            switch self {
            case .toolsListChanged: "tools"
            case .promptsListChanged: "prompts"
            case .resourcesListChanged: "resources"
            }
        }
    }

    struct Subscriber {
        var path: String
        var id: JSONValue
        var kinds: Set<Kind>
        var continuation: AsyncStream<ByteBuffer>.Continuation
    }

    /// Why a subscription cannot be opened.
    enum Refusal: Error {
        case tooManyForEndpoint
        case tooManyOverall
        case shuttingDown
    }

    private struct State {
        var subscribers: [UInt64: Subscriber] = [:]
        var perPath: [String: Int] = [:]
        var nextKey: UInt64 = 0
        /// Set by ``closeAll()`` (shutdown): no subscription opens after it.
        var closed = false

        mutating func remove(_ key: UInt64) -> Subscriber? {
            guard let removed = subscribers.removeValue(forKey: key) else { return nil }
            let left = (perPath[removed.path] ?? 1) - 1
            perPath[removed.path] = left > 0 ? left : nil
            return removed
        }
    }

    private let state = Mutex<State>(State())
    /// Streams open on one endpoint at once.
    public let maxPerEndpoint: Int
    /// Streams open across all endpoints.
    public let maxSubscriptions: Int

    public init(maxPerEndpoint: Int = 2_000, maxSubscriptions: Int = 10_000) {
        self.maxSubscriptions = max(1, maxSubscriptions)
        self.maxPerEndpoint = max(1, min(maxPerEndpoint, maxSubscriptions))
    }

    /// Subscriptions open now.
    public var count: Int { state.withLock { $0.subscribers.count } }

    /// Why a subscription on `path` could not be opened now, if it could not.
    func refusal(on path: String) -> Refusal? {
        state.withLock { refusal($0, on: path) }
    }

    private func refusal(_ state: State, on path: String) -> Refusal? {
        if state.closed { return .shuttingDown }
        if state.subscribers.count >= maxSubscriptions { return .tooManyOverall }
        if (state.perPath[path] ?? 0) >= maxPerEndpoint { return .tooManyForEndpoint }
        return nil
    }

    /// Opens a subscription; its stream yields SSE events until the server ends it (a closing
    /// result, then the end of the stream). Whoever opens one removes it when done with it.
    func open(path: String, id: JSONValue, kinds: Set<Kind>) -> Result<(key: UInt64, events: AsyncStream<ByteBuffer>), Refusal> {
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let key: Result<UInt64, Refusal> = state.withLock { state in
            if let refusal = refusal(state, on: path) { return .failure(refusal) }
            state.nextKey += 1
            state.subscribers[state.nextKey] = Subscriber(path: path, id: id, kinds: kinds, continuation: continuation)
            state.perPath[path, default: 0] += 1
            return .success(state.nextKey)
        }
        switch key {
        case .failure(let refusal):
            continuation.finish()
            return .failure(refusal)
        case .success(let key):
            return .success((key, stream))
        }
    }

    /// Drops a subscription (its client left, or it ended); nothing when it is gone already.
    func remove(_ key: UInt64) {
        _ = state.withLock { $0.remove(key) }
    }

    /// Sends the list-changed notification of `kind` to the subscribers of `paths` that asked
    /// for it; returns how many got it.
    @discardableResult
    public func notify(_ kind: Kind, paths: Set<String>) -> Int {
        state.withLock { state in
            var reached = 0
            for subscriber in state.subscribers.values where paths.contains(subscriber.path) && subscriber.kinds.contains(kind) {
                subscriber.continuation.yield(SSE.event(Self.notification(kind.method, subscription: subscriber.id)))
                reached += 1
            }
            return reached
        }
    }

    /// Ends, gracefully, the subscriptions of endpoints no longer served.
    public func close(notIn paths: Set<String>) {
        close { !paths.contains($0.path) }
    }

    /// Ends every subscription gracefully (shutdown): each gets the `subscriptions/listen` result,
    /// and none opens after.
    public func closeAll() {
        state.withLock { $0.closed = true }
        close { _ in true }
    }

    private func close(where predicate: (Subscriber) -> Bool) {
        let ending = state.withLock { state in
            state.subscribers.filter { predicate($0.value) }.keys.compactMap { state.remove($0) }
        }
        for subscriber in ending {
            subscriber.continuation.yield(SSE.event(Self.closing(subscriber.id)))
            subscriber.continuation.finish()
        }
    }

    /// A notification on a subscription stream: `_meta` names the subscription.
    static func notification(_ method: String, subscription id: JSONValue, params: JSONObject = [:]) -> JSONValue {
        var params = params
        params["_meta"] = [MCPMetaKey.subscriptionID: id]
        return JSONRPC.notification(method, params: .object(params))
    }

    /// The answer to `subscriptions/listen` that ends the subscription gracefully.
    static func closing(_ id: JSONValue) -> JSONValue {
        JSONRPC.result(id: id, ["resultType": "complete", "_meta": [MCPMetaKey.subscriptionID: id]])
    }
}
