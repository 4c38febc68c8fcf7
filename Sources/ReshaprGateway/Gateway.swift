import Foundation
import Hummingbird
import Logging
import NIOCore
import ReshaprConfig
import ReshaprJSON
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

    public init(configDirectory: String, host: String? = nil, port: Int? = nil, loader: LoaderOptions = LoaderOptions()) {
        self.configDirectory = configDirectory
        self.host = host
        self.port = port
        self.loader = loader
    }
}

/// The data plane: loads the configuration directory and serves it over HTTP.
///
/// Endpoints: `/health/live` (the process answers), `/health/ready` (at least one MCP endpoint
/// is served), `/status` (what is loaded, served, and wrong, as JSON).
public struct Gateway: Sendable {
    public let options: GatewayOptions
    public let store: ConfigurationStore
    public let logger: Logger

    /// Loads the directory once; throws only when the directory itself cannot be read.
    public init(options: GatewayOptions, logger: Logger) throws(ConfigDirectoryError) {
        self.options = options
        self.logger = logger
        let configuration = try ConfigLoader(root: options.configDirectory, options: options.loader).load()
        self.store = ConfigurationStore(configuration)
        Self.log(configuration, to: logger)
    }

    /// Host and port to listen on: options first, then the Gateway resource, then the defaults.
    public var listenAddress: (host: String, port: Int) {
        let settings = store.current.configuration.gateway
        return (options.host ?? settings.host, options.port ?? settings.port)
    }

    /// Logs every issue of a configuration, one line each, with its location as metadata.
    public static func log(_ configuration: Configuration, to logger: Logger) {
        for issue in configuration.issues {
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
                "dir": "\(configuration.root)", "endpoints": "\(configuration.expositions.count)",
                "errors": "\(configuration.errors.count)", "warnings": "\(configuration.warnings.count)",
            ])
    }

    /// The HTTP application; `onListening` receives the bound port once the socket is open.
    public func makeApplication(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let (host, port) = listenAddress
        let router = Router()
        let store = self.store
        router.get("/health/live") { _, _ in
            Self.json(["status": "live"])
        }
        router.get("/health/ready") { _, _ in
            let snapshot = store.current
            return Self.json(StatusReport.readiness(snapshot), status: StatusReport.isReady(snapshot.configuration) ? .ok : .serviceUnavailable)
        }
        let listen = BoundAddress("\(host):\(port)")
        router.get("/status") { _, _ in
            Self.json(StatusReport.status(store.current, listen: listen.value))
        }
        let logger = self.logger
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "reshapr-gateway"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                listen.value = "\(host):\(bound)"
                logger.info("listening", metadata: ["address": "\(host):\(bound)"])
                await onListening(bound)
            },
            logger: logger
        )
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully.
    public func run() async throws {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: makeApplication())],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized(pretty: true) + "\n")))
    }
}

/// The address actually bound, known only once the server runs (port 0 picks one).
private final class BoundAddress: Sendable {
    private let state: Mutex<String>

    init(_ initial: String) {
        state = Mutex(initial)
    }

    var value: String {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}
