import Crypto
import Foundation
import ReshaprJSON

/// Self-contained session ids for gateway replicas that share nothing but a key: the id is
/// the session's facts (endpoint path, protocol version, client, expiry) sealed with AES-GCM, so
/// that any replica holding the key accepts a session another replica created, and nobody
/// without it can make or alter one. Keys rotate: ids sealed with the previous key are still
/// opened until they expire.
public struct SessionSealer: Sendable {
    /// What a sealed id carries.
    struct Facts: Equatable {
        var path: String
        var protocolVersion: String
        var client: String?
        var expires: Int
    }

    static let prefix = "s1."
    let current: SymmetricKey
    let previous: SymmetricKey?
    /// How long a sealed id stays valid after `initialize`.
    public let lifetime: Duration

    public struct KeyError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Keys as base64 text of 32 bytes (`openssl rand -base64 32`).
    public init(currentKey: String, previousKey: String? = nil, lifetime: Duration = .seconds(24 * 3600)) throws(KeyError) {
        current = try Self.key(currentKey, name: "the session key")
        previous = try previousKey.map { text throws(KeyError) in try Self.key(text, name: "the previous session key") }
        self.lifetime = lifetime
    }

    static func key(_ text: String, name: String) throws(KeyError) -> SymmetricKey {
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
            throw KeyError(description: "\(name) must be 32 bytes in base64 (openssl rand -base64 32)")
        }
        return SymmetricKey(data: bytes)
    }

    func seal(_ facts: Facts) -> String {
        var object: JSONObject = ["p": .string(facts.path), "v": .string(facts.protocolVersion), "e": .integer(facts.expires)]
        if let client = facts.client { object["c"] = .string(client) }
        let plaintext = JSONValue.object(object).serializedBytes()
        guard let sealed = try? AES.GCM.seal(plaintext, using: current).combined else { return SessionStore.newSessionID() }
        return Self.prefix + sealed.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The facts of an id sealed with one of the keys and not expired at `now`; nil otherwise.
    func open(_ id: String, now: Date = Date()) -> Facts? {
        guard id.hasPrefix(Self.prefix), id.utf8.count <= 4096 else { return nil }
        var base64 = String(id.dropFirst(Self.prefix.count)).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let combined = Data(base64Encoded: base64), let box = try? AES.GCM.SealedBox(combined: combined) else { return nil }
        for key in [current] + (previous.map { [$0] } ?? []) {
            guard let plaintext = try? AES.GCM.open(box, using: key), let value = try? JSONParser.parse(Array(plaintext)),
                let path = value["p"]?.stringValue, let version = value["v"]?.stringValue, let expires = value["e"]?.intValue
            else { continue }
            guard Double(expires) > now.timeIntervalSince1970 else { return nil }
            return Facts(path: path, protocolVersion: version, client: value["c"]?.stringValue, expires: expires)
        }
        return nil
    }
}
