import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import ReshaprDatabase
import ReshaprTelemetry
import NIOSSL
import ServiceLifecycle

/// What reshapr-ctrl is told at start.
public struct ControlPlaneOptions: Sendable {
    public var host: String
    /// Where every change made through the REST API, and every login, is written as a JSON line.
    public var auditLog: AuditLog?
    /// gRPC port for gateways; 0 picks a free one.
    public var grpcPort: Int
    /// REST/JSON port for the CLI; 0 picks a free one.
    public var httpPort: Int
    /// Where the store is: a SQLite file, memory (tests), or PostgreSQL shared by replicas.
    public var database: DatabaseLocation
    /// A gateway with no heartbeat for this long is removed and must register again.
    public var evictAfter: Duration
    /// The heartbeat period gateways are told to use.
    public var heartbeatInterval: Duration
    /// How often silent gateways and invalid tokens are looked for.
    public var maintenanceInterval: Duration
    /// PEM certificate chain and private key files for gRPC and the REST API over TLS;
    /// plaintext when `nil`.
    public var tls: (certificatePath: String, keyPath: String)?
    /// Send Secret values over plaintext gRPC too (development only). Over TLS they are always sent.
    public var allowPlaintextSecrets: Bool

    public init(
        host: String = "0.0.0.0", grpcPort: Int = 5555, httpPort: Int = 5556, database: DatabaseLocation = .sqliteMemory, evictAfter: Duration = .seconds(300),
        heartbeatInterval: Duration = .seconds(120), maintenanceInterval: Duration = .seconds(1),
        tls: (certificatePath: String, keyPath: String)? = nil, allowPlaintextSecrets: Bool = false, auditLog: AuditLog? = nil
    ) {
        self.auditLog = auditLog
        self.tls = tls
        self.allowPlaintextSecrets = allowPlaintextSecrets
        self.host = host
        self.grpcPort = grpcPort
        self.httpPort = httpPort
        self.database = database
        self.evictAfter = evictAfter
        self.heartbeatInterval = heartbeatInterval
        self.maintenanceInterval = maintenanceInterval
    }
}

/// The control plane: the catalogue store, the live gateway registry, and the gRPC server that
/// gateways connect to. Every change of an organization's catalogue is pushed at once to its
/// connected gateways, and only to them.
public final class ControlPlane: Sendable {
    public let options: ControlPlaneOptions
    public let store: Store
    public let registry: GatewayRegistry
    let logger: Logger
    /// How the REST API serves: over TLS when `options.tls` is set, read at start so that a bad
    /// certificate or key fails the start rather than the first request.
    let restServer: HTTPServerBuilder
    /// Catalogue changes, in commit order, from this replica and the others: pushed one at a time.
    let changes: AsyncStream<(String, Int64)>
    let changesContinuation: AsyncStream<(String, Int64)>.Continuation

    /// Concurrent RPCs one gateway connection may hold (Watch streams stay open).
    public static let maxStreamsPerConnection = 10_000

    /// Opens and migrates the store; fails when the database cannot be reached.
    public init(options: ControlPlaneOptions, logger: Logger) async throws {
        self.options = options
        self.logger = logger
        if let tls = options.tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificatePath).map { NIOSSLCertificateSource.certificate($0) }
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.keyPath, format: .pem)))
            restServer = try .tls(.http1(), tlsConfiguration: configuration)
        } else {
            restServer = .http1()
        }
        store = try await Store(location: options.database, logger: logger)
        registry = GatewayRegistry(store: store, sendsSecrets: options.tls != nil || options.allowPlaintextSecrets, logger: logger)
        if options.tls == nil {
            logger.warning(
                "gRPC is plaintext",
                metadata: [
                    "secrets": "\(options.allowPlaintextSecrets ? "sent anyway (--insecure-plaintext-secrets)" : "not sent to gateways; use --tls-cert and --tls-key")"
                ])
            logger.warning("the REST API is plaintext: passwords and sessions travel in clear; use --tls-cert and --tls-key")
        }
        let (changes, continuation) = AsyncStream<(String, Int64)>.makeStream(bufferingPolicy: .unbounded)
        self.changes = changes
        changesContinuation = continuation
        store.onChange { organizationID, revision in continuation.yield((organizationID, revision)) }
        try await registry.load()
    }

    /// Creates the organization and its administrator if they do not exist (or sets the password).
    public func bootstrap(organization name: String, username: String, password: String) async throws {
        guard password.count >= 8 else { throw StoreError.invalid("the administrator password must have at least 8 characters") }
        let organization = try await store.organization(named: name)
        try await store.setUser(username, password: password, organization: organization)
    }

    /// The services of a running control plane: the gRPC server (gateways), the REST API
    /// (CLI) and the maintenance loop. Run them in a `ServiceGroup`; graceful shutdown stops them.
    /// The callbacks get the bound ports.
    public func services(
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }, onHTTPListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> [any ServiceLifecycle.Service] {
        let logger = self.logger
        // Passwords, sessions, secret values and exports travel on the REST API: TLS whenever
        // the control plane has a certificate.
        let api = Application(
            router: RESTAPI(store: store, registry: registry, audit: options.auditLog).router(),
            server: restServer,
            configuration: ApplicationConfiguration(address: .hostname(options.host, port: options.httpPort), serverName: "reshapr-ctrl"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("REST API listening", metadata: ["port": "\(port)"])
                await onHTTPListening(port)
            },
            logger: logger)
        let security: HTTP2ServerTransport.Posix.TransportSecurity
        if let tls = options.tls {
            security = .tls(certificateChain: [.file(path: tls.certificatePath, format: .pem)], privateKey: .file(path: tls.keyPath, format: .pem))
        } else {
            security = .plaintext
        }
        // A bastion's sync may serve many gateways over one connection, each with its Watch
        // stream open for good: HTTP/2's default of 100 concurrent streams would leave the
        // 101st RPC waiting forever on the client.
        var config = HTTP2ServerTransport.Posix.Config.defaults
        config.http2.maxConcurrentStreams = Self.maxStreamsPerConnection
        let grpc = GRPCServerService(
            host: options.host, port: options.grpcPort, security: security, config: config,
            service: GatewaySyncService(store: store, registry: registry, heartbeatInterval: options.heartbeatInterval), registry: registry,
            logger: logger, onListening: onListening)
        // Shut down in reverse order: the store closes last.
        return [StoreService(plane: self), grpc, api, MaintenanceService(plane: self)]
    }

    /// Removes silent gateways (whichever replica they are on) and this replica's gateways
    /// whose token expired or was revoked.
    func maintain() async {
        do {
            try await registry.evictSilent(after: options.evictAfter)
            // Once per token, not per gateway: a thousand gateways usually share a few tokens.
            for tokenID in registry.localTokens {
                if try await !store.tokenIsValid(tokenID) { try await registry.dropGateways(usingToken: tokenID) }
            }
        } catch where !Task.isCancelled {
            logger.warning("gateway maintenance failed; trying again", metadata: ["error": "\(error)"])
        } catch {
            // Shutting down.
        }
    }
}

/// The gRPC server as a service: serves until graceful shutdown, then lets calls finish.
struct GRPCServerService: ServiceLifecycle.Service {
    let host: String
    let port: Int
    let security: HTTP2ServerTransport.Posix.TransportSecurity
    let config: HTTP2ServerTransport.Posix.Config
    let service: GatewaySyncService
    let registry: GatewayRegistry
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void

    func run() async throws {
        // Our own listening socket: its backlog holds thousands of syncs reconnecting at once.
        let descriptor = try ListeningSocket.make(host: host, port: port)
        let transport = HTTP2ServerTransport.Posix(listeningSocketDescriptor: Int(descriptor), transportSecurity: security, config: config)
        let server = GRPCServer(transport: transport, services: [service])
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                try await withGracefulShutdownHandler {
                    try await server.serve()
                } onGracefulShutdown: {
                    // Change streams never end by themselves: end them so that shutdown can finish.
                    registry.closeAllStreams()
                    server.beginGracefulShutdown()
                }
            }
            group.addTask {
                let address = try await transport.listeningAddress
                let bound = address.ipv4.map { ($0.host, $0.port) } ?? address.ipv6.map { ("[\($0.host)]", $0.port) }
                guard let (host, port) = bound else { return }
                logger.info("gRPC listening", metadata: ["address": "\(host):\(port)"])
                await onListening(port)
            }
        }
    }
}

/// Evicts silent gateways and drops those with invalid tokens, until graceful shutdown.
struct MaintenanceService: ServiceLifecycle.Service {
    let plane: ControlPlane

    func run() async throws {
        let interval = plane.options.maintenanceInterval
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: interval)
                await plane.maintain()
            }
        }
    }
}

/// The store's life: changes pushed to the gateways in commit order, the other replicas' events
/// (through the database's notifications), and the database closed at the very end.
struct StoreService: ServiceLifecycle.Service {
    let plane: ControlPlane

    func run() async throws {
        let registry = plane.registry
        let store = plane.store
        let logger = plane.logger
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await (organizationID, revision) in plane.changes {
                    await registry.push(organizationID: organizationID, revision: revision)
                }
            }
            group.addTask {
                await store.listen(
                    onReconnect: {
                        logger.info("notifications from the other replicas resumed; catching up")
                        do {
                            try await registry.catchUp()
                            try await registry.reconcile()
                        } catch {
                            logger.warning("cannot catch up with the other replicas", metadata: ["error": "\(error)"])
                        }
                    },
                    onEvent: { event in
                        switch event {
                        case .catalogue(let organizationID, let revision): plane.changesContinuation.yield((organizationID, revision))
                        case .gatewayRemoved(let sessionID, let reason): registry.dropLocal(sessionID, reason: reason)
                        }
                    })
            }
            try? await gracefulShutdown()
            plane.changesContinuation.finish()
            group.cancelAll()
        }
        try? await registry.markStreamsClosed()
        await store.close()
    }
}
