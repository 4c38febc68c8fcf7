import Foundation
import GRDB
import ReshaprJSON

/// Gateway groups: the label selectors that decide which gateways get an exposition.
extension Store {
    /// The group `id` of the organization, if it exists.
    public func group(_ id: String, organization: Organization) throws -> GatewayGroupRecord? {
        try database.read { db in try GatewayGroupRecord.fetchOne(db, key: id) }.flatMap { $0.orgID == organization.id ? $0 : nil }
    }

    public func createGroup(name: String, labels: [String: String], organization: Organization) throws -> GatewayGroupRecord {
        guard !name.isEmpty else { throw StoreError.invalid("a gateway group needs a name") }
        let group = GatewayGroupRecord(
            id: Identifier.make(), orgID: organization.id, name: name, labels: JSONValue(labels.mapValues(JSONValue.string)).serialized())
        try insert(group, conflict: "a gateway group named \(name) already exists")
        changed(organization.id)
        return group
    }

    public func groups(of organization: Organization) throws -> [GatewayGroupRecord] {
        try database.read { try GatewayGroupRecord.filter(Column("org_id") == organization.id).order(Column("name")).fetchAll($0) }
    }

    public func deleteGroup(_ id: String, organization: Organization) throws {
        try delete(GatewayGroupRecord.self, id: id, organization: organization, what: "gateway group")
    }
}
