import Foundation
import Hummingbird
import ReshaprConfig
import ReshaprJSON

/// Gateway groups, and the export of what a group's gateways receive.
extension RESTAPI {
    static func group(_ group: GatewayGroupRecord, organization: Organization) -> JSONValue {
        [
            "id": .string(group.id), "organization": .string(organization.name), "name": .string(group.name),
            "labels": JSONValue(group.labelMap.mapValues(JSONValue.string)),
        ]
    }

    func listGroups(_ organization: Organization) async throws -> JSONValue {
        .array(try await store.groups(of: organization).map { Self.group($0, organization: organization) })
    }

    func createGroup(_ request: Request) async throws -> JSONValue {
        let organization = try await organization(request)
        let input = try await body(request)
        var labels: [String: String] = [:]
        for (key, value) in input["labels"]?.objectValue ?? [:] {
            guard let text = value.stringValue else { throw APIError(status: .badRequest, message: "labels.\(key) must be a string") }
            labels[key] = text
        }
        return Self.group(try await store.createGroup(name: try string(input, "name") ?? "", labels: labels, organization: organization), organization: organization)
    }

    /// The configuration directory a gateway of the group (labels exactly the group's) would
    /// receive, as files; secrets included (the caller is an authenticated administrator).
    func export(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> JSONValue {
        let organization = try await organization(request)
        let id = try id(context)
        guard let group = try await store.groups(of: organization).first(where: { $0.id == id }) else { throw APIError(status: .notFound, message: "no gateway group \(id)") }
        let files = try await ConfigurationRenderer.render(organization: organization, labels: group.labelMap, store: store, includeSecrets: true).files
        return [
            "gatewayGroup": .string(group.name),
            "files": .array(files.values.sorted { $0.path < $1.path }.map {
                ["path": .string($0.path), "contentBase64": .string($0.content.base64EncodedString()), "sha256": .string($0.sha256)]
            }),
        ]
    }
}
