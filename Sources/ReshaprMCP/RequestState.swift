import Crypto
import Foundation
import ReshaprJSON

/// The `requestState` of MCP 2026-07-28's multi round-trip requests: which tool asked, for
/// whom, and until when, under an HMAC-SHA256, so that a client's answer is only taken for
/// the request it answers, from the principal it was asked of, within ten minutes.
///
/// It carries no authority (the answers themselves are the user's own), so replicas need the
/// same key only to accept each other's state: set `RESHAPR_REQUEST_STATE_KEY` on all of them.
/// State sealed by another key is never an error: the user is asked again.
public struct RequestStateSealer: Sendable {
    let key: SymmetricKey
    let lifetime: Duration

    /// `key` holds at least 32 bytes; without one, a random key of this process.
    public init(key: [UInt8]? = nil, lifetime: Duration = .seconds(600)) {
        if let key, key.count >= 32 {
            self.key = SymmetricKey(data: key)
        } else {
            self.key = SymmetricKey(size: .bits256)
        }
        self.lifetime = lifetime
    }

    /// The key of `RESHAPR_REQUEST_STATE_KEY` (base64 of at least 32 bytes), if set and valid.
    public static func keyFromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> [UInt8]? {
        guard let text = environment["RESHAPR_REQUEST_STATE_KEY"], let bytes = Base64.decode(text), bytes.count >= 32 else { return nil }
        return bytes
    }

    func seal(method: String, name: String, principal: String, now: Date = Date()) -> String {
        let expiry = Int(now.timeIntervalSince1970) &+ Int(lifetime.components.seconds)
        let payload: JSONValue = ["m": .string(method), "n": .string(name), "p": .string(Self.digest(principal)), "e": .integer(expiry)]
        let bytes = Array(payload.serialized().utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: bytes, using: key)
        return Self.base64URL(bytes) + "." + Self.base64URL(Array(mac))
    }

    /// Whether `state` was sealed here for this method, name and principal, and is still fresh.
    func verify(_ state: String, method: String, name: String, principal: String, now: Date = Date()) -> Bool {
        let parts = state.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count <= 4096, let bytes = Base64.decode(String(parts[0]), alphabet: .standardOrURL),
            let mac = Base64.decode(String(parts[1]), alphabet: .standardOrURL),
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: bytes, using: key),
            let payload = try? JSONParser.parse(bytes)
        else { return false }
        return payload["m"]?.stringValue == method && payload["n"]?.stringValue == name && payload["p"]?.stringValue == Self.digest(principal)
            && (payload["e"]?.intValue ?? 0) >= Int(now.timeIntervalSince1970)
    }

    /// Principals appear in the state only as a digest.
    private static func digest(_ principal: String) -> String {
        base64URL(Array(SHA256.hash(data: Array(principal.utf8))))
    }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        String(Data(bytes).base64EncodedString().map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }
}
