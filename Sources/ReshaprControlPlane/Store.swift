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

    enum CodingKeys: String, CodingKey {
        case id, name
        case orgID = "org_id"
        case secretHash = "secret_hash"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
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
        ((try? JSONParser.parse(labels))?.objectValue ?? [:]).compactMapValues(\.stringValue)
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

    enum CodingKeys: String, CodingKey {
        case id, name, data
        case orgID = "org_id"
    }
}

public struct ExpositionRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "exposition"
    public var id: String
    public var orgID: String
    public var planID: String
    public var gatewayGroupID: String
    public var path: String?

    enum CodingKeys: String, CodingKey {
        case id, path
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
        return migrator
    }

    // MARK: - Organizations and users

    /// The organization named `name`, created with its default gateway group if missing.
    @discardableResult
    public func organization(named name: String) throws -> Organization {
        let (organization, created) = try database.write { db -> (Organization, Bool) in
            if let existing = try Organization.filter(Column("name") == name).fetchOne(db) { return (existing, false) }
            let organization = Organization(id: Identifier.make(), name: name)
            try organization.insert(db)
            let labels = JSONValue.object(Self.defaultGroupLabels.mapValues(JSONValue.string)).serialized()
            try GatewayGroupRecord(id: Identifier.make(), orgID: organization.id, name: Self.defaultGroupName, labels: labels).insert(db)
            return (organization, true)
        }
        if created { changed(organization.id) }
        return organization
    }

    public func organization(id: String) throws -> Organization? {
        try database.read { try Organization.fetchOne($0, key: id) }
    }

    /// Creates the user, or sets the password of an existing one.
    public func setUser(_ username: String, password: String, organization: Organization) throws {
        let salt = Data(Secrets.randomHex(bytes: 16).utf8)
        let hash = Secrets.pbkdf2(password: password, salt: salt)
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO user (id, org_id, username, password_hash, salt) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash, salt = excluded.salt
                    """, arguments: [Identifier.make(), organization.id, username, hash, salt])
        }
    }

    /// Opens a CLI session for a user: the returned token is shown once and stored hashed.
    public func openSession(username: String, organization: Organization, validity: TimeInterval = 12 * 3600) throws -> (String, Date) {
        let token = "rss_" + Secrets.randomHex(bytes: 32)
        let expires = Date().addingTimeInterval(validity)
        try database.write { db in
            try db.execute(sql: "DELETE FROM user_session WHERE expires_at < ?", arguments: [Date()])
            try db.execute(
                sql: "INSERT INTO user_session (token_hash, org_id, username, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [Secrets.sha256(token), organization.id, username, expires])
        }
        return (token, expires)
    }

    /// The organization and user of a valid session token.
    public func session(_ token: String) throws -> (Organization, String)? {
        guard token.hasPrefix("rss_") else { return nil }
        let row = try database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT org_id, username FROM user_session WHERE token_hash = ? AND expires_at > ?", arguments: [Secrets.sha256(token), Date()])
        }
        guard let row, let orgID: String = row["org_id"], let username: String = row["username"], let organization = try organization(id: orgID) else {
            return nil
        }
        return (organization, username)
    }

    /// Ends a CLI session.
    public func closeSession(_ token: String) throws {
        try database.write { try $0.execute(sql: "DELETE FROM user_session WHERE token_hash = ?", arguments: [Secrets.sha256(token)]) }
    }

    public func secrets(of organization: Organization) throws -> [SecretRecord] {
        try database.read { try SecretRecord.filter(Column("org_id") == organization.id).order(Column("name")).fetchAll($0) }
    }

    public func deleteSecret(_ id: String, organization: Organization) throws {
        try delete(SecretRecord.self, id: id, organization: organization, what: "secret")
    }

    public func artifacts(of service: ServiceRecord) throws -> [ArtifactRecord] {
        try database.read { try ArtifactRecord.filter(Column("service_id") == service.id).order(Column("id")).fetchAll($0) }
    }

    /// The user's organization when the password is right.
    public func authenticate(_ username: String, password: String) throws -> Organization? {
        let row = try database.read { db in
            try Row.fetchOne(db, sql: "SELECT org_id, password_hash, salt FROM user WHERE username = ?", arguments: [username])
        }
        guard let row, let salt: Data = row["salt"], let expected: Data = row["password_hash"], let orgID: String = row["org_id"] else {
            // Spend the same time as a real check, so that unknown names are not revealed by timing.
            _ = Secrets.pbkdf2(password: password, salt: Data("unknown-user".utf8))
            return nil
        }
        guard Secrets.constantTimeEqual(Secrets.pbkdf2(password: password, salt: salt), expected) else { return nil }
        return try organization(id: orgID)
    }
}

extension Store {
    // MARK: - API tokens

    /// Why a presented token is refused.
    public enum TokenRejection: Error, Sendable, Equatable, CustomStringConvertible {
        case malformed
        case unknown
        case expired(Date)
        case revoked(Date)

        public var description: String {
            switch self {
            case .malformed: return "the API token is malformed"
            case .unknown: return "the API token is not valid"
            case .expired(let date): return "the API token expired on \(date.ISO8601Format())"
            case .revoked(let date): return "the API token was revoked on \(date.ISO8601Format())"
            }
        }
    }

    /// Creates a token valid for `days` (1 to 90). Returns the record and the token itself,
    /// which is not stored and cannot be shown again.
    public func createToken(name: String, days: Int, organization: Organization, now: Date = Date()) throws -> (APIToken, String) {
        guard (1...Self.maxTokenValidityDays).contains(days) else {
            throw StoreError.invalid("validity must be between 1 and \(Self.maxTokenValidityDays) days, got \(days)")
        }
        guard !name.isEmpty else { throw StoreError.invalid("a token needs a name") }
        let id = Identifier.make(now: now)
        let secret = Secrets.randomHex(bytes: 32)
        let token = APIToken(
            id: id, orgID: organization.id, name: name, secretHash: Secrets.sha256(secret), createdAt: now,
            expiresAt: now.addingTimeInterval(Double(days) * 86_400), revokedAt: nil)
        try database.write { try token.insert($0) }
        return (token, "rsh_\(id)_\(secret)")
    }

    public func tokens(of organization: Organization) throws -> [APIToken] {
        try database.read { try APIToken.filter(Column("org_id") == organization.id).order(Column("created_at")).fetchAll($0) }
    }

    /// Extends a token: it expires `days` (1 to 90) from now. A revoked token cannot be renewed.
    public func renewToken(_ id: String, days: Int, organization: Organization, now: Date = Date()) throws -> APIToken {
        guard (1...Self.maxTokenValidityDays).contains(days) else {
            throw StoreError.invalid("validity must be between 1 and \(Self.maxTokenValidityDays) days, got \(days)")
        }
        return try database.write { db in
            guard var token = try APIToken.fetchOne(db, key: id), token.orgID == organization.id else { throw StoreError.notFound("no API token \(id)") }
            if token.revokedAt != nil { throw StoreError.conflict("API token \(id) is revoked and cannot be renewed") }
            token.expiresAt = now.addingTimeInterval(Double(days) * 86_400)
            try token.update(db)
            return token
        }
    }

    public func revokeToken(_ id: String, organization: Organization, now: Date = Date()) throws -> APIToken {
        let token = try database.write { db in
            guard var token = try APIToken.fetchOne(db, key: id), token.orgID == organization.id else { throw StoreError.notFound("no API token \(id)") }
            if token.revokedAt == nil {
                token.revokedAt = now
                try token.update(db)
            }
            return token
        }
        changed(organization.id)
        return token
    }

    /// Whether the token exists, is not revoked and has not expired.
    public func tokenIsValid(_ id: String, now: Date = Date()) throws -> Bool {
        guard let token = try database.read({ try APIToken.fetchOne($0, key: id) }) else { return false }
        return token.revokedAt == nil && token.expiresAt > now
    }

    /// Checks a presented token (`rsh_<id>_<secret>`), in constant time once its id is known.
    public func verifyToken(_ presented: String, now: Date = Date()) throws -> Result<APIToken, TokenRejection> {
        let parts = presented.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "rsh", Identifier.isValid(String(parts[1])), parts[2].count == 64 else { return .failure(.malformed) }
        guard let token = try database.read({ try APIToken.fetchOne($0, key: String(parts[1])) }) else { return .failure(.unknown) }
        guard Secrets.constantTimeEqual(Secrets.sha256(String(parts[2])), token.secretHash) else { return .failure(.unknown) }
        if let revoked = token.revokedAt { return .failure(.revoked(revoked)) }
        if token.expiresAt <= now { return .failure(.expired(token.expiresAt)) }
        return .success(token)
    }

    // MARK: - Gateway groups

    public func createGroup(name: String, labels: [String: String], organization: Organization) throws -> GatewayGroupRecord {
        guard !name.isEmpty else { throw StoreError.invalid("a gateway group needs a name") }
        let group = GatewayGroupRecord(
            id: Identifier.make(), orgID: organization.id, name: name, labels: JSONValue.object(labels.mapValues(JSONValue.string)).serialized())
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

    // MARK: - Services, secrets, plans, expositions

    public func createService(
        name: String, version: String, type: String, description: String?, artifacts: [(type: String, fileName: String, content: Data)],
        organization: Organization
    ) throws -> ServiceRecord {
        guard ["REST", "GRAPHQL", "GRPC"].contains(type) else { throw StoreError.invalid("service type must be REST, GRAPHQL or GRPC, got \(type)") }
        guard !artifacts.isEmpty else { throw StoreError.invalid("a service needs at least one artifact") }
        let service = ServiceRecord(id: Identifier.make(), orgID: organization.id, name: name, version: version, type: type, description: description)
        try database.write { db in
            do {
                try service.insert(db)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw StoreError.conflict("service \(name) \(version) already exists")
            }
            for artifact in artifacts {
                try ArtifactRecord(id: Identifier.make(), serviceID: service.id, type: artifact.type, fileName: artifact.fileName, content: artifact.content).insert(db)
            }
        }
        changed(organization.id)
        return service
    }

    public func services(of organization: Organization) throws -> [ServiceRecord] {
        try database.read { try ServiceRecord.filter(Column("org_id") == organization.id).order(Column("name"), Column("version")).fetchAll($0) }
    }

    public func deleteService(_ id: String, organization: Organization) throws {
        try delete(ServiceRecord.self, id: id, organization: organization, what: "service")
    }

    public func createSecret(name: String, data: [String: String], organization: Organization) throws -> SecretRecord {
        let secret = SecretRecord(id: Identifier.make(), orgID: organization.id, name: name, data: JSONValue.object(data.mapValues(JSONValue.string)).serialized())
        try insert(secret, conflict: "a secret named \(name) already exists")
        changed(organization.id)
        return secret
    }

    public func createPlan(name: String, serviceID: String, spec: JSONValue, organization: Organization) throws -> PlanRecord {
        guard try database.read({ try ServiceRecord.fetchOne($0, key: serviceID) })?.orgID == organization.id else {
            throw StoreError.notFound("no service \(serviceID)")
        }
        guard case .object = spec, spec["backend"] != nil else { throw StoreError.invalid("a configuration plan needs a backend") }
        let plan = PlanRecord(id: Identifier.make(), orgID: organization.id, name: name, serviceID: serviceID, spec: spec.serialized())
        try insert(plan, conflict: "a configuration plan named \(name) already exists")
        changed(organization.id)
        return plan
    }

    public func plans(of organization: Organization) throws -> [PlanRecord] {
        try database.read { try PlanRecord.filter(Column("org_id") == organization.id).order(Column("name")).fetchAll($0) }
    }

    /// Replaces a plan's spec (backend, tools, security).
    public func updatePlan(_ id: String, spec: JSONValue, organization: Organization) throws -> PlanRecord {
        let plan = try database.write { db in
            guard var plan = try PlanRecord.fetchOne(db, key: id), plan.orgID == organization.id else { throw StoreError.notFound("no configuration plan \(id)") }
            plan.spec = spec.serialized()
            try plan.update(db)
            return plan
        }
        changed(organization.id)
        return plan
    }

    public func deletePlan(_ id: String, organization: Organization) throws {
        try delete(PlanRecord.self, id: id, organization: organization, what: "configuration plan")
    }

    public func createExposition(planID: String, groupID: String, path: String?, organization: Organization) throws -> ExpositionRecord {
        try database.read { db in
            guard try PlanRecord.fetchOne(db, key: planID)?.orgID == organization.id else { throw StoreError.notFound("no configuration plan \(planID)") }
            guard try GatewayGroupRecord.fetchOne(db, key: groupID)?.orgID == organization.id else { throw StoreError.notFound("no gateway group \(groupID)") }
        }
        let exposition = ExpositionRecord(id: Identifier.make(), orgID: organization.id, planID: planID, gatewayGroupID: groupID, path: path)
        try insert(exposition, conflict: "exposition exists")
        changed(organization.id)
        return exposition
    }

    public func expositions(of organization: Organization) throws -> [ExpositionRecord] {
        try database.read { try ExpositionRecord.filter(Column("org_id") == organization.id).order(Column("id")).fetchAll($0) }
    }

    public func deleteExposition(_ id: String, organization: Organization) throws {
        try delete(ExpositionRecord.self, id: id, organization: organization, what: "exposition")
    }

    // MARK: - Helpers

    private func insert(_ record: some PersistableRecord, conflict: String) throws {
        try database.write { db in
            do {
                try record.insert(db)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw StoreError.conflict(conflict)
            }
        }
    }

    private func delete<Record: PersistableRecord & FetchableRecord & Decodable>(
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
