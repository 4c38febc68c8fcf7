import Foundation
import GRDB
import ReshaprJSON

/// Organizations, users, their passwords and CLI sessions.
extension Store {
    /// The organization named `name`, created with its default gateway group if missing.
    @discardableResult
    public func organization(named name: String) throws -> Organization {
        let (organization, created) = try database.write { db -> (Organization, Bool) in
            if let existing = try Organization.filter(Column("name") == name).fetchOne(db) { return (existing, false) }
            let organization = Organization(id: Identifier.make(), name: name)
            try organization.insert(db)
            let labels = JSONValue(Self.defaultGroupLabels.mapValues(JSONValue.string)).serialized()
            try GatewayGroupRecord(id: Identifier.make(), orgID: organization.id, name: Self.defaultGroupName, labels: labels).insert(db)
            return (organization, true)
        }
        if created { changed(organization.id) }
        return organization
    }

    public func organization(id: String) throws -> Organization? {
        try database.read { try Organization.fetchOne($0, key: id) }
    }

    /// Creates the user, or sets the password of an existing one. A changed password ends every
    /// open session of the user; setting the same one again (a restart with the same
    /// `RESHAPR_ADMIN_PASSWORD`) changes nothing.
    public func setUser(_ username: String, password: String, organization: Organization) throws {
        let current = try database.read { db in
            try Row.fetchOne(db, sql: "SELECT password_hash, salt FROM user WHERE username = ?", arguments: [username])
        }
        if let current, let oldSalt: Data = current["salt"], let oldHash: Data = current["password_hash"],
            Secrets.constantTimeEqual(try Secrets.pbkdf2(password: password, salt: oldSalt), oldHash)
        {
            return
        }
        let salt = Data(Secrets.randomHex(bytes: 16).utf8)
        let hash = try Secrets.pbkdf2(password: password, salt: salt)
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO user (id, org_id, username, password_hash, salt) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash, salt = excluded.salt
                    """, arguments: [Identifier.make(), organization.id, username, hash, salt])
            try db.execute(sql: "DELETE FROM user_session WHERE username = ?", arguments: [username])
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

    /// A valid CLI session: whose it is and until when.
    public struct Session: Sendable {
        public var organization: Organization
        public var username: String
        public var expiresAt: Date
    }

    /// The session a token opens, if it is valid.
    public func session(_ token: String) throws -> Session? {
        guard token.hasPrefix("rss_") else { return nil }
        let row = try database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT org_id, username, expires_at FROM user_session WHERE token_hash = ? AND expires_at > ?",
                arguments: [Secrets.sha256(token), Date()])
        }
        guard let row, let orgID: String = row["org_id"], let username: String = row["username"], let expiresAt: Date = row["expires_at"],
            let organization = try organization(id: orgID)
        else { return nil }
        return Session(organization: organization, username: username, expiresAt: expiresAt)
    }

    /// Ends a CLI session.
    public func closeSession(_ token: String) throws {
        try database.write { try $0.execute(sql: "DELETE FROM user_session WHERE token_hash = ?", arguments: [Secrets.sha256(token)]) }
    }

    public func secrets(of organization: Organization) throws -> [SecretRecord] {
        try database.read { try SecretRecord.filter(Column("org_id") == organization.id).order(Column("name")).fetchAll($0) }
    }

    /// The values of the organization's secret named `name`.
    public func secretData(named name: String, organization: Organization) throws -> [String: String]? {
        try database.read { try SecretRecord.filter(Column("org_id") == organization.id && Column("name") == name).fetchOne($0) }
            .map { (try? JSONParser.parse($0.data))?.stringMembers ?? [:] }
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
            _ = try Secrets.pbkdf2(password: password, salt: Data("unknown-user".utf8))
            return nil
        }
        guard Secrets.constantTimeEqual(try Secrets.pbkdf2(password: password, salt: salt), expected) else { return nil }
        return try organization(id: orgID)
    }
}
