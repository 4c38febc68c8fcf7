import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ReshaprJSON
import ReshaprSyncProtocol
import ServiceLifecycle
import Synchronization

/// The control plane refused the token: retrying cannot help.
public struct RegistrationRefused: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { "the control plane refused the registration: \(message)" }
}

/// The bridge between the control plane and the configuration directory (ARCHITECTURE.md
/// section 3): registers, sends heartbeats, applies the change stream to the directory
/// atomically, reconnects with exponential backoff and jitter when the control plane goes away
/// (leaving the directory as it is, so the gateway keeps serving), and says goodbye on shutdown.
public final class SyncAgent: Sendable {
    /// The hidden status file the gateway shows on /status.
    public static let statusFileName = ".reshapr-sync-status.json"
    public static let agentVersion = "0.1.0"

    let configuration: SyncConfiguration
    let writer: AtomicDirectoryWriter
    let heartbeatOverride: Duration?
    let logger: Logger
    private let state = Mutex<State>(State())

    struct State {
        var files: [String: Data] = [:]
        var revision: Int64 = 0
        var session: String?
        var organization: String?
        var lastAck: Date?
        var syncState = "starting"
        var lastError: String?
        /// The index, in `configuration.addresses`, of the replica tried now.
        var addressIndex = 0
    }

    public init(configuration: SyncConfiguration, directory: String, heartbeatInterval: Duration? = nil, logger: Logger) {
        self.configuration = configuration
        writer = AtomicDirectoryWriter(root: directory)
        heartbeatOverride = heartbeatInterval
        self.logger = logger
        state.withLock { $0.files = writer.currentFiles() }
    }

    // MARK: - Running

    /// Runs until graceful shutdown: reconnects forever, except after a refused registration.
    public func run() async throws {
        var backoff = 0.5
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await self.connectAndSync(once: false) }
                backoff = 0.5
            } catch let refused as RegistrationRefused {
                writeStatus("refused", error: refused.message)
                throw refused
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                let reason = Self.describe(error)
                writeStatus("unsynchronized", error: reason)
                // The next replica at once, unless every one has just been tried.
                let (next, wrapped) = state.withLock { state in
                    state.addressIndex = (state.addressIndex + 1) % max(1, configuration.addresses.count)
                    return (currentAddress(state), state.addressIndex == 0)
                }
                if !wrapped {
                    logger.warning("control plane unreachable; trying the next replica", metadata: ["reason": "\(reason)", "next": "\(next)"])
                    continue
                }
                logger.warning("control plane unreachable; keeping the configuration directory as it is", metadata: ["reason": "\(reason)", "retryInSeconds": "\(backoff)"])
                let jittered = backoff * Double.random(in: 0.5...1.5)
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(Int(jittered * 1000))) }
                backoff = min(backoff * 2, 30)
            }
        }
        await terminate(reason: "shutdown")
    }

    /// Registers, writes the snapshot, terminates (for mirroring into an air-gapped site).
    public func runOnce() async throws {
        try await connectAndSync(once: true)
        await terminate(reason: "--once")
    }

    /// The largest message of the change stream accepted, in bytes: a snapshot carries every
    /// artifact of the gateway's groups, far past gRPC's 4 MiB default.
    public static let maxMessageBytes = 512 << 20

    func withClient<Result: Sendable>(_ body: (Reshapr_Gateway_V1_GatewaySync.Client<HTTP2ClientTransport.Posix>) async throws -> Result) async throws -> Result {
        let security: HTTP2ClientTransport.Posix.TransportSecurity
        if configuration.plaintext {
            security = .plaintext
        } else if let ca = configuration.caFile {
            security = .tls { config in config.trustRoots = .certificates([.file(path: ca, format: .pem)]) }
        } else {
            security = .tls
        }
        // grpc-swift-nio-transport 2.9 bounds what the client decodes by maxRequestMessageBytes,
        // so both are raised (our requests stay small either way).
        let limits = ServiceConfig(methodConfig: [
            MethodConfig(
                names: [MethodConfig.Name(service: Reshapr_Gateway_V1_GatewaySync.descriptor.fullyQualifiedService)],
                maxRequestMessageBytes: Self.maxMessageBytes, maxResponseMessageBytes: Self.maxMessageBytes)
        ])
        let address = currentAddress
        let transport = try HTTP2ClientTransport.Posix(
            target: .dns(host: address.host, port: address.port), transportSecurity: security, serviceConfig: limits)
        return try await withGRPCClient(transport: transport) { client in
            try await body(Reshapr_Gateway_V1_GatewaySync.Client(wrapping: client))
        }
    }

    /// The control-plane replica this agent talks to (or tries to).
    var currentAddress: SyncConfiguration.Address {
        currentAddress(state.withLock { $0 })
    }

    private func currentAddress(_ state: State) -> SyncConfiguration.Address {
        let addresses = configuration.addresses
        guard !addresses.isEmpty else { return SyncConfiguration.Address(host: "localhost", port: SyncConfiguration.defaultPort) }
        return addresses[state.addressIndex % addresses.count]
    }

    var metadata: Metadata { ["authorization": "Bearer \(configuration.token)"] }

    func connectAndSync(once: Bool) async throws {
        try await withClient { sync in
            var request = Reshapr_Gateway_V1_RegisterRequest()
            request.gatewayID = configuration.gatewayID
            request.labels = configuration.labels
            request.fqdns = configuration.fqdns
            request.agentVersion = Self.agentVersion
            let registration: Reshapr_Gateway_V1_RegisterResponse
            do {
                registration = try await sync.register(request, metadata: metadata)
            } catch let error as RPCError where error.code == .unauthenticated || error.code == .permissionDenied {
                throw RegistrationRefused(message: error.message)
            }
            state.withLock {
                $0.session = registration.sessionID
                $0.organization = registration.organization
                $0.syncState = "registered"
            }
            logger.info(
                "registered", metadata: ["organization": "\(registration.organization)", "groups": "\(registration.groups.map(\.name))"])
            let interval = heartbeatOverride ?? .seconds(max(1, registration.heartbeatIntervalSeconds))
            var watchRequest = Reshapr_Gateway_V1_WatchRequest()
            watchRequest.sessionID = registration.sessionID
            let watch = watchRequest
            try await withThrowingTaskGroup(of: Void.self) { group in
                if !once {
                    group.addTask { try await self.heartbeats(sync, session: registration.sessionID, every: interval) }
                }
                group.addTask {
                    try await sync.watch(watch, metadata: self.metadata) { response in
                        for try await event in response.messages {
                            try self.apply(event)
                            if once { return }
                        }
                    }
                    if !once { throw RPCError(code: .unavailable, message: "the change stream ended") }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    func heartbeats(_ sync: Reshapr_Gateway_V1_GatewaySync.Client<HTTP2ClientTransport.Posix>, session: String, every interval: Duration) async throws {
        while true {
            try await Task.sleep(for: interval)
            var request = Reshapr_Gateway_V1_HeartbeatRequest()
            request.sessionID = session
            request.appliedRevision = state.withLock { $0.revision }
            // A NOT_FOUND (evicted) ends this connection: the loop registers again.
            _ = try await sync.heartbeat(request, metadata: metadata)
            state.withLock { $0.lastAck = Date() }
            writeStatus(nil, error: nil)
        }
    }

    /// Applies one event of the change stream to the directory.
    func apply(_ event: Reshapr_Gateway_V1_ConfigurationEvent) throws {
        guard let outcome = try SnapshotApplier.apply(event, to: state.withLock { $0.files }) else { return }
        try writer.publish(outcome.files, revision: event.revision)
        let problem = outcome.refused.isEmpty ? nil : "refused file paths: \(outcome.refused.joined(separator: ", "))"
        state.withLock {
            $0.files = outcome.files
            $0.revision = event.revision
            $0.syncState = "synchronized"
            $0.lastError = problem
        }
        writeStatus("synchronized", error: problem)
        if let problem { logger.warning("files left out of the configuration", metadata: ["revision": "\(event.revision)", "reason": "\(problem)"]) }
        logger.info("configuration written", metadata: ["revision": "\(event.revision)", "files": "\(outcome.files.count)"])
    }

    /// Tells the control plane the gateway is going away (best effort, bounded in time).
    func terminate(reason: String) async {
        guard let session = state.withLock({ $0.session }) else { return }
        var message = Reshapr_Gateway_V1_TerminateRequest()
        message.sessionID = session
        message.reason = reason
        let request = message
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await self.withClient { try await $0.terminate(request, metadata: self.metadata) } }
                group.addTask {
                    try await Task.sleep(for: .seconds(3))
                    throw RPCError(code: .deadlineExceeded, message: "no answer")
                }
                try await group.next()
                group.cancelAll()
            }
            logger.info("termination notice sent")
        } catch {
            logger.warning("could not send the termination notice", metadata: ["reason": "\(Self.describe(error))"])
        }
        state.withLock { $0.session = nil }
        writeStatus("stopped", error: nil)
    }

    // MARK: - Status

    func writeStatus(_ newState: String?, error: String?) {
        let snapshot = state.withLock { state -> State in
            if let newState { state.syncState = newState }
            if let error { state.lastError = error }
            return state
        }
        var status: JSONObject = [
            "state": .string(snapshot.syncState), "revision": .integer(Int(snapshot.revision)),
            "controlPlane": .string("\(currentAddress)"), "gatewayId": .string(configuration.gatewayID),
            "updatedAt": .string(Date().ISO8601Format()), "files": .integer(snapshot.files.count),
        ]
        if let organization = snapshot.organization { status["organization"] = .string(organization) }
        if let ack = snapshot.lastAck { status["lastAck"] = .string(ack.ISO8601Format()) }
        if let lastError = snapshot.lastError { status["lastError"] = .string(lastError) }
        do {
            try writer.writeAtomically(Self.statusFileName, Data(JSONValue.object(status).serialized(pretty: true).utf8))
        } catch {
            logger.error("cannot write the status file", metadata: ["reason": "\(error)"])
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? RPCError { return "\(error.code): \(error.message)" }
        return "\(error)"
    }
}

extension SyncAgent: ServiceLifecycle.Service {}
