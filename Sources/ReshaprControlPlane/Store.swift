import Foundation
import GRDB
import ReshaprJSON
import Synchronization

/// A request the store refuses, worded for the API caller.
public struct StoreError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        case notFound
        case conflict
        case invalid
    }

    public var kind: Kind
    public var message: String

    public var description: String { message }

    static func notFound(_ message: String) -> StoreError { StoreError(kind: .notFound, message: message) }
    static func conflict(_ message: String) -> StoreError { StoreError(kind: .conflict, message: message) }
    static func invalid(_ message: String) -> StoreError { StoreError(kind: .invalid, message: message) }
}

public struct Organization: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public var id: String
    public var name: String
}

public struct APIToken: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "api_token"
    public var id: String
    public var orgID: String
    public var name: String
    public var secretHash: Data
    public var createdAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?
    /// The gateway group whose gateways alone may register with the token; `nil`: any labels.
    public var gatewayGroupID: String?

    enum CodingKeys: String, CodingKey {
        case id, name
        case orgID = "org_id"
        case secretHash = "secret_hash"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
        case gatewayGroupID = "gateway_group_id"
    }
}

public struct GatewayGroupRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "gateway_group"
    public var id: String
    public var orgID: String
    public var name: String
    /// JSON object of string labels.
    public var labels: String

    enum CodingKeys: String, CodingKey {
        case id, name, labels
        case orgID = "org_id"
    }

    public var labelMap: [String: String] {
        (try? JSONParser.parse(labels))?.stringMembers ?? [:]
    }

    /// A group matches a gateway when every label of the group is among the gateway's labels.
    public func matches(_ gatewayLabels: [String: String]) -> Bool {
        labelMap.allSatisfy { gatewayLabels[$0.key] == $0.value }
    }
}

public struct ServiceRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "service"
    public var id: String
    public var orgID: String
    public var name: String
    public var version: String
    public var type: String
    public var description: String?

    enum CodingKeys: String, CodingKey {
        case id, name, version, type, description
        case orgID = "org_id"
    }
}

public struct ArtifactRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "artifact"
    public var id: String
    public var serviceID: String
    public var type: String
    public var fileName: String
    public var content: Data

    /// The type of a file an API description's `$ref`s name: written into the service folder
    /// at its path, not listed among the Service's artifacts.
    public static let referencedFileType = "FILE"

    enum CodingKeys: String, CodingKey {
        case id, type, content
        case serviceID = "service_id"
        case fileName = "file_name"
    }
}

public struct PlanRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "configuration_plan"
    public var id: String
    public var orgID: String
    public var name: String
    public var serviceID: String
    /// The plan's `spec` as the configuration directory has it, without `service`.
    public var spec: String

    enum CodingKeys: String, CodingKey {
        case id, name, spec
        case orgID = "org_id"
        case serviceID = "service_id"
    }
}

public struct SecretRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "secret"
    public var id: String
    public var orgID: String
    public var name: String
    /// JSON object of string values.
    public var data: String
    /// What the secret is for, shown in lists (never its values).
    public var description: String?

    enum CodingKeys: String, CodingKey {
        case id, name, data, description
        case orgID = "org_id"
    }
}

public struct ExpositionRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "exposition"
    public var id: String
    /// Unique in the organization; the endpoint is served at `/mcp/{org}/{name}` too.
    public var name: String
    public var orgID: String
    public var planID: String
    public var gatewayGroupID: String
    public var path: String?

    enum CodingKeys: String, CodingKey {
        case id, name, path
        case orgID = "org_id"
        case planID = "plan_id"
        case gatewayGroupID = "gateway_group_id"
    }
}

/// The catalogue: organizations, API tokens, gateway groups, services and artifacts, secrets,
/// configuration plans and expositions, in SQLite. Every change calls `onChange` with the
/// organization, so that connected gateways get it at once.
public final class Store: Sendable {
    public static let defaultGroupName = "Default Gateway Group"
    public static let defaultGroupLabels = ["env": "dev", "team": "reshapr"]
    public static let maxTokenValidityDays = 90

    let database: DatabaseQueue
    private let changeHandler: Mutex<(@Sendable (String) -> Void)?> = Mutex(nil)

    /// Opens (creating and migrating) the database at `path`; `nil` keeps it in memory.
    public init(path: String?) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        if let path {
            database = try DatabaseQueue(path: path, configuration: configuration)
        } else {
            database = try DatabaseQueue(configuration: configuration)
        }
        try Self.migrator.migrate(database)
    }

    /// Called after every committed change, with the organization it concerns.
    public func onChange(_ handler: @escaping @Sendable (String) -> Void) {
        changeHandler.withLock { $0 = handler }
    }

    func changed(_ orgID: String) {
        changeHandler.withLock { $0 }?(orgID)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE organization (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                    CREATE TABLE user (
                        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
                        username TEXT NOT NULL UNIQUE, password_hash BLOB NOT NULL, salt BLOB NOT NULL);
                    CREATE TABLE api_token (
                        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
                        name TEXT NOT NULL, secret_hash BLOB NOT NULL, created_at DATETIME NOT NULL,
                        expires_at DATETIME NOT NULL, revoked_at DATETIME);
                    CREATE TABLE gateway_group (
                        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
                        name TEXT NOT NULL, labels TEXT NOT NULL, UNIQUE(org_id, name));
                    CREATE TABLE service (
                        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
                        name TEXT NOT NULL, version TEXT NOT NULL, type TEXT NOT NULL, description TEXT,
                        UNIQUE(org_id, name, version));
                    CREATE TABLE artifact (
                        id TEXT PRIMARY KEY, service_id TEXT NOT NULL REFERENCES service(id) ON DELETE CASCADE,
                        type TEXT NOT NULL, file_name TEXT NOT NULL, content BLOB NOT NULL);
                    CREATE TABLE secret (
                        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
                        name TEXT NOT NULL, data TEXT NOT NULL, UNIQUE(org_id, name));
                    CREATE TABLE configuration_plan (
                        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
                        name TEXT NOT NULL, service_id TEXT NOT NULL REFERENCES service(id) ON DELETE CASCADE,
                        spec TEXT NOT NULL, UNIQUE(org_id, name));
                    CREATE TABLE exposition (
                        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
                        plan_id TEXT NOT NULL REFERENCES configuration_plan(id) ON DELETE CASCADE,
                        gateway_group_id TEXT NOT NULL REFERENCES gateway_group(id) ON DELETE CASCADE, path TEXT);
                    """)
        }
        migrator.registerMigration("v2-user-sessions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE user_session (
                        token_hash BLOB PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
                        username TEXT NOT NULL, expires_at DATETIME NOT NULL);
                    """)
        }
        // Tokens bound to a gateway group; deleting the group deletes them (never unbinds them).
        migrator.registerMigration("v3-token-groups") { db in
            try db.execute(sql: "ALTER TABLE api_token ADD COLUMN gateway_group_id TEXT REFERENCES gateway_group(id) ON DELETE CASCADE")
        }
        // Expositions get names (existing ones are named by their id); secrets, descriptions.
        migrator.registerMigration("v4-exposition-names") { db in
            try db.execute(
                sql: """
                    ALTER TABLE exposition ADD COLUMN name TEXT;
                    UPDATE exposition SET name = id;
                    CREATE UNIQUE INDEX exposition_name ON exposition(org_id, name);
                    ALTER TABLE secret ADD COLUMN description TEXT;
                    """)
        }
        return migrator
    }
}

extension Store {
    // MARK: - Helpers

    func insert(_ record: some PersistableRecord, conflict: String) throws {
        try database.write { db in
            do {
                try record.insert(db)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw StoreError.conflict(conflict)
            }
        }
    }

    func delete<Record: PersistableRecord & FetchableRecord & Decodable>(
        _ type: Record.Type, id: String, organization: Organization, what: String
    ) throws {
        try database.write { db in
            guard let orgID = try String.fetchOne(db, sql: "SELECT org_id FROM \"\(Record.databaseTableName)\" WHERE id = ?", arguments: [id]),
                orgID == organization.id
            else { throw StoreError.notFound("no \(what) \(id)") }
            _ = try Record.deleteOne(db, key: id)
        }
        changed(organization.id)
    }
}
