import Foundation
import ReshaprConfig
import ReshaprJSON

/// The JSON documents of `/status` and `/health/ready`. Secret values never appear: security
/// settings are shown by type only, and backend headers not at all.
public enum StatusReport {
    public static let gatewayVersion = "0.1.0"

    /// Ready means: a configuration is loaded and at least one MCP endpoint is served.
    public static func isReady(_ configuration: Configuration) -> Bool {
        !configuration.expositions.isEmpty
    }

    public static func readiness(_ snapshot: ConfigurationStore.Snapshot) -> JSONValue {
        let configuration = snapshot.configuration
        if isReady(configuration) {
            return ["status": "ready", "endpoints": .integer(configuration.expositions.count)]
        }
        return [
            "status": "not ready",
            "reason": .string(
                configuration.errors.isEmpty
                    ? "no exposition is served yet (configuration directory has none)"
                    : "no exposition is served; \(configuration.errors.count) configuration error(s), see /status"),
        ]
    }

    public static func status(_ snapshot: ConfigurationStore.Snapshot, listen: String) -> JSONValue {
        let configuration = snapshot.configuration
        let settings = configuration.gateway
        var resources: [String: JSONValue] = [:]
        for kind in ResourceKind.allCases { resources[kind.rawValue] = .integer(configuration.resourceCounts[kind] ?? 0) }
        return [
            "gateway": [
                "version": .string(gatewayVersion),
                "listen": .string(listen),
                "fqdns": .array(settings.fqdns.map(JSONValue.string)),
                "labels": .object(settings.labels.mapValues(JSONValue.string)),
                "settingsSource": settings.source.map { .string($0.description) } ?? "defaults",
            ],
            "ready": .bool(isReady(configuration)),
            "configDir": .string(configuration.root),
            "loadedAt": .string(snapshot.loadedAt.ISO8601Format()),
            "generation": .integer(snapshot.generation),
            "filesScanned": .integer(configuration.filesScanned),
            "resources": .object(resources),
            "endpoints": .array(configuration.expositions.map { endpoint($0, fqdn: settings.fqdns.first ?? "localhost", port: listen) }),
            "failedExpositions": .array(configuration.failedExpositions.sorted().map { .string($0.description) }),
            "errors": .array(configuration.errors.map(\.json)),
            "warnings": .array(configuration.warnings.map(\.json)),
        ]
    }

    static func endpoint(_ exposition: ResolvedExposition, fqdn: String, port listen: String) -> JSONValue {
        let port = listen.split(separator: ":").last.map(String.init) ?? "\(GatewaySettings.defaultPort)"
        let host = fqdn.contains(":") ? fqdn : "\(fqdn):\(port)"
        let backend: JSONValue
        switch exposition.plan.backend {
        case .mock: backend = ["mock": true]
        case .http(let http): backend = ["endpoint": .string(http.endpoint), "timeoutMs": .integer(Int(http.timeout.components.seconds * 1000 + http.timeout.components.attoseconds / 1_000_000_000_000_000))]
        }
        return [
            "exposition": .string(exposition.name.description),
            "path": .string(exposition.path),
            "url": .string("http://\(host)\(exposition.path)"),
            "service": [
                "name": .string(exposition.service.metadata.name),
                "version": .string(exposition.service.version),
                "type": .string(exposition.service.type.rawValue),
            ],
            "plan": .string(exposition.plan.metadata.name),
            "backend": backend,
            "backendSecurity": .string(exposition.plan.backendSecurity.typeName),
            "clientSecurity": .string(exposition.plan.clientSecurity.typeName),
            "source": .string(exposition.exposition.source.description),
        ]
    }
}

/// A plain-text table of the served endpoints, printed at start and by `validate`.
public enum SummaryTable {
    public static func render(_ configuration: Configuration) -> String {
        var rows: [[String]] = [["EXPOSITION", "ENDPOINT", "SERVICE", "PLAN", "BACKEND", "SOURCE"]]
        for e in configuration.expositions {
            let backend: String
            switch e.plan.backend {
            case .mock: backend = "mock"
            case .http(let http): backend = http.endpoint
            }
            rows.append([
                e.name.description, e.path, "\(e.service.metadata.name) \(e.service.version) (\(e.service.type.rawValue))",
                e.plan.metadata.name, backend, e.exposition.source.description,
            ])
        }
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        var out = rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
        let counts = ResourceKind.allCases.map { "\(configuration.resourceCounts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
        out += "\n\(configuration.expositions.count) endpoint(s) from \(configuration.filesScanned) file(s): \(counts)"
        let errors = configuration.errors.count
        let warnings = configuration.warnings.count
        if errors + warnings > 0 { out += "; \(errors) error(s), \(warnings) warning(s)" }
        return out
    }
}

extension StatusReport {
    /// The `validate --format json` document.
    public static func validation(_ configuration: Configuration, valid: Bool) -> JSONValue {
        var resources: [String: JSONValue] = [:]
        for kind in ResourceKind.allCases { resources[kind.rawValue] = .integer(configuration.resourceCounts[kind] ?? 0) }
        return [
            "valid": .bool(valid),
            "configDir": .string(configuration.root),
            "filesScanned": .integer(configuration.filesScanned),
            "resources": .object(resources),
            "endpoints": .array(configuration.expositions.map { .string($0.path) }),
            "errors": .array(configuration.errors.map(\.json)),
            "warnings": .array(configuration.warnings.map(\.json)),
        ]
    }
}
