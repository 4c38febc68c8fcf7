import Foundation
import Logging
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
}

/// Live gateways: registration, heartbeats, eviction of silent ones, and the change streams.
/// In memory on purpose: after a restart of the control plane, gateways register again.
public final class GatewayRegistry: Sendable {
    struct Entry {
        var info: GatewayInfo
        var stream: AsyncStream<Reshapr_Gateway_V1_ConfigurationEvent>.Continuation?
        /// What this gateway was last sent, by path, as SHA-256.
        var sent: [String: String] = [:]
    }

    /// Gateways with the same organization, labels and group receive the same directory: it is
    /// rendered once for all of them, until the next change.
    struct RenderKey: Hashable {
        var orgID: String
        var labels: [String: String]
        var group: String?
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let revision = Atomic<Int64>(0)
    /// Rendered directories, by key, with the catalogue generation they were rendered in.
    private let rendered = Mutex<(generation: Int, files: [RenderKey: [String: RenderedFile]])>((0, [:]))
    let store: Store
    /// Whether Secret files are part of what gateways receive (only over TLS, unless told otherwise).
    let sendsSecrets: Bool
    let logger: Logger

    public init(store: Store, sendsSecrets: Bool, logger: Logger) {
        self.store = store
        self.sendsSecrets = sendsSecrets
        self.logger = logger
    }

    public var gateways: [GatewayInfo] {
        entries.withLock { $0.values.map { entry in
            var info = entry.info
            info.watching = entry.stream != nil
            return info
        } }.sorted { ($0.orgID, $0.gatewayID) < ($1.orgID, $1.gatewayID) }
    }

    func nextRevision() -> Int64 {
        revision.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// Registers a gateway; a gateway id registered again replaces its previous session.
    func register(gatewayID: String, token: APIToken, labels: [String: String], fqdns: [String], groups: [String]) -> GatewayInfo {
        register(gatewayID: gatewayID, token: token, labels: labels, fqdns: fqdns, groups: groups, boundGroupID: token.gatewayGroupID)
    }

    private func register(
        gatewayID: String, token: APIToken, labels: [String: String], fqdns: [String], groups: [String], boundGroupID: String?
    ) -> GatewayInfo {
        let now = Date()
        let info = GatewayInfo(
            sessionID: Secrets.randomHex(bytes: 16), gatewayID: gatewayID, orgID: token.orgID, tokenID: token.id, labels: labels, fqdns: fqdns,
            groups: groups, boundGroupID: boundGroupID, registeredAt: now, lastHeartbeat: now, appliedRevision: 0, watching: false)
        let replaced: [Entry] = entries.withLock { entries in
            let previous = entries.filter { $0.value.info.orgID == token.orgID && $0.value.info.gatewayID == gatewayID }
            for key in previous.keys { entries.removeValue(forKey: key) }
            entries[info.sessionID] = Entry(info: info)
            return Array(previous.values)
        }
        for entry in replaced { entry.stream?.finish() }
        logger.info("gateway registered", metadata: ["gateway": "\(gatewayID)", "org": "\(token.orgID)", "groups": "\(groups)"])
        return info
    }

    func session(_ id: String) -> GatewayInfo? {
        entries.withLock { $0[id]?.info }
    }

    @discardableResult
    func heartbeat(_ id: String, appliedRevision: Int64) -> Bool {
        entries.withLock { entries in
            guard entries[id] != nil else { return false }
            entries[id]?.info.lastHeartbeat = Date()
            entries[id]?.info.appliedRevision = appliedRevision
            return true
        }
    }

    /// Removes a gateway at once (termination, eviction, revoked token); its stream ends.
    @discardableResult
    func remove(_ id: String, reason: String) -> Bool {
        guard let entry = entries.withLock({ $0.removeValue(forKey: id) }) else { return false }
        entry.stream?.finish()
        logger.info("gateway removed", metadata: ["gateway": "\(entry.info.gatewayID)", "reason": "\(reason)"])
        return true
    }

    /// Ends every change stream (at shutdown: gateways keep their files and reconnect later).
    public func closeAllStreams() {
        let streams = entries.withLock { entries in
            let streams = entries.values.compactMap(\.stream)
            for key in entries.keys { entries[key]?.stream = nil }
            return streams
        }
        for stream in streams { stream.finish() }
    }

    /// Removes gateways silent for longer than `after`; returns their ids.
    @discardableResult
    public func evictSilent(after: Duration, now: Date = Date()) -> [String] {
        let limit = Double(after.components.seconds) + Double(after.components.attoseconds) / 1e18
        let silent = entries.withLock { entries in entries.filter { now.timeIntervalSince($0.value.info.lastHeartbeat) > limit }.map(\.key) }
        return silent.filter { remove($0, reason: "no heartbeat for \(after)") }
    }

    /// Drops the gateways registered with a token that is no longer valid.
    public func dropGateways(usingToken tokenID: String) {
        let ids = entries.withLock { $0.filter { $0.value.info.tokenID == tokenID }.map(\.key) }
        for id in ids { remove(id, reason: "API token \(tokenID) revoked") }
    }

    /// Opens the change stream of a session and queues its full snapshot.
    func openStream(_ id: String) throws -> AsyncStream<Reshapr_Gateway_V1_ConfigurationEvent>? {
        guard let info = session(id) else { return nil }
        let (stream, continuation) = AsyncStream<Reshapr_Gateway_V1_ConfigurationEvent>.makeStream(bufferingPolicy: .unbounded)
        let files = try render(info)
        var event = Reshapr_Gateway_V1_ConfigurationEvent()
        event.revision = nextRevision()
        event.snapshot.files = files.values.sorted { $0.path < $1.path }.map(Self.message)
        let previous: AsyncStream<Reshapr_Gateway_V1_ConfigurationEvent>.Continuation?? = entries.withLock { entries in
            guard entries[id] != nil else { return nil }
            let previous = entries[id]?.stream
            entries[id]?.stream = continuation
            entries[id]?.sent = files.mapValues(\.sha256)
            return .some(previous)
        }
        guard let previous else { return nil }
        previous?.finish()
        continuation.yield(event)
        return stream
    }

    /// Sends each watching gateway of the organization what changed for it, if anything.
    public func push(organizationID: String) {
        // The catalogue changed: what was rendered before is stale.
        rendered.withLock { $0 = ($0.generation + 1, [:]) }
        let watching = entries.withLock { $0.values.filter { $0.info.orgID == organizationID && $0.stream != nil }.map(\.info) }
        for info in watching {
            do {
                let files = try render(info)
                entries.withLock { entries in
                    guard var entry = entries[info.sessionID], let stream = entry.stream else { return }
                    var change = Reshapr_Gateway_V1_Change()
                    change.upserts = files.values.filter { entry.sent[$0.path] != $0.sha256 }.sorted { $0.path < $1.path }.map(Self.message)
                    change.deletions = entry.sent.keys.filter { files[$0] == nil }.sorted()
                    guard !change.upserts.isEmpty || !change.deletions.isEmpty else { return }
                    var event = Reshapr_Gateway_V1_ConfigurationEvent()
                    event.revision = nextRevision()
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

    func render(_ info: GatewayInfo) throws -> [String: RenderedFile] {
        let key = RenderKey(orgID: info.orgID, labels: info.labels, group: info.boundGroupID)
        let generation = rendered.withLock { $0.generation }
        if let files = rendered.withLock({ $0.generation == generation ? $0.files[key] : nil }) { return files }
        guard let organization = try store.organization(id: info.orgID) else { return [:] }
        let files = try ConfigurationRenderer.render(
            organization: organization, labels: info.labels, onlyGroup: info.boundGroupID, store: store, includeSecrets: sendsSecrets)
        // Kept only if nothing changed while it was rendered.
        rendered.withLock { if $0.generation == generation { $0.files[key] = files } }
        return files
    }

    static func message(_ file: RenderedFile) -> Reshapr_Gateway_V1_File {
        var message = Reshapr_Gateway_V1_File()
        message.path = file.path
        message.content = file.content
        message.sha256 = file.sha256
        return message
    }
}
