import Foundation
import Testing

@testable import ReshaprMCP

/// Sealed session ids: any store with the key takes them, bound to their endpoint and client,
/// until they expire; the previous key still opens the ids it sealed.
@Suite struct SessionSealerTests {
    static func key() -> String { Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString() }

    @Test func anotherReplicaTakesTheSessionForItsEndpointAndClientOnly() throws {
        let key = Self.key()
        let first = SessionStore(sealer: try SessionSealer(currentKey: key))
        let second = SessionStore(sealer: try SessionSealer(currentKey: key))
        let id = first.create(path: "/mcp/a", protocolVersion: "2025-06-18", client: "key:abc")
        #expect(id.hasPrefix("s1."))
        #expect(second.touch(id, path: "/mcp/a", client: "key:abc") == "2025-06-18")
        #expect(second.count == 1, "taken in, with local state of its own")
        #expect(second.touch(id, path: "/mcp/b", client: "key:abc") == nil, "another endpoint")
        #expect(second.touch(id, path: "/mcp/a", client: "key:other") == nil, "another client")
        #expect(second.touch(id, path: "/mcp/a", client: nil) == nil)
        let stranger = SessionStore(sealer: try SessionSealer(currentKey: Self.key()))
        #expect(stranger.touch(id, path: "/mcp/a", client: "key:abc") == nil, "another key")
        #expect(SessionStore().touch(id, path: "/mcp/a", client: "key:abc") == nil, "no key: local sessions only")
    }

    @Test func theKeyRotatesAndIdsExpire() throws {
        let old = Self.key()
        let new = Self.key()
        let before = try SessionSealer(currentKey: old)
        let facts = SessionSealer.Facts(path: "/mcp/a", protocolVersion: "2025-11-25", client: nil, expires: Int(Date().timeIntervalSince1970) + 60)
        let id = before.seal(facts)
        #expect(try SessionSealer(currentKey: new, previousKey: old).open(id) == facts)
        #expect(try SessionSealer(currentKey: new).open(id) == nil)
        #expect(before.open(id, now: Date().addingTimeInterval(120)) == nil, "expired")
        #expect(before.open("s1.not-base64!") == nil && before.open("plain") == nil && before.open("s1." + String(repeating: "A", count: 5000)) == nil)
        #expect(throws: SessionSealer.KeyError.self) { try SessionSealer(currentKey: "too-short") }
    }

    @Test func takingSessionsInIsFairBetweenEndpoints() throws {
        let key = Self.key()
        let maker = SessionStore(sealer: try SessionSealer(currentKey: key))
        let store = SessionStore(maxSessions: 4, maxSessionsPerEndpoint: 2, sealer: try SessionSealer(currentKey: key))
        let quiet = (0..<2).map { _ in store.create(path: "/mcp/quiet", protocolVersion: "2025-06-18") }
        for _ in 0..<5 { #expect(store.touch(maker.create(path: "/mcp/open", protocolVersion: "2025-06-18"), path: "/mcp/open", client: nil) != nil) }
        #expect(store.count(on: "/mcp/open") == 2, "an endpoint's cap holds for sessions taken in too")
        for id in quiet { #expect(store.touch(id, path: "/mcp/quiet", client: nil) != nil, "another endpoint's sessions stay") }
    }
}
