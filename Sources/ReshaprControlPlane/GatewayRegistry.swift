import Foundation
import Logging
import ReshaprDatabase
import ReshaprJSON
import ReshaprSyncProtocol
import Synchronization

/// A gateway as the control plane sees it.
public struct GatewayInfo: Sendable, Hashable {
    public var sessionID: String
    public var gatewayID: String
    public var orgID: String
    public var tokenID: String
    public var labels: [String: String]
    public var fqdns: [String]
    public var groups: [String]
    /// The only group whose expositions the gateway receives, when its token is bound to one.
    public var boundGroupID: String?
    public var registeredAt: Date
    public var lastHeartbeat: Date
    public var appliedRevision: Int64
    public var watching: Bool
    /// The control-plane replica the gateway registered with.
    public var replicaID: String
}

/// Live gateways: registration, heartbeats, eviction of silent ones, and the change streams.
///
/// Gateways are rows of the store's `gateway` table, so that every replica lists them all and
/// one replica alone evicts a silent one (the `DELETE` decides). A replica keeps in memory only
/// what cannot be shared: the change streams open on it, and what each was last sent.
public final class GatewayRegistry: Sendable {
    struct Entry {
        var info: GatewayInfo
        var stream: AsyncStream<Reshapr_Gateway_V1_ConfigurationEvent>.Continuation?
        /// What this gateway was last sent, by path, as SHA-256.
        var sent: [String: String] = [:]
        /// Counts the Watch streams opened on the session: an ended stream clears only itself.
        var streamGeneration = 0
    }

    /// Gateways with the same organization, labels and group receive the same directory: it is
    /// rendered once for all of them, until the next change.
    struct RenderKey: Hashable {
        var orgID: String
        var labels: [String: String]
        var group: String?
    }

    private let entries = Mutex<[String: Entry]>([:])
    /// Set at shutdown: ended streams are not written down one by one.
    private let closing = Atomic<Bool>(false)
    /// The newest catalogue revision this replica knows of: what a snapshot is labelled with.
    private let revision = Atomic<Int64>(0)
    /// Rendered directories, by key, with the catalogue generation they were rendered in.
    private let rendered = Mutex<(generation: Int, directories: [RenderKey: RenderedDirectory])>((0, [:]))
    let store: Store
    /// Whether Secret files are part of what gateways receive (only over TLS, unless told otherwise).
    let sendsSecrets: Bool
    let logger: Logger

    public init(store: Store, sendsSecrets: Bool, logger: Logger) {
        self.store = store
        self.sendsSecrets = sendsSecrets
        self.logger = logger
    }

    /// Every registered gateway, whichever replica it is connected to.
    public func gateways() async throws -> [GatewayInfo] {
        let rows = try await store.read { db in try await db.query("SELECT * FROM gateway ORDER BY org_id, gateway_id") }
        let local = entries.withLock { $0.mapValues { $0.stream != nil } }
        let replicaID = store.replicaID
        return try rows.map { row in
            var info = try Self.info(row)
            if info.replicaID == replicaID { info.watching = local[info.sessionID] ?? false }
            return info
        }
    }

    /// Starts from the catalogue revision stored (at start).
    func load() async throws {
        note(revision: try await store.revision())
    }

    func note(revision newRevision: Int64) {
        revision.max(newRevision, ordering: .relaxed)
    }

    /// Registers a gateway; a gateway id registered again replaces its previous session, on
    /// whichever replica it was.
    func register(gatewayID: String, token: APIToken, labels: [String: String], fqdns: [String], groups: [String]) async throws -> GatewayInfo {
        let now = Date()
        let info = GatewayInfo(
            sessionID: Secrets.randomHex(bytes: 16), gatewayID: gatewayID, orgID: token.orgID, tokenID: token.id, labels: labels, fqdns: fqdns,
            groups: groups, boundGroupID: token.gatewayGroupID, registeredAt: now, lastHeartbeat: now, appliedRevision: 0, watching: false,
            replicaID: store.replicaID)
        let replaced = try await store.write { db in
            let previous = try await Self.deleteGateways(db, where: "org_id = ? AND gateway_id = ?", token.orgID, gatewayID)
            try await db.execute(
                """
                INSERT INTO gateway (session_id, gateway_id, org_id, token_id, labels, fqdns, group_names, bound_group_id,
                    registered_at, last_heartbeat, applied_revision, watching, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, info.sessionID, gatewayID, info.orgID, info.tokenID, Self.json(labels), Self.json(fqdns), Self.json(groups),
                info.boundGroupID, now, now, Int64(0), false, info.replicaID)
            return previous
        }
        entries.withLock { $0[info.sessionID] = Entry(info: info) }
        await ended(replaced, reason: "registered again")
        logger.info("gateway registered", metadata: ["gateway": "\(gatewayID)", "org": "\(token.orgID)", "groups": "\(groups)"])
        return info
    }

    /// The session `id`: this replica's, or one registered on another.
    func session(_ id: String) async throws -> GatewayInfo? {
        if let info = entries.withLock({ $0[id]?.info }) { return info }
        return try await store.read { db in try await db.queryOne("SELECT * FROM gateway WHERE session_id = ?", id) }.map(Self.info)
    }

    /// Records a heartbeat; `false` when the session is gone (evicted, replaced).
    @discardableResult
    func heartbeat(_ id: String, appliedRevision: Int64) async throws -> Bool {
        let now = Date()
        let found = try await store.write { db in
            try await db.query(
                "UPDATE gateway SET last_heartbeat = ?, applied_revision = ? WHERE session_id = ? RETURNING session_id", now, appliedRevision, id
            ).isEmpty == false
        }
        entries.withLock { entries in
            entries[id]?.info.lastHeartbeat = now
            entries[id]?.info.appliedRevision = appliedRevision
        }
        return found
    }

    /// Removes a gateway at once (termination, revoked token); its stream ends, on whichever
    /// replica it is.
    @discardableResult
    func remove(_ id: String, reason: String) async throws -> Bool {
        let removed = try await store.write { db in try await Self.deleteGateways(db, where: "session_id = ?", id) }
        await ended(removed, reason: reason)
        return !removed.isEmpty
    }

    /// Deletes the gateways `condition` selects; returns their sessions and replicas, for `ended`.
    static func deleteGateways(
        _ db: any SQLExecutor, where condition: String, _ arguments: any SQLBindable...
    ) async throws -> [(sessionID: String, replicaID: String)] {
        try await db.query("DELETE FROM gateway WHERE \(condition) RETURNING session_id, replica", arguments).map {
            (try $0.string("session_id"), try $0.string("replica"))
        }
    }

    /// Ends the streams of sessions removed from the table: here, or by telling their replica.
    private func ended(_ sessions: [(sessionID: String, replicaID: String)], reason: String) async {
        for (sessionID, replicaID) in sessions {
            if replicaID == store.replicaID {
                dropLocal(sessionID, reason: reason)
            } else {
                await store.announce(.gatewayRemoved(sessionID: sessionID, reason: reason))
            }
        }
    }

    /// Forgets a session held here and ends its stream.
    func dropLocal(_ id: String, reason: String) {
        guard let entry = entries.withLock({ $0.removeValue(forKey: id) }) else { return }
        entry.stream?.finish()
        logger.info("gateway removed", metadata: ["gateway": "\(entry.info.gatewayID)", "reason": "\(reason)"])
    }

    /// Ends every change stream (at shutdown: gateways keep their files and reconnect later).
    public func closeAllStreams() {
        closing.store(true, ordering: .relaxed)
        let streams = entries.withLock { entries in
            let streams = entries.values.compactMap(\.stream)
            for key in entries.keys { entries[key]?.stream = nil }
            return streams
        }
        for stream in streams { stream.finish() }
    }

    /// Removes gateways silent for longer than `after`, whichever replica they are on; returns
    /// their session ids. Replicas may all run it: each row is deleted once.
    @discardableResult
    public func evictSilent(after: Duration, now: Date = Date()) async throws -> [String] {
        let limit = Double(after.components.seconds) + Double(after.components.attoseconds) / 1e18
        let cutoff = now.addingTimeInterval(-limit)
        let silent = try await store.write { db in try await Self.deleteGateways(db, where: "last_heartbeat < ?", cutoff) }
        await ended(silent, reason: "no heartbeat for \(after)")
        return silent.map(\.0)
    }

    /// Drops the gateways registered with a token that is no longer valid.
    public func dropGateways(usingToken tokenID: String) async throws {
        let removed = try await store.write { db in try await Self.deleteGateways(db, where: "token_id = ?", tokenID) }
        await ended(removed, reason: "API token \(tokenID) revoked")
    }

    /// The tokens of the gateways registered on this replica.
    var localTokens: Set<String> {
        entries.withLock { Set($0.values.map(\.info.tokenID)) }
    }

    /// After notifications may have been missed: ends the local streams whose session is gone.
    func reconcile() async throws {
        let local = entries.withLock { Array($0.keys) }
        guard !local.isEmpty else { return }
        let replicaID = store.replicaID
        let alive = Set(
            try await store.read { db in try await db.query("SELECT session_id FROM gateway WHERE replica = ?", replicaID) }.map {
                try $0.string("session_id")
            })
        for id in local where !alive.contains(id) { dropLocal(id, reason: "removed by another replica") }
    }

    /// A session's change stream, and how to end it when its RPC is cancelled.
    struct WatchStream: Sendable {
        var events: AsyncStream<Reshapr_Gateway_V1_ConfigurationEvent>
        var end: @Sendable () -> Void
    }

    /// Opens the change stream of a session (as `session(_:)` found it) and queues its full
    /// snapshot. A session registered on another replica moves here.
    func openStream(_ session: GatewayInfo) async throws -> WatchStream? {
        var info = session
        let id = info.sessionID
        if info.replicaID != store.replicaID {
            let replicaID = store.replicaID
            let moved = try await store.write { db in
                try await db.query("UPDATE gateway SET replica = ? WHERE session_id = ? RETURNING session_id", replicaID, id).isEmpty == false
            }
            guard moved else { return nil }
            info.replicaID = replicaID
            let adopted = info
            entries.withLock { $0[id] = $0[id] ?? Entry(info: adopted) }
        }
        let (stream, continuation) = AsyncStream<Reshapr_Gateway_V1_ConfigurationEvent>.makeStream(bufferingPolicy: .unbounded)
        let directory = try await render(info)
        let files = directory.files
        var event = Reshapr_Gateway_V1_ConfigurationEvent()
        event.revision = directory.revision
        event.snapshot.files = files.values.sorted { $0.path < $1.path }.map(Self.message)
        let opened: (previous: AsyncStream<Reshapr_Gateway_V1_ConfigurationEvent>.Continuation?, generation: Int)? = entries.withLock { entries in
            guard var entry = entries[id] else { return nil }
            let previous = entry.stream
            entry.stream = continuation
            entry.sent = files.mapValues(\.sha256)
            entry.streamGeneration += 1
            entries[id] = entry
            return (previous, entry.streamGeneration)
        }
        guard let opened else { return nil }
        continuation.onTermination = { [weak self] _ in self?.streamEnded(id, generation: opened.generation) }
        opened.previous?.finish()
        continuation.yield(event)
        try await store.write { db in try await db.execute("UPDATE gateway SET watching = ? WHERE session_id = ?", true, id) }
        return WatchStream(events: stream, end: { continuation.finish() })
    }

    /// The Watch RPC of a session ended (the sync went away): no more pushes to it, and
    /// `gateway list` says it is not watching. A newer stream on the session is left alone.
    private func streamEnded(_ id: String, generation: Int) {
        let ended = entries.withLock { entries in
            guard entries[id]?.streamGeneration == generation, entries[id]?.stream != nil else { return false }
            entries[id]?.stream = nil
            return true
        }
        guard ended, !closing.load(ordering: .relaxed) else { return }
        let store = self.store
        let replicaID = store.replicaID
        // From a synchronous callback: the update runs on its own, and a failure only leaves
        // `watching` stale until the gateway reconnects or is evicted.
        Task {
            try? await store.write { db in
                try await db.execute("UPDATE gateway SET watching = ? WHERE session_id = ? AND replica = ?", false, id, replicaID)
            }
        }
    }

    /// At shutdown, once the streams are closed: this replica's gateways are no longer watching.
    func markStreamsClosed() async throws {
        let replicaID = store.replicaID
        try await store.write { db in try await db.execute("UPDATE gateway SET watching = ? WHERE replica = ?", false, replicaID) }
    }

    /// Sends each watching gateway of the organization on this replica what changed for it,
    /// if anything, labelled with the catalogue revision of the state sent (at least that of
    /// the change: notifications may arrive after later commits).
    public func push(organizationID: String, revision newRevision: Int64) async {
        note(revision: newRevision)
        // The catalogue changed: what was rendered before is stale.
        rendered.withLock { $0 = ($0.generation + 1, [:]) }
        let watching = entries.withLock { $0.values.filter { $0.info.orgID == organizationID && $0.stream != nil }.map(\.info) }
        for info in watching {
            do {
                let directory = try await render(info)
                let files = directory.files
                entries.withLock { entries in
                    guard var entry = entries[info.sessionID], let stream = entry.stream else { return }
                    var change = Reshapr_Gateway_V1_Change()
                    change.upserts = files.values.filter { entry.sent[$0.path] != $0.sha256 }.sorted { $0.path < $1.path }.map(Self.message)
                    change.deletions = entry.sent.keys.filter { files[$0] == nil }.sorted()
                    guard !change.upserts.isEmpty || !change.deletions.isEmpty else { return }
                    var event = Reshapr_Gateway_V1_ConfigurationEvent()
                    event.revision = max(newRevision, directory.revision)
                    event.change = change
                    entry.sent = files.mapValues(\.sha256)
                    entries[info.sessionID] = entry
                    stream.yield(event)
                }
            } catch {
                logger.error("cannot render the configuration of a gateway", metadata: ["gateway": "\(info.gatewayID)", "error": "\(error)"])
            }
        }
    }

    /// After notifications may have been missed: every organization with a stream here is
    /// pushed again (gateways get only what differs from what they were sent).
    func catchUp() async throws {
        let current = try await store.revision()
        guard current > revision.load(ordering: .relaxed) else { return }
        let organizations = entries.withLock { Set($0.values.filter { $0.stream != nil }.map(\.info.orgID)) }
        for organization in organizations { await push(organizationID: organization, revision: current) }
        note(revision: current)
    }

    func render(_ info: GatewayInfo) async throws -> RenderedDirectory {
        let key = RenderKey(orgID: info.orgID, labels: info.labels, group: info.boundGroupID)
        let generation = rendered.withLock { $0.generation }
        if let directory = rendered.withLock({ $0.generation == generation ? $0.directories[key] : nil }) { return directory }
        guard let organization = try await store.organization(id: info.orgID) else {
            return RenderedDirectory(files: [:], revision: revision.load(ordering: .relaxed))
        }
        let directory = try await ConfigurationRenderer.render(
            organization: organization, labels: info.labels, onlyGroup: info.boundGroupID, store: store, includeSecrets: sendsSecrets)
        note(revision: directory.revision)
        // Kept only if nothing changed while it was rendered.
        rendered.withLock { if $0.generation == generation { $0.directories[key] = directory } }
        return directory
    }

    static func message(_ file: RenderedFile) -> Reshapr_Gateway_V1_File {
        var message = Reshapr_Gateway_V1_File()
        message.path = file.path
        message.content = file.content
        message.sha256 = file.sha256
        return message
    }

    static func json(_ labels: [String: String]) -> String {
        JSONValue(labels.mapValues(JSONValue.string)).serialized()
    }

    static func json(_ names: [String]) -> String {
        JSONValue.array(names.map(JSONValue.string)).serialized()
    }

    static func info(_ row: SQLRow) throws -> GatewayInfo {
        let labels = (try? JSONParser.parse(try row.string("labels")))?.stringMembers ?? [:]
        let fqdns = (try? JSONParser.parse(try row.string("fqdns")))?.arrayValue?.compactMap(\.stringValue) ?? []
        let groups = (try? JSONParser.parse(try row.string("group_names")))?.arrayValue?.compactMap(\.stringValue) ?? []
        return GatewayInfo(
            sessionID: try row.string("session_id"), gatewayID: try row.string("gateway_id"), orgID: try row.string("org_id"),
            tokenID: try row.string("token_id"), labels: labels, fqdns: fqdns, groups: groups, boundGroupID: try row.optionalString("bound_group_id"),
            registeredAt: try row.date("registered_at"), lastHeartbeat: try row.date("last_heartbeat"), appliedRevision: try row.integer("applied_revision"),
            watching: try row.integer("watching") != 0, replicaID: try row.string("replica"))
    }
}
