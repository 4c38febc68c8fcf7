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
            byPath[path, default: []].append(ResolvedExposition(name: name, path: path, exposition: exposition, plan: plan, service: service))
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
        return (served, failed)
    }
}
