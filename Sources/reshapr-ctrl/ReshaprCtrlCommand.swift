import ArgumentParser
import Foundation
import Logging
import ReshaprControlPlane
import ReshaprDatabase
import ReshaprTelemetry
import ServiceLifecycle

/// reshapr-ctrl: the control plane. Gateways connect over gRPC; the CLI uses the REST API.
@main
struct ReshaprCtrlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reshapr-ctrl",
        abstract: "The reShapr control plane: catalogue, API tokens, gateway groups, gateway sync over gRPC, REST API for the CLI.", version: BuildInfo.version)

    @Option(help: "Listen host.") var host = "0.0.0.0"
    @Option(help: "gRPC port for gateways (0 picks a free port).") var grpcPort = 5555
    @Option(help: "REST port for the CLI (0 picks a free port).") var httpPort = 5556
    @Option(
        help: """
            The store: a SQLite file, or postgres://user@host:5432/database[?sslmode=disable|prefer|require|verify-full] \
            shared by replicas, the password in $PGPASSWORD (default: $RESHAPR_CTRL_DB, else reshapr-ctrl.sqlite).
            """)
    var database: String?
    @Option(help: "Organization of the bootstrap administrator.") var organization = "default"
    @Option(help: "Bootstrap administrator user name (default: $RESHAPR_ADMIN_USERNAME, else admin).") var adminUsername: String?
    @Option(help: "Seconds without heartbeat before a gateway is removed.") var evictAfter = 300
    @Option(help: "Heartbeat period told to gateways, in seconds.") var heartbeatInterval = 120
    @Option(help: "Log level.") var logLevel = "info"
    @Option(help: "Log format: text, logfmt or json (default: $RESHAPR_LOG_FORMAT, else text).") var logFormat: String?
    @Option(help: "PEM certificate chain for gRPC and the REST API over TLS (with --tls-key).") var tlsCert: String?
    @Option(help: "PEM private key for gRPC and the REST API over TLS (with --tls-cert).") var tlsKey: String?
    @Flag(help: "Send Secret values to gateways over plaintext gRPC (development only).") var insecurePlaintextSecrets = false
    @Option(help: "File for an audit line per change made through the REST API and per login (JSON lines, rotated at 100 MiB, 5 kept).")
    var auditLog: String?

    func run() async throws {
        let (level, format): (Logger.Level, LogFormat)
        do {
            (level, format) = try LogSetup.parse(level: logLevel, format: logFormat, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError(error.message)
        }
        guard evictAfter > 0, heartbeatInterval > 0 else { throw ValidationError("--evict-after and --heartbeat-interval must be positive") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        for file in [tlsCert, tlsKey].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("cannot read \(file)")
        }
        LogSetup.bootstrap(format: format, level: level)
        let logger = Logger(label: "reshapr.ctrl")
        let environment = ProcessInfo.processInfo.environment
        let location: DatabaseLocation
        do {
            location = try DatabaseLocation(parsing: database ?? environment["RESHAPR_CTRL_DB"] ?? "reshapr-ctrl.sqlite")
        } catch {
            throw ValidationError("--database: \(error)")
        }
        let audit: AuditLog?
        do {
            audit = try auditLog.map { path throws(AuditLog.Failure) in try AuditLog(path: path) }
        } catch {
            throw ValidationError(error.description)
        }
        logger.info("control plane starting", metadata: ["database": "\(location)"])
        let plane = try await ControlPlane(
            options: ControlPlaneOptions(
                host: host, grpcPort: grpcPort, httpPort: httpPort, database: location, evictAfter: .seconds(evictAfter),
                heartbeatInterval: .seconds(heartbeatInterval), tls: tlsCert.flatMap { cert in tlsKey.map { (cert, $0) } },
                allowPlaintextSecrets: insecurePlaintextSecrets, auditLog: audit),
            logger: logger)
        // The administrator password comes from the environment only, never from the command line.
        if let password = environment["RESHAPR_ADMIN_PASSWORD"], !password.isEmpty {
            try await plane.bootstrap(organization: organization, username: adminUsername ?? environment["RESHAPR_ADMIN_USERNAME"] ?? "admin", password: password)
        } else {
            try await plane.store.organization(named: organization)
            logger.notice("RESHAPR_ADMIN_PASSWORD is not set: no administrator was created or changed")
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: plane.services().map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
