import Foundation
import Hummingbird
import ReshaprConfig
import ReshaprJSON

/// Expositions, and the gateways connected now.
extension RESTAPI {
    func listExpositions(_ organization: Organization) async throws -> JSONValue {
        let plans = Dictionary(uniqueKeysWithValues: try await store.plans(of: organization).map { ($0.id, $0) })
        let services = Dictionary(uniqueKeysWithValues: try await store.services(of: organization).map { ($0.id, $0) })
        let groups = Dictionary(uniqueKeysWithValues: try await store.groups(of: organization).map { ($0.id, $0) })
        let gateways = try await registry.gateways().filter { $0.orgID == organization.id }
        return .array(
            try await store.expositions(of: organization).map { exposition in
                let plan = plans[exposition.planID]
                let service = plan.flatMap { services[$0.serviceID] }
                let group = groups[exposition.gatewayGroupID]
                // As the gateway serves it: a written path alone, else the default path and the aliases.
                let paths =
                    exposition.path.map { [$0] }
                    ?? ["/mcp/\(organization.name)/\(service?.name ?? "?")/\(service?.version ?? "?")", "/mcp/\(organization.name)/\(exposition.name)", "/mcp/\(exposition.id)"]
                let urls = gateways.filter { gateway in group?.matches(gateway.labels) ?? false }.flatMap { gateway in
                    paths.flatMap { path in gateway.fqdns.map { JSONValue.string("http://\($0)\(path)") } }
                }
                return [
                    "id": .string(exposition.id), "name": .string(exposition.name), "configurationId": .string(exposition.planID),
                    "configuration": .string(plan?.name ?? "?"), "gatewayGroupId": .string(exposition.gatewayGroupID), "gatewayGroup": .string(group?.name ?? "?"),
                    "path": .string(paths[0]), "paths": .array(paths.map(JSONValue.string)), "endpoints": .array(urls),
                ]
            })
    }

    func createExposition(_ request: Request) async throws -> JSONValue {
        let organization = try await organization(request)
        let input = try await body(request)
        let path = try string(input, "path", required: false)
        if let path, !path.hasPrefix("/") { throw APIError(status: .badRequest, message: "path must start with /") }
        let exposition = try await store.createExposition(
            planID: try string(input, "configurationId") ?? "", groupID: try string(input, "gatewayGroupId") ?? "", name: try string(input, "name", required: false),
            path: path, organization: organization)
        return ["id": .string(exposition.id), "name": .string(exposition.name)]
    }

    func listGateways(_ organization: Organization) async throws -> JSONValue {
        .array(
            try await registry.gateways().filter { $0.orgID == organization.id }.map { gateway in
                [
                    "gatewayId": .string(gateway.gatewayID), "labels": JSONValue(gateway.labels.mapValues(JSONValue.string)),
                    "groups": .array(gateway.groups.map(JSONValue.string)), "fqdns": .array(gateway.fqdns.map(JSONValue.string)),
                    "registeredAt": .string(gateway.registeredAt.ISO8601Format()), "lastHeartbeat": .string(gateway.lastHeartbeat.ISO8601Format()),
                    "appliedRevision": .integer(Int(gateway.appliedRevision)), "watching": .bool(gateway.watching),
                ]
            })
    }
}
