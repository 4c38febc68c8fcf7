import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ServiceLifecycle
import ReshaprDatabase
import ReshaprJSON
import ReshaprSyncProtocol
import Synchronization
import TestSupport
import Testing

@testable import ReshaprControlPlane

typealias SyncClient = Reshapr_Gateway_V1_GatewaySync.Client<HTTP2ClientTransport.Posix>

/// Runs a control plane on 127.0.0.1 (OS-chosen port) and a gRPC client connected to it.
func withControlPlane(
    databasePath: String? = nil, evictAfter: Duration = .seconds(300),
    _ body: @Sendable (ControlPlane, SyncClient) async throws -> Void
) async throws {
    try await withControlPlane(databasePath: databasePath, evictAfter: evictAfter) { plane, sync, _ in try await body(plane, sync) }
}

/// Also gives the REST port. With `tls`, the server uses that certificate and key and the client
/// trusts the certificate.
func withControlPlane(
    databasePath: String? = nil, evictAfter: Duration = .seconds(300), tls: (certificatePath: String, keyPath: String)? = nil,
    _ body: @Sendable (ControlPlane, SyncClient, Int) async throws -> Void
) async throws {
    try await withControlPlane(databasePath: databasePath, evictAfter: evictAfter, tls: tls) { plane, sync, httpPort, _ in try await body(plane, sync, httpPort) }
}

/// The same, with the gRPC port too (for clients of the test's own). `database` puts several
/// control planes on one database.
func withControlPlane(
    databasePath: String? = nil, database: DatabaseLocation? = nil, evictAfter: Duration = .seconds(300),
    tls: (certificatePath: String, keyPath: String)? = nil, _ body: @Sendable (ControlPlane, SyncClient, Int, Int) async throws -> Void
) async throws {
    var logger = Logger(label: "test.ctrl")
    logger.logLevel = .warning
    let location: DatabaseLocation
    if let database {
        location = database
    } else {
        location = try await testDatabase(path: databasePath)
    }
    let plane = try await ControlPlane(
        options: ControlPlaneOptions(
            host: "127.0.0.1", grpcPort: 0, httpPort: 0, database: location, evictAfter: evictAfter, maintenanceInterval: .milliseconds(50),
            tls: tls),
        logger: logger)
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let (httpPorts, httpContinuation) = AsyncStream<Int>.makeStream()
    let group = ServiceGroup(services: plane.services(onListening: { continuation.yield($0) }, onHTTPListening: { httpContinuation.yield($0) }), logger: logger)
    let server = Task { try await group.run() }
    var iterator = ports.makeAsyncIterator()
    var httpIterator = httpPorts.makeAsyncIterator()
    guard let port = await iterator.next(), let httpPort = await httpIterator.next() else { throw RPCError(code: .unavailable, message: "no port") }
    do {
        let security: HTTP2ClientTransport.Posix.TransportSecurity
        if let tls {
            security = .tls { config in config.trustRoots = .certificates([.file(path: tls.certificatePath, format: .pem)]) }
        } else {
            security = .plaintext
        }
        try await withGRPCClient(transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: security)) { client in
            try await body(plane, SyncClient(wrapping: client), httpPort, port)
        }
    } catch {
        await group.triggerGracefulShutdown()
        _ = await server.result
        throw error
    }
    await group.triggerGracefulShutdown()
    _ = try await server.value
}

/// The store of a test: SQLite (at `path`, else in memory), or a new database of the test
/// cluster when the suite runs on PostgreSQL (`RESHAPR_TEST_DATABASE=postgres`).
func testDatabase(path: String? = nil) async throws -> DatabaseLocation {
    if PostgresCluster.selected {
        return .postgres(try PostgresSettings(url: try await PostgresCluster.shared().makeDatabase()))
    }
    return path.map { .sqliteFile($0) } ?? .sqliteMemory
}

/// A store of its own for a test, on the selected database.
func makeTestStore() async throws -> Store {
    try await Store(location: try await testDatabase(), logger: Logger(label: "test.store"))
}

func bearer(_ token: String) -> Metadata {
    ["authorization": "Bearer \(token)"]
}

func registration(_ id: String, labels: [String: String] = ["env": "dev", "team": "reshapr"]) -> Reshapr_Gateway_V1_RegisterRequest {
    var request = Reshapr_Gateway_V1_RegisterRequest()
    request.gatewayID = id
    request.labels = labels
    request.fqdns = ["\(id).example.internal"]
    return request
}

/// A service, plan and exposition in `group` of `organization`.
@discardableResult
func publish(_ store: Store, organization: Organization, group: GatewayGroupRecord, name: String = "petstore") async throws -> ExpositionRecord {
    let spec = "openapi: 3.0.3\ninfo: {title: \(name), version: '1'}\npaths:\n  /pets: {get: {operationId: listPets, responses: {'200': {description: ok}}}}\n"
    let service = try await store.createService(
        name: name, version: "1.0", type: "REST", description: nil, artifacts: [("OPENAPI", "openapi.yaml", Data(spec.utf8))], organization: organization)
    let plan = try await store.createPlan(name: name, serviceID: service.id, spec: ["backend": ["mock": true]], organization: organization)
    return try await store.createExposition(planID: plan.id, groupID: group.id, path: nil, organization: organization)
}

/// Collects the events of a Watch stream in the background.
final class EventLog: Sendable {
    private let events = Mutex<[Reshapr_Gateway_V1_ConfigurationEvent]>([])
    private let ended = Mutex<RPCError?>(nil)

    func append(_ event: Reshapr_Gateway_V1_ConfigurationEvent) { events.withLock { $0.append(event) } }
    func end(_ error: RPCError?) { ended.withLock { $0 = error } }
    var all: [Reshapr_Gateway_V1_ConfigurationEvent] { events.withLock { $0 } }
    var endError: RPCError? { ended.withLock { $0 } }

    func waitFor(_ count: Int) async throws -> [Reshapr_Gateway_V1_ConfigurationEvent] {
        for _ in 0..<500 where all.count < count { try await Task.sleep(for: .milliseconds(10)) }
        return all
    }
}

func watch(_ sync: SyncClient, session: String, token: String, into log: EventLog) -> Task<Void, Never> {
    Task {
        var request = Reshapr_Gateway_V1_WatchRequest()
        request.sessionID = session
        do {
            try await sync.watch(request, metadata: bearer(token)) { response in
                for try await event in response.messages { log.append(event) }
            }
            log.end(nil)
        } catch let error as RPCError {
            log.end(error)
        } catch {
            log.end(RPCError(code: .unknown, message: "\(error)"))
        }
    }
}

@Suite struct GatewaySyncTests {
    @Test func registrationChecksTheToken() async throws {
        try await withControlPlane { plane, sync in
            let org = try await plane.store.organization(named: "acme")
            let (_, token) = try await plane.store.createToken(name: "gw", days: 30, organization: org)
            let response = try await sync.register(registration("gw-1"), metadata: bearer(token))
            #expect(response.organization == "acme")
            var heartbeat = Reshapr_Gateway_V1_HeartbeatRequest()
            heartbeat.sessionID = response.sessionID
            heartbeat.appliedRevision = 3
            let ack = try await sync.heartbeat(heartbeat, metadata: bearer(token))
            #expect(ack.acknowledgedAtUnixMs > 0)
            #expect(try await plane.registry.gateways().first?.appliedRevision == 3)
            #expect(response.groups.map(\.name) == [Store.defaultGroupName])
            #expect(response.heartbeatIntervalSeconds == 120)
            #expect(try await plane.registry.gateways().map(\.gatewayID) == ["gw-1"])
            #expect(try await plane.registry.gateways().first?.fqdns == ["gw-1.example.internal"])

            let (expiredRecord, expired) = try await plane.store.createToken(name: "old", days: 1, organization: org, now: Date().addingTimeInterval(-2 * 86_400))
            let (revokedRecord, revoked) = try await plane.store.createToken(name: "gone", days: 10, organization: org)
            _ = try await plane.store.revokeToken(revokedRecord.id, organization: org)
            let cases: [(String, String)] = [
                ("rsh_0000000000000_" + String(repeating: "a", count: 64), "the API token is not valid"),
                ("not-a-token", "the API token is malformed"),
                (expired, "the API token expired on \(expiredRecord.expiresAt.ISO8601Format())"),
                (revoked, "the API token was revoked on"),
            ]
            for (presented, message) in cases {
                do {
                    _ = try await sync.register(registration("gw-x"), metadata: bearer(presented))
                    Issue.record("\(presented) was accepted")
                } catch let error as RPCError {
                    #expect(error.code == .unauthenticated)
                    #expect(error.message.hasPrefix(message), "\(error.message)")
                }
            }
            do {
                _ = try await sync.register(registration("gw-x"), metadata: [:])
                Issue.record("no token was accepted")
            } catch let error as RPCError {
                #expect(error.code == .unauthenticated)
            }
        }
    }

    @Test func snapshotThenChangesPushedOnlyToMatchingGateways() async throws {
        try await withControlPlane { plane, sync in
            let org = try await plane.store.organization(named: "acme")
            let qa = try await plane.store.createGroup(name: "qa", labels: ["env": "qa"], organization: org)
            let (_, token) = try await plane.store.createToken(name: "gw", days: 30, organization: org)
            let qaSession = try await sync.register(registration("qa-1", labels: ["env": "qa", "zone": "eu"]), metadata: bearer(token)).sessionID
            let devSession = try await sync.register(registration("dev-1"), metadata: bearer(token)).sessionID
            let qaLog = EventLog()
            let devLog = EventLog()
            let qaWatch = watch(sync, session: qaSession, token: token, into: qaLog)
            let devWatch = watch(sync, session: devSession, token: token, into: devLog)
            let snapshots = try await qaLog.waitFor(1)
            #expect(snapshots.first?.snapshot.files.isEmpty == true)
            _ = try await devLog.waitFor(1)

            // Publishing to the qa group reaches the qa gateway (one change: the service and the plan
            // alone change nothing it serves), and not the dev one.
            let exposition = try await publish(plane.store, organization: org, group: qa)
            let events = try await qaLog.waitFor(2)
            #expect(events.count == 2)
            let paths = Set(events.dropFirst().flatMap { $0.change.upserts.map(\.path) })
            #expect(paths == ["services/petstore-1.0/openapi.yaml", "services/petstore-1.0/service.json", "plans/petstore.json", "expositions/\(exposition.name).json"])
            let rendered = try #require(events.last?.change.upserts.first { $0.path == "expositions/\(exposition.name).json" })
            #expect(try JSONParser.parse(Array(rendered.content))["metadata"] == ["name": .string(exposition.name), "org": "acme", "id": .string(exposition.id)])
            #expect(events.map(\.revision) == events.map(\.revision).sorted())
            try await Task.sleep(for: .milliseconds(200))
            #expect(devLog.all.count == 1, "the dev gateway's group has no exposition")

            // Deleting the exposition deletes its file.
            try await plane.store.deleteExposition(exposition.id, organization: org)
            let afterDelete = try await qaLog.waitFor(qaLog.all.count + 1)
            #expect(afterDelete.last?.change.deletions.contains("expositions/\(exposition.name).json") == true)
            qaWatch.cancel()
            devWatch.cancel()
        }
    }

    @Test func organizationsNeverSeeEachOthersConfiguration() async throws {
        try await withControlPlane { plane, sync in
            let a = try await plane.store.organization(named: "org-a")
            let b = try await plane.store.organization(named: "org-b")
            let (_, tokenA) = try await plane.store.createToken(name: "a", days: 30, organization: a)
            let (_, tokenB) = try await plane.store.createToken(name: "b", days: 30, organization: b)
            let groupB = try #require(try await plane.store.groups(of: b).first)
            try await publish(plane.store, organization: b, group: groupB, name: "secret-api")
            let sessionA = try await sync.register(registration("gw-a"), metadata: bearer(tokenA)).sessionID
            let logA = EventLog()
            let watchA = watch(sync, session: sessionA, token: tokenA, into: logA)
            let snapshot = try await logA.waitFor(1)
            #expect(snapshot.first?.snapshot.files.isEmpty == true)
            // org B's token cannot use org A's session.
            var heartbeat = Reshapr_Gateway_V1_HeartbeatRequest()
            heartbeat.sessionID = sessionA
            await #expect(throws: RPCError.self) { try await sync.heartbeat(heartbeat, metadata: bearer(tokenB)) }
            try await publish(plane.store, organization: b, group: groupB, name: "more-secret")
            try await Task.sleep(for: .milliseconds(200))
            #expect(logA.all.count == 1)
            watchA.cancel()
        }
    }

    @Test func silentGatewaysAreEvictedAndMustRegisterAgain() async throws {
        try await withControlPlane(evictAfter: .seconds(1)) { plane, sync in
            let org = try await plane.store.organization(named: "acme")
            let (_, token) = try await plane.store.createToken(name: "gw", days: 30, organization: org)
            let session = try await sync.register(registration("gw-1"), metadata: bearer(token)).sessionID
            var heartbeat = Reshapr_Gateway_V1_HeartbeatRequest()
            heartbeat.sessionID = session
            // No heartbeat: the maintenance loop evicts the gateway after the window.
            for _ in 0..<1500 where !(try await plane.registry.gateways().isEmpty) { try await Task.sleep(for: .milliseconds(20)) }
            #expect(try await plane.registry.gateways().isEmpty)
            do {
                _ = try await sync.heartbeat(heartbeat, metadata: bearer(token))
                Issue.record("an evicted session was accepted")
            } catch let error as RPCError {
                #expect(error.code == .notFound)
                #expect(error.message.contains("register again"))
            }
        }
    }

    @Test func terminationAndRevocationRemoveGatewaysAtOnce() async throws {
        try await withControlPlane { plane, sync in
            let org = try await plane.store.organization(named: "acme")
            let (record, token) = try await plane.store.createToken(name: "gw", days: 30, organization: org)
            let first = try await sync.register(registration("gw-1"), metadata: bearer(token)).sessionID
            var terminate = Reshapr_Gateway_V1_TerminateRequest()
            terminate.sessionID = first
            terminate.reason = "SIGTERM"
            _ = try await sync.terminate(terminate, metadata: bearer(token))
            #expect(try await plane.registry.gateways().isEmpty)

            let second = try await sync.register(registration("gw-2"), metadata: bearer(token)).sessionID
            let log = EventLog()
            let stream = watch(sync, session: second, token: token, into: log)
            _ = try await log.waitFor(1)
            _ = try await plane.store.revokeToken(record.id, organization: org)
            for _ in 0..<200 where log.endError == nil { try await Task.sleep(for: .milliseconds(10)) }
            #expect(try await plane.registry.gateways().isEmpty)
            #expect(log.endError?.code == .notFound)
            _ = await stream.value
        }
    }

    @Test func dataSurvivesARestart() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/ctrl.sqlite"
        var tokenText = ""
        do {
            let store = try await Store(path: path)
            let org = try await store.organization(named: "acme")
            let group = try await store.createGroup(name: "qa", labels: ["env": "qa"], organization: org)
            try await publish(store, organization: org, group: group)
            tokenText = try await store.createToken(name: "gw", days: 30, organization: org).1
        }
        let reopened = try await Store(path: path)
        let org = try await reopened.organization(named: "acme")
        #expect(try await reopened.groups(of: org).map(\.name) == [Store.defaultGroupName, "qa"])
        #expect(try await reopened.services(of: org).map(\.name) == ["petstore"])
        #expect(try await reopened.expositions(of: org).count == 1)
        #expect(try await reopened.verifyToken(tokenText).get().name == "gw")
    }

    @Test func tokensAreBoundedStoredHashedAndRenewable() async throws {
        let store = try await makeTestStore()
        let org = try await store.organization(named: "acme")
        await #expect(throws: StoreError.self) { try await store.createToken(name: "long", days: 91, organization: org) }
        await #expect(throws: StoreError.self) { try await store.createToken(name: "none", days: 0, organization: org) }
        let (record, token) = try await store.createToken(name: "gw", days: 1, organization: org)
        #expect(token.hasPrefix("rsh_\(record.id)_"))
        #expect(!record.secretHash.isEmpty && !String(decoding: record.secretHash, as: UTF8.self).contains(String(token.suffix(64))))
        let renewed = try await store.renewToken(record.id, days: 90, organization: org)
        #expect(renewed.expiresAt > record.expiresAt)
        _ = try await store.revokeToken(record.id, organization: org)
        await #expect(throws: StoreError.self) { try await store.renewToken(record.id, days: 10, organization: org) }
        #expect(Identifier.isValid(record.id))
        #expect(Identifier.make() < Identifier.make(now: Date().addingTimeInterval(1)))
    }
}
