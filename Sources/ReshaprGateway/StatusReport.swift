import Foundation
import ReshaprConfig
import ReshaprJSON
import ReshaprTelemetry
import ReshaprMCP

/// The JSON documents of `/status` and `/health/ready`. Secret values never appear: security
/// settings are shown by type only, and backend headers not at all.
public enum StatusReport {
    public static var gatewayVersion: String { BuildInfo.version }

    /// Ready means: a configuration is loaded and at least one MCP endpoint is served.
    public static func isReady(_ snapshot: ConfigurationStore.Snapshot) -> Bool {
        !snapshot.routing.endpoints.isEmpty
    }

    public static func readiness(_ snapshot: ConfigurationStore.Snapshot) -> JSONValue {
        if isReady(snapshot) {
            return ["status": "ready", "endpoints": .integer(snapshot.routing.endpoints.count)]
        }
        let errors = snapshot.issues.filter { $0.severity == .error }.count
        return [
            "status": "not ready",
            "reason": .string(
                errors == 0
                    ? "no exposition is served yet (configuration directory has none)"
                    : "no exposition is served; \(errors) configuration error(s), see /status"),
        ]
    }

    public static func status(_ snapshot: ConfigurationStore.Snapshot, listen: String, sessions: SessionStore, subscriptions: SubscriptionHub) -> JSONValue {
        let configuration = snapshot.configuration
        let settings = configuration.gateway
        return [
            "gateway": [
                "version": .string(gatewayVersion),
                "listen": .string(listen),
                "fqdns": .array(settings.fqdns.map(JSONValue.string)),
                "labels": JSONValue(settings.labels.mapValues(JSONValue.string)),
                "settingsSource": settings.source.map { .string($0.description) } ?? "defaults",
            ],
            "ready": .bool(isReady(snapshot)),
            "configDir": .string(configuration.root),
            "loadedAt": .string(snapshot.loadedAt.ISO8601Format()),
            "generation": .integer(snapshot.generation),
            "reloads": reloads(snapshot.history),
            "sync": syncStatus(configuration.root),
            "sessions": [
                "active": .integer(sessions.count), "notificationStreams": .integer(sessions.openStreams),
                // Sealed ids: every replica with the key takes them; else they live in this process only.
                "shared": .bool(sessions.sealer != nil),
            ],
            "subscriptions": ["active": .integer(subscriptions.count)],
            "filesScanned": .integer(configuration.filesScanned),
            "resources": resourceCounts(configuration),
            "endpoints": .array(
                snapshot.routing.endpoints.keys.sorted().compactMap { snapshot.routing.endpoints[$0] }.map {
                    endpoint($0, paths: snapshot.routing.paths(of: $0.exposition.path), fqdn: settings.fqdns.first ?? "localhost", port: listen)
                }),
            "failedExpositions": .array(configuration.failedExpositions.sorted().map { .string($0.description) }),
            "errors": .array(snapshot.issues.filter { $0.severity == .error }.map(\.json)),
            "warnings": .array(snapshot.issues.filter { $0.severity == .warning }.map(\.json)),
        ]
    }

    /// The status reshapr-sync writes beside the configuration (`.reshapr-sync-status.json`),
    /// or `null` when no sync manages this directory.
    static func syncStatus(_ root: String) -> JSONValue {
        guard let data = FileManager.default.contents(atPath: root + "/.reshapr-sync-status.json"),
            let value = try? JSONParser.parse(Array(data))
        else { return .null }
        return value
    }

    /// Valid resources by kind, every kind listed.
    static func resourceCounts(_ configuration: Configuration) -> JSONValue {
        var resources: JSONObject = [:]
        for kind in ResourceKind.allCases { resources[kind.rawValue] = .integer(configuration.resourceCounts[kind] ?? 0) }
        return .object(resources)
    }

    static func reloads(_ history: ReloadHistory) -> JSONValue {
        var object: JSONObject = ["succeeded": .integer(history.succeeded), "failed": .integer(history.failed)]
        if let reason = history.lastReason { object["lastReason"] = .string(reason) }
        if let duration = history.lastDuration {
            object["lastDurationMs"] = .number(Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15)
        }
        if let error = history.lastError { object["lastError"] = .string(error) }
        return .object(object)
    }

    /// An endpoint as `/status` shows it; `paths` are all it answers at, its own first.
    static func endpoint(_ endpoint: ToolEndpoint, paths: [String], fqdn: String, port listen: String) -> JSONValue {
        let exposition = endpoint.exposition
        let port = listen.split(separator: ":").last.map(String.init) ?? "\(GatewaySettings.defaultPort)"
        let host = fqdn.contains(":") ? fqdn : "\(fqdn):\(port)"
        let backend: JSONValue
        switch exposition.plan.backend {
        case .mock: backend = ["mock": true]
        case .http(let http): backend = ["endpoint": .string(http.displayEndpoint), "timeoutMs": .integer(Int(http.timeout.components.seconds * 1000 + http.timeout.components.attoseconds / 1_000_000_000_000_000))]
        }
        return [
            "exposition": .string(exposition.name.description),
            "path": .string(exposition.path),
            "url": .string("http://\(host)\(exposition.path)"),
            "paths": .array(paths.map(JSONValue.string)),
            "urls": .array(paths.map { .string("http://\(host)\($0)") }),
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
            "tools": .integer(endpoint.catalog.tools.count),
            "prompts": .integer(endpoint.content.prompts.count),
            "resources": .integer(endpoint.content.resources.count),
            "resourceTemplates": .integer(endpoint.content.templates.count),
            "skippedOperations": .array(endpoint.catalog.skipped.map { .string($0.description) }),
        ]
    }
}

/// A plain-text table of the served endpoints, printed at start and by `validate`.
public enum SummaryTable {
    public static func render(_ configuration: Configuration, routing: RoutingTable) -> String {
        var rows: [[String]] = [["EXPOSITION", "ENDPOINT", "ALSO AT", "TOOLS", "PROMPTS", "RESOURCES", "TEMPLATES", "SERVICE", "PLAN", "BACKEND", "SOURCE"]]
        for e in configuration.expositions {
            let endpoint = routing.endpoints[e.path]
            let count = { (value: (ToolEndpoint) -> Int) in endpoint.map { "\(value($0))" } ?? "-" }
            let backend: String
            switch e.plan.backend {
            case .mock: backend = "mock"
            case .http(let http): backend = http.displayEndpoint
            }
            rows.append([
                e.name.description, e.path, routing.paths(of: e.path).dropFirst().joined(separator: " ").nonEmpty ?? "-", count { $0.catalog.tools.count }, count { $0.content.prompts.count }, count { $0.content.resources.count },
                count { $0.content.templates.count }, "\(e.service.metadata.name) \(e.service.version) (\(e.service.type.rawValue))",
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
        let issues = configuration.issues + routing.issues
        out += "\n\(routing.endpoints.count) endpoint(s) from \(configuration.filesScanned) file(s): \(counts)"
        let errors = issues.filter { $0.severity == .error }.count
        let warnings = issues.count - errors
        if errors + warnings > 0 { out += "; \(errors) error(s), \(warnings) warning(s)" }
        return out
    }
}

extension StatusReport {
    /// The `validate --format json` document.
    public static func validation(_ configuration: Configuration, routing: RoutingTable, valid: Bool) -> JSONValue {
        let issues = configuration.issues + routing.issues
        return [
            "valid": .bool(valid),
            "configDir": .string(configuration.root),
            "filesScanned": .integer(configuration.filesScanned),
            "resources": resourceCounts(configuration),
            "endpoints": .array(routing.endpoints.keys.sorted().map { .string($0) }),
            "errors": .array(issues.filter { $0.severity == .error }.map(\.json)),
            "warnings": .array(issues.filter { $0.severity == .warning }.map(\.json)),
        ]
    }
}

extension String {
    /// `nil` for the empty string.
    var nonEmpty: String? { isEmpty ? nil : self }
}
