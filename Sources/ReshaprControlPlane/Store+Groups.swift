import Foundation
import ReshaprDatabase
import ReshaprJSON

/// Gateway groups: the label selectors that decide which gateways get an exposition.
extension Store {
    /// The group `id` of the organization, if it exists.
    public func group(_ id: String, organization: Organization) async throws -> GatewayGroupRecord? {
        try await read { db in try await GatewayGroupRecord.fetchOne(db, id: id) }.flatMap { $0.orgID == organization.id ? $0 : nil }
    }

    public func createGroup(name: String, labels: [String: String], organization: Organization) async throws -> GatewayGroupRecord {
        guard !name.isEmpty else { throw StoreError.invalid("a gateway group needs a name") }
        let group = GatewayGroupRecord(
            id: Identifier.make(), orgID: organization.id, name: name, labels: JSONValue(labels.mapValues(JSONValue.string)).serialized())
        try await insert(group, organization: organization.id, conflict: "a gateway group named \(name) already exists")
        return group
    }

    public func groups(of organization: Organization) async throws -> [GatewayGroupRecord] {
        try await read { db in try await GatewayGroupRecord.fetchAll(db, where: "org_id = ?", organization.id, orderBy: "name") }
    }

    public func deleteGroup(_ id: String, organization: Organization) async throws {
        try await delete(GatewayGroupRecord.self, id: id, organization: organization, what: "gateway group")
    }
}
