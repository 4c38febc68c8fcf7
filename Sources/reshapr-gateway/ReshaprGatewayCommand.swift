import ArgumentParser
import Foundation
import Logging
import ReshaprBackend
import ReshaprConfig
import ReshaprGateway
import ReshaprJSON
import ReshaprMCP
import ReshaprTelemetry
import Metrics
import NIOCore
import NIOPosix
import OTel
import ServiceLifecycle

/// Swift's tasks run on NIO's event loops, installed before anything else starts: a tool call
/// then stays on the thread of the event loop that read it, through the backend call (see
/// `HTTP1ConnectionPool`), instead of hopping to Swift's own pool and back at each step.
/// Reloads read files on their own queue, never on these threads; the first load is done
/// before the server starts.
@main
enum GatewayMain {
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await ReshaprGatewayCommand.main()
    }
}

struct ReshaprGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reshapr-gateway",
        abstract: "The reShapr gateway: serves a configuration directory as MCP endpoints.",
        version: StatusReport.gatewayVersion,
        subcommands: [Serve.self, Validate.self],
        defaultSubcommand: Serve.self
    )
}

/// Options shared by the subcommands that read a configuration directory.
struct LoaderFlags: ParsableArguments {
    @Option(help: "Largest file read from the configuration directory, in bytes.")
    var maxFileSize: Int = LoaderOptions.defaultMaxFileSize

    @Option(help: "A folder whose files Secrets may name as ${file:/path} (repeatable; default /run/secrets and /var/run/secrets).")
    var secretFileRoot: [String] = []

    func options() throws -> LoaderOptions {
        guard maxFileSize > 0 else { throw ValidationError("--max-file-size must be a positive number of bytes") }
        if let relative = secretFileRoot.first(where: { !$0.hasPrefix("/") || $0 == "/" }) {
            throw ValidationError("--secret-file-root must be an absolute folder other than /, got \(relative)")
        }
        return LoaderOptions(
            maxFileSize: maxFileSize,
            secretReferences: SecretReferencePolicy(fileRoots: secretFileRoot.isEmpty ? SecretReferencePolicy.defaultFileRoots : secretFileRoot))
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load the configuration directory and serve it (the default).")

    @Option(help: "Configuration directory (default: $RESHAPR_CONFIG_DIR).")
    var configDir: String?

    @Option(help: "Listen host; overrides the Gateway resource (default 0.0.0.0).")
    var host: String?

    @Option(help: "Listen port; overrides the Gateway resource (default 7777, 0 picks a free port).")
    var port: Int?

    @Option(help: "Port of a separate admin listener for /status and /metrics, which then leave the MCP port (0 picks a free port).")
    var adminPort: Int?

    @Option(help: "Host of the admin listener (default: the listen host).")
    var adminHost: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Log format: text, logfmt or json (default: $RESHAPR_LOG_FORMAT, else text).")
    var logFormat: String?

    @Flag(inversion: .prefixedNo, help: "Reload when the configuration directory changes (inotify). SIGHUP always reloads.")
    var watch = true

    @Option(help: "Quiet period after a change before reloading, in milliseconds.")
    var reloadDebounceMs: Int = 25

    @Option(
        help: """
            OTLP endpoint for OpenTelemetry traces, e.g. http://otel-collector:4318 (default: \
            $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or $OTEL_EXPORTER_OTLP_ENDPOINT; none: no export). \
            The other OTEL_* variables (protocol, headers, sampler, batching) apply.
            """)
    var otlpEndpoint: String?

    @OptionGroup var loader: LoaderFlags

    @Option(help: "File for the audit lines of plans with audit (JSON, one per line; rotated by size, 5 kept). Default: standard output.")
    var auditLog: String?

    @Option(help: "Size in bytes at which the audit log is rotated.")
    var auditLogMaxBytes = 100 << 20

    @Option(
        help: """
            File with the key replicas share to seal legacy session ids (base64 of 32 bytes, openssl rand -base64 32), \
            and optionally the previous key on a second line. Default: $RESHAPR_SESSION_KEY and $RESHAPR_SESSION_KEY_PREVIOUS; \
            without a key, sessions live in this process only.
            """)
    var sessionKeyFile: String?

    /// The session sealer the flags or the environment ask for.
    func sessionSealer() throws -> SessionSealer? {
        let environment = ProcessInfo.processInfo.environment
        let keys: [String]
        if let sessionKeyFile {
            guard let text = try? String(contentsOfFile: sessionKeyFile, encoding: .utf8) else { throw ValidationError("cannot read --session-key-file \(sessionKeyFile)") }
            keys = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        } else {
            keys = [environment["RESHAPR_SESSION_KEY"], environment["RESHAPR_SESSION_KEY_PREVIOUS"]].compactMap { $0 }.filter { !$0.isEmpty }
        }
        guard let current = keys.first else { return nil }
        do {
            return try SessionSealer(currentKey: current, previousKey: keys.dropFirst().first)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        let (level, format): (Logger.Level, LogFormat)
        do {
            (level, format) = try LogSetup.parse(level: logLevel, format: logFormat, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError(error.message)
        }
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
        if let adminPort, !(0...65535).contains(adminPort) { throw ValidationError("--admin-port must be between 0 and 65535") }
        if adminHost != nil, adminPort == nil { throw ValidationError("--admin-host needs --admin-port") }
        guard (0...60_000).contains(reloadDebounceMs) else { throw ValidationError("--reload-debounce-ms must be between 0 and 60000") }
        guard let directory = configDir ?? ProcessInfo.processInfo.environment["RESHAPR_CONFIG_DIR"], !directory.isEmpty else {
            throw ValidationError("missing --config-dir (or the RESHAPR_CONFIG_DIR environment variable)")
        }
        LogSetup.bootstrap(format: format, level: level)
        let metrics = GatewayMetrics()
        MetricsSystem.bootstrap(metrics.registry.factory)
        let logger = Logger(label: "reshapr.gateway")
        let gateway: Gateway
        do {
            let audit = try auditLog.map { path throws(AuditLog.Failure) in try AuditLog(path: path, maxBytes: auditLogMaxBytes) }
            let options = GatewayOptions(
                configDirectory: directory, host: host, port: port, loader: try loader.options(), watch: watch,
                reloadDebounce: .milliseconds(reloadDebounceMs), adminPort: adminPort, adminHost: adminHost, auditLog: audit,
                sessionSealer: try sessionSealer())
            gateway = try Gateway(options: options, logger: logger, metrics: metrics)
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        let snapshot = gateway.store.current
        FileHandle.standardOutput.write(Data((SummaryTable.render(snapshot.configuration, routing: snapshot.routing) + "\n").utf8))
        try await gateway.run(additionalServices: try tracing(logger: logger))
    }

    /// Traces go to an OTLP collector when an endpoint is configured; logs and metrics stay
    /// with our own handlers (standard error, /metrics).
    func tracing(logger: Logger) throws -> [any ServiceLifecycle.Service] {
        let environment = ProcessInfo.processInfo.environment
        guard otlpEndpoint != nil || environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] != nil || environment["OTEL_EXPORTER_OTLP_ENDPOINT"] != nil else {
            return []
        }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "reshapr-gateway"
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        var otelEnvironment = environment
        if let otlpEndpoint { otelEnvironment["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpEndpoint }
        do {
            let service = try OTel.bootstrap(configuration: configuration, environment: otelEnvironment)
            logger.info("exporting traces over OTLP", metadata: ["endpoint": "\(otlpEndpoint ?? environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? environment["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? "")"])
            return [service]
        } catch {
            throw ValidationError("cannot export traces: \(error)")
        }
    }
}

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a configuration directory and exit non-zero when it has errors (for CI pipelines).")

    enum Format: String, ExpressibleByArgument {
        case text
        case json
    }

    @Argument(help: "The configuration directory.")
    var directory: String

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    @OptionGroup var loader: LoaderFlags

    func run() async throws {
        let configuration: Configuration
        do {
            configuration = try ConfigLoader(root: directory, options: try loader.options()).load()
        } catch let error as ConfigDirectoryError {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        // Compile the tools too: a selector that matches nothing, or a service type that cannot
        // be served, is worth knowing before deploying.
        let backend = BackendClient()
        var logger = Logger(label: "reshapr.validate")
        logger.logLevel = .error
        let routing = RoutingTable.build(configuration, backend: backend, logger: logger)
        try? await backend.shutdown()
        let issues = configuration.issues + routing.issues
        let empty = configuration.resourceDocuments == 0
        let failed = issues.contains { $0.severity == .error } || empty
        switch format {
        case .json:
            print(StatusReport.validation(configuration, routing: routing, valid: !failed).serialized(pretty: true))
        case .text:
            print(SummaryTable.render(configuration, routing: routing))
            for issue in issues { printError("\(issue.severity.rawValue): \(issue)") }
            if empty { printError("error: \(directory) holds no \(resourceAPIVersion) resources: a gateway would serve nothing") }
            printError(failed ? "\(directory): invalid" : "\(directory): valid")
        }
        if failed { throw ExitCode(1) }
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
