import Synchronization

/// Per-client token buckets: each client may make `burst` requests at once, refilled at
/// `requestsPerSecond`. Memory stays bounded: full buckets are dropped (a new bucket is the
/// same thing), and past `maxClients` the least recently seen clients are forgotten.
public final class RateLimiter: Sendable {
    public struct Limit: Sendable, Hashable {
        public var requestsPerSecond: Double
        public var burst: Int

        /// `requestsPerSecond` is kept within 0.001...1,000,000 and `burst` within
        /// 1...1,000,000 (the configuration's own bounds), so no arithmetic on them can trap.
        public init(requestsPerSecond: Double, burst: Int? = nil) {
            let rate = requestsPerSecond.isNaN ? 1 : min(max(requestsPerSecond, 0.001), 1_000_000)
            self.requestsPerSecond = rate
            self.burst = min(max(1, burst ?? Int(rate.rounded(.up))), 1_000_000)
        }
    }

    /// Whether a request may go on, and when to retry if not.
    public enum Decision: Sendable, Hashable {
        case allowed
        case limited(retryAfter: Duration)
    }

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let buckets = Mutex<[String: Bucket]>([:])
    public let maxClients: Int

    public init(maxClients: Int = 50_000) {
        self.maxClients = maxClients
    }

    public func admit(_ client: String, limit: Limit, now: ContinuousClock.Instant = .now) -> Decision {
        buckets.withLock { buckets in
            let burst = Double(limit.burst)
            var bucket = buckets[client] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + Self.seconds(now - bucket.updated) * limit.requestsPerSecond)
            bucket.updated = now
            let decision: Decision
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                decision = .allowed
            } else {
                decision = .limited(retryAfter: .milliseconds(Int64(((1 - bucket.tokens) / limit.requestsPerSecond * 1000).rounded(.up))))
            }
            buckets[client] = bucket
            if buckets.count > maxClients { Self.evict(&buckets, limit: limit, now: now, keep: maxClients) }
            return decision
        }
    }

    /// Clients currently tracked.
    public var trackedClients: Int { buckets.withLock { $0.count } }

    private static func evict(_ buckets: inout [String: Bucket], limit: Limit, now: ContinuousClock.Instant, keep: Int) {
        let burst = Double(limit.burst)
        buckets = buckets.filter { $0.value.tokens + seconds(now - $0.value.updated) * limit.requestsPerSecond < burst }
        guard buckets.count > keep else { return }
        let stale = buckets.sorted { $0.value.updated < $1.value.updated }.prefix(buckets.count - keep * 9 / 10)
        for (client, _) in stale { buckets[client] = nil }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
