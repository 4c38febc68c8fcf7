import Foundation
import Hummingbird
import Logging
import NIOCore
import ReshaprBackend
import ReshaprConfig
import ReshaprJSON
import ReshaprMCP
import ReshaprTelemetry
import ReshaprWatch
import ServiceLifecycle
import Synchronization

/// What the gateway process is told at start.
public struct GatewayOptions: Sendable {
    public var configDirectory: String
    /// Overrides the Gateway resource's listen host.
    public var host: String?
    /// Overrides the Gateway resource's listen port; 0 picks a free port.
    public var port: Int?
    public var loader: LoaderOptions
    /// Reload when the directory changes (inotify). SIGHUP reloads either way.
    public var watch: Bool
    /// Quiet period after a change before reloading.
    public var reloadDebounce: Duration
    /// A separate listener for `/status` and `/metrics` (and health), which then leave the MCP
    /// port; `nil` serves everything on the MCP port. 0 picks a free port.
    public var adminPort: Int?
    /// The admin listener's host; the MCP listen host when `nil`.
    public var adminHost: String?
    /// How often an idle `subscriptions/listen` stream carries an SSE comment.
    public var keepAliveInterval: Duration
    /// Where plans with `audit` write; standard output when nil.
    public var auditLog: AuditLog?
    /// Seals legacy session ids so that replicas sharing the key accept each other's sessions;
    /// nil keeps sessions in this process.
    public var sessionSealer: SessionSealer?

    public init(
        configDirectory: String, host: String? = nil, port: Int? = nil, loader: LoaderOptions = LoaderOptions(), watch: Bool = true,
        reloadDebounce: Duration = .milliseconds(25), adminPort: Int? = nil, adminHost: String? = nil, keepAliveInterval: Duration = .seconds(15),
        auditLog: AuditLog? = nil, sessionSealer: SessionSealer? = nil
    ) {
        self.auditLog = auditLog
        self.sessionSealer = sessionSealer
        self.keepAliveInterval = keepAliveInterval
        self.adminPort = adminPort
        self.adminHost = adminHost
        self.configDirectory = configDirectory
        self.host = host
        self.port = port
        self.loader = loader
        self.watch = watch
        self.reloadDebounce = reloadDebounce
    }
}

/// The data plane: loads the configuration directory and serves its expositions as MCP endpoints.
///
/// Besides the MCP endpoints: `/health/live` (the process answers), `/health/ready` (at least
/// one MCP endpoint is served), `/status` (what is loaded, served, and wrong, as JSON).
/// A gateway owns an HTTP client pool: `run()` releases it at the end, and a gateway that is
/// never run must be released with `shutdown()`.
public struct Gateway: Sendable {
    public let options: GatewayOptions
    public let store: ConfigurationStore
    public let sessions: SessionStore
    /// `subscriptions/listen` streams of MCP 2026-07-28 clients.
    public let subscriptions: SubscriptionHub
    public let backend: BackendClient
    public let metrics: GatewayMetrics
    public let logger: Logger
    /// Per-client rate limits of the MCP endpoints, shared by both listeners' views.
    let rateLimiter = RateLimiter()
    /// The MCP listener's address once bound, for `/status`.
    let listen: BoundAddress
    /// Watches the configuration directory (when `options.watch`); started before the first
    /// load so that no change is missed between the two.
    let watcher: DirectoryWatcher?

    /// Loads the directory once; throws only when the directory itself cannot be read or watched.
    public init(options: GatewayOptions, logger: Logger, metrics: GatewayMetrics = GatewayMetrics()) throws(ConfigDirectoryError) {
        self.options = options
        self.logger = logger
        self.metrics = metrics
        if options.watch {
            do {
                watcher = try DirectoryWatcher(root: options.configDirectory, debounce: options.reloadDebounce)
            } catch {
                throw ConfigDirectoryError(path: options.configDirectory, reason: "cannot be watched: \(error)")
            }
        } else {
            watcher = nil
        }
        let configuration: Configuration
        do {
            configuration = try ConfigLoader(root: options.configDirectory, options: options.loader).load()
        } catch {
            watcher?.stop()
            throw error
        }
        backend = BackendClient()
        sessions = SessionStore(sealer: options.sessionSealer)
        subscriptions = SubscriptionHub()
        listen = BoundAddress("\(options.host ?? configuration.gateway.host):\(options.port ?? configuration.gateway.port)")
        let routing = RoutingTable.build(configuration, backend: backend, metrics: metrics, logger: logger, audit: options.auditLog ?? .standardOutput())
        store = ConfigurationStore(configuration, routing: routing)
        Self.log(store.current, to: logger)
    }

    /// Stops watching and releases the backend connection pool.
    public func shutdown() async {
        watcher?.stop()
        sessions.closeAllStreams()
        subscriptions.closeAll()
        do {
            try await backend.shutdown()
        } catch {
            logger.warning("backend client shutdown failed", metadata: ["reason": "\(error)"])
        }
    }

    /// Host and port to listen on: options first, then the Gateway resource, then the defaults.
    public var listenAddress: (host: String, port: Int) {
        let settings = store.current.configuration.gateway
        return (options.host ?? settings.host, options.port ?? settings.port)
    }

    /// Logs every issue of a snapshot, one line each, with its location as metadata.
    public static func log(_ snapshot: ConfigurationStore.Snapshot, to logger: Logger) {
        let configuration = snapshot.configuration
        for issue in snapshot.issues {
            var metadata: Logger.Metadata = ["file": "\(issue.location)"]
            if !issue.path.isRoot { metadata["field"] = "\(issue.path)" }
            if let line = issue.line { metadata["line"] = "\(line)" }
            switch issue.severity {
            case .error: logger.error("\(issue.description)", metadata: metadata)
            case .warning: logger.warning("\(issue.description)", metadata: metadata)
            }
        }
        logger.info(
            "configuration loaded",
            metadata: [
                "dir": "\(configuration.root)", "endpoints": "\(snapshot.routing.endpoints.count)",
                "tools": "\(snapshot.routing.endpoints.values.reduce(0) { $0 + $1.tools.count })",
                "errors": "\(snapshot.issues.filter { $0.severity == .error }.count)",
                "warnings": "\(snapshot.issues.filter { $0.severity == .warning }.count)",
            ])
    }

    /// The HTTP application; `onListening` receives the bound port once the socket is open.
    public func makeApplication(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let (host, port) = listenAddress
        let listen = self.listen
        let router = Router(context: MCPRequestContext.self)
        let store = self.store
        let sessions = self.sessions
        let metrics = self.metrics
        let keepAlive = options.keepAliveInterval
        let mcp = MCPServer(
            sessions: sessions, subscriptions: subscriptions, rateLimiter: rateLimiter,
            requestStates: RequestStateSealer(key: RequestStateSealer.keyFromEnvironment()), logger: logger, metrics: metrics.factory) {
            let settings = store.current.configuration.gateway
            return MCPServer.Options(
                allowedOrigins: settings.allowedOrigins, maxBodyBytes: settings.maxBodyBytes,
                rateLimit: settings.rateLimit.map { RateLimiter.Limit(requestsPerSecond: $0.requestsPerSecond, burst: $0.burst) },
                keepAliveInterval: keepAlive)
        }
        let resolve: @Sendable (String) -> (path: String, provider: any MCPToolProvider)? = { path in
            store.current.routing.endpoint(at: path).map { ($0.path, $0.endpoint) }
        }
        router.add(middleware: MCPMiddleware(server: mcp, resolve: resolve))
        let routes = OperationalRoutes(store: store, sessions: sessions, subscriptions: subscriptions, metrics: metrics, rateLimiter: rateLimiter, listen: listen)
        routes.addProtectedResourceMetadata(to: router)
        routes.addHealth(to: router)
        // With an admin listener, status and metrics are not on the public MCP port.
        if options.adminPort == nil {
            routes.addMetrics(to: router)
            routes.addStatus(to: router)
        }
        let logger = self.logger
        let serverName = "reshapr-gateway"
        return Application(
            router: router,
            // POSTs to MCP endpoints (tool calls) are answered in the pipeline; the router serves the rest.
            server: .http1(configuration: .init(additionalChannelHandlers: [MCPChannelHandler(server: mcp, serverName: serverName, resolve: resolve)])),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: serverName),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                listen.value = "\(host):\(bound)"
                logger.info("listening", metadata: ["address": "\(host):\(bound)"])
                await onListening(bound)
            },
            logger: logger
        )
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully: open notification streams
    /// are closed, calls in flight finish, then the backend pool is released. Reloads on changes
    /// of the directory (when watching) and on SIGHUP.
    /// `additionalServices` run beside the gateway's and stop with them (the OpenTelemetry exporter).
    public func run(additionalServices: [any ServiceLifecycle.Service] = []) async throws {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: (additionalServices + services()).map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            await shutdown()
            throw error
        }
        await shutdown()
    }

    /// The admin listener (`options.adminPort`): health, `/status` and `/metrics`, nothing else.
    public func makeAdminApplication(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let host = options.adminHost ?? listenAddress.host
        let port = options.adminPort ?? 0
        let router = Router()
        let routes = OperationalRoutes(store: store, sessions: sessions, subscriptions: subscriptions, metrics: metrics, rateLimiter: rateLimiter, listen: listen)
        routes.addHealth(to: router)
        routes.addStatus(to: router)
        routes.addMetrics(to: router)
        let logger = self.logger
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "reshapr-gateway-admin"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.info("admin listening", metadata: ["address": "\(host):\(bound)"])
                await onListening(bound)
            },
            logger: logger)
    }

    /// The services of a running gateway: the HTTP server (and the admin one when configured),
    /// the reloader, and the stream closer.
    public func services(
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }, onAdminListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> [any ServiceLifecycle.Service] {
        var services: [any ServiceLifecycle.Service] = [makeApplication(onListening: onListening)]
        if options.adminPort != nil { services.append(makeAdminApplication(onListening: onAdminListening)) }
        return services + [ReloadService(gateway: self, watcher: watcher), StreamCloser(sessions: sessions, subscriptions: subscriptions)]
    }

}

/// Ends the MCP notification streams when shutdown begins, so that the HTTP server is not
/// kept waiting by clients that hold a GET stream open.
struct StreamCloser: ServiceLifecycle.Service {
    let sessions: SessionStore
    let subscriptions: SubscriptionHub

    func run() async throws {
        try? await gracefulShutdown()
        sessions.closeAllStreams()
        subscriptions.closeAll()
    }
}
