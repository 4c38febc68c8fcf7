import Synchronization

/// Failed logins counted per user name and per client address. Past the limit within the
/// window, further attempts are refused before any password is checked (so that guessing
/// costs the attacker time and the control plane no PBKDF2 work) until the window has passed.
/// Memory stays bounded: at most `maxEntries` names and addresses are remembered.
final class LoginThrottle: Sendable {
    struct Limits: Sendable {
        var failuresPerUser = 5
        var failuresPerAddress = 20
        /// How long failures are remembered, from the first one.
        var window: Duration = .seconds(900)
        var maxEntries = 100_000
    }

    private struct Entry {
        var failures: Int
        var since: ContinuousClock.Instant
    }

    private let entries = Mutex<[String: Entry]>([:])
    let limits: Limits

    init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// How long until `user` from `address` may try again; `nil` when it may now.
    func retryAfter(user: String, address: String?, now: ContinuousClock.Instant = .now) -> Duration? {
        entries.withLock { entries in
            var longest: Duration?
            for (key, limit) in keys(user: user, address: address) {
                guard let entry = entries[key] else { continue }
                let elapsed = now - entry.since
                if elapsed >= limits.window {
                    entries[key] = nil
                } else if entry.failures >= limit {
                    let wait = limits.window - elapsed
                    longest = max(longest ?? wait, wait)
                }
            }
            return longest
        }
    }

    func failed(user: String, address: String?, now: ContinuousClock.Instant = .now) {
        entries.withLock { entries in
            if entries.count >= limits.maxEntries {
                entries = entries.filter { now - $0.value.since < limits.window }
                if entries.count >= limits.maxEntries { entries.removeAll(keepingCapacity: true) }
            }
            for (key, _) in keys(user: user, address: address) {
                var entry = entries[key] ?? Entry(failures: 0, since: now)
                if now - entry.since >= limits.window { entry = Entry(failures: 0, since: now) }
                entry.failures += 1
                entries[key] = entry
            }
        }
    }

    func succeeded(user: String) {
        _ = entries.withLock { $0.removeValue(forKey: "user:" + user) }
    }

    private func keys(user: String, address: String?) -> [(String, Int)] {
        [("user:" + user, limits.failuresPerUser)] + (address.map { [("address:" + $0, limits.failuresPerAddress)] } ?? [])
    }
}
