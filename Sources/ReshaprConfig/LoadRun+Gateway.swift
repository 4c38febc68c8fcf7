import Foundation
import ReshaprJSON

/// The Gateway resource: the settings of the gateway process.
extension LoadRun {
    mutating func resolveGateway() -> GatewaySettings {
        var settings = GatewaySettings.defaults
        guard let candidate = gateways.first else { return settings }
        if gateways.count > 1 {
            for gateway in gateways {
                let others = gateways.filter { $0.location != gateway.location }.map(\.location.description).sorted()
                report(gateway.location, .root, "at most one Gateway resource is allowed; also defined at \(others.joined(separator: ", "))")
            }
            return settings
        }
        let spec = candidate.value
        let specPath = JSONPath.root.appending("spec")
        if let listen = spec["listen"]?.stringValue, let colon = listen.lastIndex(of: ":") {
            var host = String(listen[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
                report(candidate.location, specPath.appending("listen"), "port must be between 0 and 65535")
                return settings
            }
            settings.host = host
            settings.port = port
        }
        if let fqdns = spec["fqdns"]?.arrayValue?.compactMap(\.stringValue), !fqdns.isEmpty { settings.fqdns = fqdns }
        for (key, value) in spec["labels"]?.objectValue ?? [:] { settings.labels[key] = value.stringValue }
        if let limits = spec["limits"] {
            let limitsPath = specPath.appending("limits")
            if let n = limits["maxBodyBytes"]?.intValue { settings.maxBodyBytes = n }
            if let raw = limits["callTimeout"] {
                if let parsed = Duration.parse(raw) {
                    settings.callTimeout = parsed
                } else {
                    report(candidate.location, limitsPath.appending("callTimeout"), "must be a duration \(Duration.configuredRange)")
                }
            }
            if let n = limits["maxConcurrentCalls"]?.intValue { settings.maxConcurrentCalls = n }
            if let scripts = limits["scripts"] {
                if let raw = scripts["timeout"] {
                    if let parsed = Duration.parse(raw) {
                        settings.scripts.timeout = parsed
                    } else {
                        report(candidate.location, limitsPath.appending("scripts").appending("timeout"), "must be a duration \(Duration.configuredRange)")
                    }
                }
                if let n = scripts["maxToolCalls"]?.intValue { settings.scripts.maxToolCalls = n }
                if let n = scripts["maxNesting"]?.intValue { settings.scripts.maxNesting = n }
            }
            // The schema bounds both (0.001...1e6 and 1...1e6), so the conversion cannot trap.
            if let rate = limits["rateLimit"], let rps = rate["requestsPerSecond"]?.doubleValue {
                settings.rateLimit = GatewaySettings.RateLimit(requestsPerSecond: rps, burst: rate["burst"]?.intValue ?? max(1, Int(rps.rounded(.up))))
            }
        }
        if let origins = spec["allowedOrigins"]?.arrayValue?.compactMap(\.stringValue) { settings.allowedOrigins = origins }
        settings.source = candidate.location
        return settings
    }
}
