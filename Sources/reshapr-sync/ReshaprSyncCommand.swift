import ArgumentParser
import Foundation
import Logging
import ReshaprSync
import ReshaprTelemetry
import ServiceLifecycle

/// reshapr-sync: keeps a configuration directory in step with the control plane.
@main
struct ReshaprSyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reshapr-sync",
        abstract: "Registers a gateway with reshapr-ctrl and writes its configuration directory atomically.",
        discussion: """
            Configured by RESHAPR_CTRL_HOST, RESHAPR_CTRL_PORT (5555), RESHAPR_CTRL_TLS_PLAINTEXT (false), \
            RESHAPR_CTRL_TOKEN, RESHAPR_GATEWAY_ID, RESHAPR_GATEWAY_FQDNS (localhost), RESHAPR_GATEWAY_LABELS (k=v,k=v) \
            and RESHAPR_CTRL_CA_FILE; each flag overrides its variable.
            """,
        version: BuildInfo.version)

    @Option(help: "The configuration directory to write (default: $RESHAPR_CONFIG_DIR).") var configDir: String?
    @Option(help: "Overrides RESHAPR_CTRL_HOST.") var ctrlHost: String?
    @Option(help: "Overrides RESHAPR_CTRL_PORT.") var ctrlPort: String?
    @Option(help: "Overrides RESHAPR_CTRL_TLS_PLAINTEXT (true or false).") var plaintext: String?
    @Option(help: "Overrides RESHAPR_CTRL_CA_FILE.") var caFile: String?
    @Option(help: "Overrides RESHAPR_CTRL_TOKEN.") var token: String?
    @Option(help: "Overrides RESHAPR_GATEWAY_ID.") var gatewayId: String?
    @Option(help: "Overrides RESHAPR_GATEWAY_FQDNS.") var fqdns: String?
    @Option(help: "Overrides RESHAPR_GATEWAY_LABELS.") var labels: String?
    @Option(help: "Heartbeat period in seconds (default: what the control plane says, 120).") var heartbeatInterval: Int?
    @Flag(help: "Register, write the snapshot, terminate: for mirroring into an air-gapped site.") var once = false
    @Option(help: "Log level.") var logLevel = "info"
    @Option(help: "Log format: text, logfmt or json (default: $RESHAPR_LOG_FORMAT, else text).") var logFormat: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var overrides: [String: String] = [:]
        for (key, value) in [
            ("RESHAPR_CTRL_HOST", ctrlHost), ("RESHAPR_CTRL_PORT", ctrlPort), ("RESHAPR_CTRL_TLS_PLAINTEXT", plaintext), ("RESHAPR_CTRL_CA_FILE", caFile),
            ("RESHAPR_CTRL_TOKEN", token), ("RESHAPR_GATEWAY_ID", gatewayId), ("RESHAPR_GATEWAY_FQDNS", fqdns), ("RESHAPR_GATEWAY_LABELS", labels),
        ] {
            if let value { overrides[key] = value }
        }
        let settings: SyncConfiguration
        do {
            settings = try SyncConfiguration.from(environment: environment, overrides: overrides)
        } catch {
            fail("error: \(error)", code: 2)
        }
        guard let directory = configDir ?? environment["RESHAPR_CONFIG_DIR"], !directory.isEmpty else {
            fail("error: RESHAPR_CONFIG_DIR: is required (or --config-dir)", code: 2)
        }
        if let heartbeatInterval, heartbeatInterval < 1 { fail("error: --heartbeat-interval must be at least 1 second", code: 2) }
        let (level, format): (Logger.Level, LogFormat)
        do {
            (level, format) = try LogSetup.parse(level: logLevel, format: logFormat, environment: environment)
        } catch {
            fail("error: \(error.message)", code: 2)
        }
        LogSetup.bootstrap(format: format, level: level)
        let logger = Logger(label: "reshapr.sync")
        let agent = SyncAgent(
            configuration: settings, directory: directory, heartbeatInterval: heartbeatInterval.map { .seconds($0) }, logger: logger)
        do {
            if once {
                try await agent.runOnce()
            } else {
                let group = ServiceGroup(
                    configuration: ServiceGroupConfiguration(services: [.init(service: agent)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
            }
        } catch let refused as RegistrationRefused {
            fail("error: \(refused)", code: 1)
        }
    }

    func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        Foundation.exit(code)
    }
}
