import Foundation
import GRPCCore
import ReshaprDatabase
import ReshaprSyncProtocol
import TestSupport
import Testing

@testable import ReshaprControlPlane

/// Two control planes on one PostgreSQL database, in this process: what one does, the other
/// knows. Skipped without PostgreSQL unless RESHAPR_REQUIRE_POSTGRES=1 (CI).
@Suite struct ReplicatedControlPlaneTests {
    func withTwoReplicas(
        evictAfter: Duration = .seconds(300), _ body: @Sendable (ControlPlane, SyncClient, ControlPlane, SyncClient) async throws -> Void
    ) async throws {
        try await withTwoReplicas(evictAfter: evictAfter) { a, syncA, b, syncB, _ in try await body(a, syncA, b, syncB) }
    }

    /// Also gives the database's name, for psql.
    func withTwoReplicas(
        evictAfter: Duration = .seconds(300), _ body: @Sendable (ControlPlane, SyncClient, ControlPlane, SyncClient, String) async throws -> Void
    ) async throws {
        guard PostgresCluster.available else {
            #expect(!PostgresCluster.required, "RESHAPR_REQUIRE_POSTGRES=1 but PostgreSQL is not installed")
            return
        }
        let settings = try PostgresSettings(url: try await PostgresCluster.shared().makeDatabase())
        let database = DatabaseLocation.postgres(settings)
        try await withControlPlane(database: database, evictAfter: evictAfter) { a, syncA, _, _ in
            try await withControlPlane(database: database, evictAfter: evictAfter) { b, syncB, _, _ in
                try await body(a, syncA, b, syncB, settings.database)
            }
        }
    }

    /// A gateway registered through `sync`, watching, its snapshot received.
    func watchingGateway(_ id: String, on sync: SyncClient, token: String) async throws -> (EventLog, Task<Void, Never>) {
        let session = try await sync.register(registration(id), metadata: bearer(token)).sessionID
        let log = EventLog()
        let stream = watch(sync, session: session, token: token, into: log)
        _ = try await log.waitFor(1)
        return (log, stream)
    }

    @Test func aChangeMadeWhileNotificationsAreLostIsCaughtUp() async throws {
        try await withTwoReplicas { a, _, _, syncB, name in
            let cluster = try await PostgresCluster.shared()
            let org = try await a.store.organization(named: "acme")
            let (_, token) = try await a.store.createToken(name: "gw", days: 1, organization: org)
            let (log, stream) = try await watchingGateway("gw-1", on: syncB, token: token)
            defer { stream.cancel() }
            // The replicas' LISTEN connections are cut, and a change is made before they listen again.
            let cut = try await cluster.psql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
                database: name)
            #expect(cut.trimmingCharacters(in: .whitespacesAndNewlines) == "2")
            let group = try #require(try await a.store.groups(of: org).first)
            try await publish(a.store, organization: org, group: group)
            let events = try await log.waitFor(2)
            #expect(events.dropFirst().first?.change.upserts.map(\.path).contains("plans/petstore.json") == true)
        }
    }

    @Test func aChangeThroughOneReplicaReachesTheGatewaysOfTheOther() async throws {
        try await withTwoReplicas { a, _, b, syncB in
            let org = try await a.store.organization(named: "acme")
            let (_, token) = try await a.store.createToken(name: "gw", days: 1, organization: org)
            let (log, stream) = try await watchingGateway("gw-1", on: syncB, token: token)
            defer { stream.cancel() }
            let group = try #require(try await a.store.groups(of: org).first)
            try await publish(a.store, organization: org, group: group)
            for _ in 0..<250 where log.all.count < 2 { try await Task.sleep(for: .milliseconds(20)) }
            let change = try #require(log.all.dropFirst().first)
            #expect(change.change.upserts.map(\.path).contains("plans/petstore.json"))
            // The event carries the catalogue revision, the same in both replicas.
            #expect(change.revision == (try await a.store.revision()))
            // Both list the gateway.
            #expect(try await a.registry.gateways().map(\.gatewayID) == ["gw-1"])
            #expect(try await b.registry.gateways().first?.watching == true)
            // The sync goes away: the other replica's list says so.
            stream.cancel()
            for _ in 0..<250 where try await a.registry.gateways().first?.watching != false { try await Task.sleep(for: .milliseconds(20)) }
            #expect(try await a.registry.gateways().first?.watching == false)
        }
    }

    @Test func aSilentGatewayIsEvictedOnceAndARevokedTokenDropsItEverywhere() async throws {
        try await withTwoReplicas(evictAfter: .seconds(3600)) { a, _, b, syncB in
            let org = try await a.store.organization(named: "acme")
            let (record, token) = try await a.store.createToken(name: "gw", days: 1, organization: org)
            for id in ["gw-1", "gw-2", "gw-3"] { _ = try await syncB.register(registration(id), metadata: bearer(token)) }
            // Both replicas evict at the same moment: each gateway goes once.
            async let byA = a.registry.evictSilent(after: .seconds(1), now: Date().addingTimeInterval(60))
            async let byB = b.registry.evictSilent(after: .seconds(1), now: Date().addingTimeInterval(60))
            let evicted = try await byA + byB
            #expect(evicted.count == 3 && Set(evicted).count == 3)
            #expect(try await a.registry.gateways().isEmpty)

            // A token revoked through A ends the stream the gateway holds on B.
            let (log, stream) = try await watchingGateway("gw-4", on: syncB, token: token)
            defer { stream.cancel() }
            _ = try await a.store.revokeToken(record.id, organization: org)
            try await a.registry.dropGateways(usingToken: record.id)
            for _ in 0..<250 where log.endError == nil { try await Task.sleep(for: .milliseconds(20)) }
            #expect(log.endError?.code == .notFound)
            #expect(try await b.registry.gateways().isEmpty)
        }
    }
}
