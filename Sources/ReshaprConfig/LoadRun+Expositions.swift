import Foundation
import ReshaprJSON

/// Expositions: their plans and their paths.
extension LoadRun {
    static let reservedPrefixes = ["/health", "/status", "/metrics", "/.well-known"]

    mutating func resolveExpositions(plans: [ResourceName: (ConfigurationPlan, Service)]) -> ([ResolvedExposition], Set<ResourceName>) {
        var failed = Set(expositions.keys)
        for key in invalid.keys where key.kind == .exposition { failed.insert(key.name) }
        var byPath: [String: [ResolvedExposition]] = [:]
        for (name, candidate) in unique(expositions, kind: .exposition, describe: { $0.description }) {
            let spec = candidate.value
            let at = candidate.location
            let planPath = JSONPath.root.appending("spec").appending("plan")
            let planName = spec["plan"]?.stringValue ?? ""
            let planKey = ResourceName(org: name.org, name: planName)
            guard let (plan, service) = plans[planKey] else {
                if let invalidAt = invalid[InvalidKey(kind: .configurationPlan, name: planKey, version: nil)] {
                    report(at, planPath, "configuration plan \(planName) is invalid (see the errors at \(invalidAt))")
                } else {
                    report(at, planPath, "configuration plan \(planName) not found in org \(name.org)")
                }
                continue
            }
            let written = spec["path"]?.stringValue
            let path = written ?? "/mcp/\(name.org)/\(service.metadata.name)/\(service.version)"
            let pathField = JSONPath.root.appending("spec").appending("path")
            if path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) {
                report(at, pathField, "path segments . and .. are not allowed")
                continue
            }
            if let reserved = Self.reservedPrefixes.first(where: { path == $0 || path.hasPrefix($0 + "/") }) {
                report(at, written == nil ? JSONPath.root.appending("metadata") : pathField, "path \(path) is reserved for the gateway's \(reserved) endpoint")
                continue
            }
            let exposition = Exposition(
                metadata: candidate.metadata, planName: planName, path: written, description: spec["description"]?.stringValue, source: at)
            var aliases: [String] = []
            if written == nil {
                aliases.append("/mcp/\(name.org)/\(name.name)")
                if let id = candidate.metadata.id { aliases.append("/mcp/\(id)") }
            }
            byPath[path, default: []].append(
                ResolvedExposition(name: name, path: path, aliases: aliases.filter { $0 != path }, exposition: exposition, plan: plan, service: service))
        }
        var served: [ResolvedExposition] = []
        for (path, claimants) in byPath {
            if claimants.count == 1, let only = claimants.first {
                served.append(only)
                failed.remove(only.name)
                continue
            }
            for claimant in claimants {
                let others = claimants.filter { $0.name != claimant.name }.map { "\($0.name) (\($0.exposition.source))" }.sorted()
                report(
                    claimant.exposition.source, JSONPath.root.appending("spec").appending("path"),
                    "endpoint path \(path) is also used by exposition \(others.joined(separator: ", "))")
            }
        }
        return (servedAliases(served), failed)
    }

    /// `served` with each alias that another endpoint's path, or another exposition's alias,
    /// also claims taken away, and a warning saying so: the path each exposition was given
    /// always wins over an alias.
    mutating func servedAliases(_ served: [ResolvedExposition]) -> [ResolvedExposition] {
        let paths = Set(served.map(\.path))
        var claims: [String: Int] = [:]
        for exposition in served { for alias in exposition.aliases { claims[alias, default: 0] += 1 } }
        return served.map { exposition in
            var exposition = exposition
            exposition.aliases = exposition.aliases.filter { alias in
                guard paths.contains(alias) || claims[alias, default: 0] > 1 else { return true }
                report(
                    exposition.exposition.source, JSONPath.root.appending("metadata").appending("name"),
                    "exposition \(exposition.name) is not served at \(alias) too: \(paths.contains(alias) ? "another endpoint's path" : "another exposition's alias") is \(alias)",
                    severity: .warning)
                return false
            }
            return exposition
        }
    }
}
