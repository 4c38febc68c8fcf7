import Foundation
import ReshaprDatabase
import ReshaprJSON

/// A row type of the store: read from a result row, written by one INSERT.
protocol StoreRecord: Sendable {
    static var table: String { get }
    /// Column names, in the order of `values`.
    static var columns: [String] { get }
    init(row: SQLRow) throws
    var values: [any SQLBindable] { get }
}

extension StoreRecord {
    static var selectAll: String { "SELECT \(columns.joined(separator: ", ")) FROM \(table)" }

    func insert(_ db: any SQLExecutor) async throws {
        let placeholders = Array(repeating: "?", count: Self.columns.count).joined(separator: ", ")
        try await db.execute("INSERT INTO \(Self.table) (\(Self.columns.joined(separator: ", "))) VALUES (\(placeholders))", values)
    }

    static func fetchAll(_ db: any SQLExecutor, where condition: String, _ arguments: any SQLBindable..., orderBy: String? = nil) async throws -> [Self] {
        let order = orderBy.map { " ORDER BY \($0)" } ?? ""
        return try await db.query("\(selectAll) WHERE \(condition)\(order)", arguments).map(Self.init(row:))
    }

    static func fetchOne(_ db: any SQLExecutor, id: String) async throws -> Self? {
        try await db.query("\(selectAll) WHERE id = ?", [id]).first.map(Self.init(row:))
    }
}

public struct Organization: Sendable, Hashable, StoreRecord {
    public var id: String
    public var name: String

    static let table = "organization"
    static let columns = ["id", "name"]
    init(row: SQLRow) throws { (id, name) = (try row.string("id"), try row.string("name")) }
    init(id: String, name: String) { (self.id, self.name) = (id, name) }
    var values: [any SQLBindable] { [id, name] }
}

public struct APIToken: Sendable, Hashable, StoreRecord {
    public var id: String
    public var orgID: String
    public var name: String
    public var secretHash: Data
    public var createdAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?
    /// The gateway group whose gateways alone may register with the token; `nil`: any labels.
    public var gatewayGroupID: String?

    static let table = "api_token"
    static let columns = ["id", "org_id", "name", "secret_hash", "created_at", "expires_at", "revoked_at", "gateway_group_id"]
    init(
        id: String, orgID: String, name: String, secretHash: Data, createdAt: Date, expiresAt: Date, revokedAt: Date?, gatewayGroupID: String?
    ) {
        (self.id, self.orgID, self.name, self.secretHash) = (id, orgID, name, secretHash)
        (self.createdAt, self.expiresAt, self.revokedAt, self.gatewayGroupID) = (createdAt, expiresAt, revokedAt, gatewayGroupID)
    }
    init(row: SQLRow) throws {
        self.init(
            id: try row.string("id"), orgID: try row.string("org_id"), name: try row.string("name"), secretHash: try row.data("secret_hash"),
            createdAt: try row.date("created_at"), expiresAt: try row.date("expires_at"), revokedAt: try row.optionalDate("revoked_at"),
            gatewayGroupID: try row.optionalString("gateway_group_id"))
    }
    var values: [any SQLBindable] { [id, orgID, name, secretHash, createdAt, expiresAt, revokedAt, gatewayGroupID] }
}

public struct GatewayGroupRecord: Sendable, Hashable, StoreRecord {
    public var id: String
    public var orgID: String
    public var name: String
    /// JSON object of string labels.
    public var labels: String

    static let table = "gateway_group"
    static let columns = ["id", "org_id", "name", "labels"]
    init(id: String, orgID: String, name: String, labels: String) { (self.id, self.orgID, self.name, self.labels) = (id, orgID, name, labels) }
    init(row: SQLRow) throws {
        self.init(id: try row.string("id"), orgID: try row.string("org_id"), name: try row.string("name"), labels: try row.string("labels"))
    }
    var values: [any SQLBindable] { [id, orgID, name, labels] }

    public var labelMap: [String: String] {
        (try? JSONParser.parse(labels))?.stringMembers ?? [:]
    }

    /// A group matches a gateway when every label of the group is among the gateway's labels.
    public func matches(_ gatewayLabels: [String: String]) -> Bool {
        labelMap.allSatisfy { gatewayLabels[$0.key] == $0.value }
    }
}

public struct ServiceRecord: Sendable, Hashable, StoreRecord {
    public var id: String
    public var orgID: String
    public var name: String
    public var version: String
    public var type: String
    public var description: String?

    static let table = "service"
    static let columns = ["id", "org_id", "name", "version", "type", "description"]
    init(id: String, orgID: String, name: String, version: String, type: String, description: String?) {
        (self.id, self.orgID, self.name, self.version, self.type, self.description) = (id, orgID, name, version, type, description)
    }
    init(row: SQLRow) throws {
        self.init(
            id: try row.string("id"), orgID: try row.string("org_id"), name: try row.string("name"), version: try row.string("version"),
            type: try row.string("type"), description: try row.optionalString("description"))
    }
    var values: [any SQLBindable] { [id, orgID, name, version, type, description] }
}

public struct ArtifactRecord: Sendable, Hashable, StoreRecord {
    public var id: String
    public var serviceID: String
    public var type: String
    public var fileName: String
    public var content: Data

    /// The type of a file an API description's `$ref`s name: written into the service folder
    /// at its path, not listed among the Service's artifacts.
    public static let referencedFileType = "FILE"

    static let table = "artifact"
    static let columns = ["id", "service_id", "type", "file_name", "content"]
    init(id: String, serviceID: String, type: String, fileName: String, content: Data) {
        (self.id, self.serviceID, self.type, self.fileName, self.content) = (id, serviceID, type, fileName, content)
    }
    init(row: SQLRow) throws {
        self.init(
            id: try row.string("id"), serviceID: try row.string("service_id"), type: try row.string("type"), fileName: try row.string("file_name"),
            content: try row.data("content"))
    }
    var values: [any SQLBindable] { [id, serviceID, type, fileName, content] }
}

public struct PlanRecord: Sendable, Hashable, StoreRecord {
    public var id: String
    public var orgID: String
    public var name: String
    public var serviceID: String
    /// The plan's `spec` as the configuration directory has it, without `service`.
    public var spec: String

    static let table = "configuration_plan"
    static let columns = ["id", "org_id", "name", "service_id", "spec"]
    init(id: String, orgID: String, name: String, serviceID: String, spec: String) {
        (self.id, self.orgID, self.name, self.serviceID, self.spec) = (id, orgID, name, serviceID, spec)
    }
    init(row: SQLRow) throws {
        self.init(
            id: try row.string("id"), orgID: try row.string("org_id"), name: try row.string("name"), serviceID: try row.string("service_id"),
            spec: try row.string("spec"))
    }
    var values: [any SQLBindable] { [id, orgID, name, serviceID, spec] }
}

public struct SecretRecord: Sendable, Hashable, StoreRecord {
    public var id: String
    public var orgID: String
    public var name: String
    /// JSON object of string values.
    public var data: String
    /// What the secret is for, shown in lists (never its values).
    public var description: String?

    static let table = "secret"
    static let columns = ["id", "org_id", "name", "data", "description"]
    init(id: String, orgID: String, name: String, data: String, description: String?) {
        (self.id, self.orgID, self.name, self.data, self.description) = (id, orgID, name, data, description)
    }
    init(row: SQLRow) throws {
        self.init(
            id: try row.string("id"), orgID: try row.string("org_id"), name: try row.string("name"), data: try row.string("data"),
            description: try row.optionalString("description"))
    }
    var values: [any SQLBindable] { [id, orgID, name, data, description] }
}

public struct ExpositionRecord: Sendable, Hashable, StoreRecord {
    public var id: String
    /// Unique in the organization; the endpoint is served at `/mcp/{org}/{name}` too.
    public var name: String
    public var orgID: String
    public var planID: String
    public var gatewayGroupID: String
    public var path: String?

    static let table = "exposition"
    static let columns = ["id", "name", "org_id", "plan_id", "gateway_group_id", "path"]
    init(id: String, name: String, orgID: String, planID: String, gatewayGroupID: String, path: String?) {
        (self.id, self.name, self.orgID, self.planID, self.gatewayGroupID, self.path) = (id, name, orgID, planID, gatewayGroupID, path)
    }
    init(row: SQLRow) throws {
        self.init(
            id: try row.string("id"), name: try row.string("name"), orgID: try row.string("org_id"), planID: try row.string("plan_id"),
            gatewayGroupID: try row.string("gateway_group_id"), path: try row.optionalString("path"))
    }
    var values: [any SQLBindable] { [id, name, orgID, planID, gatewayGroupID, path] }
}
