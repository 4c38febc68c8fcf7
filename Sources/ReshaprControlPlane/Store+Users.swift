import Foundation
import ReshaprDatabase
import ReshaprJSON

/// Organizations, users, their passwords and CLI sessions.
extension Store {
    /// The organization named `name`, created with its default gateway group if missing.
    @discardableResult
    public func organization(named name: String) async throws -> Organization {
        if let existing = try await read({ db in try await Organization.fetchAll(db, where: "name = ?", name).first }) { return existing }
        do {
            let organization = Organization(id: Identifier.make(), name: name)
            try await change(organization.id) { db in
                try await organization.insert(db)
                let labels = JSONValue(Self.defaultGroupLabels.mapValues(JSONValue.string)).serialized()
                try await GatewayGroupRecord(id: Identifier.make(), orgID: organization.id, name: Self.defaultGroupName, labels: labels).insert(db)
            }
            return organization
        } catch let error as StoreError where error.kind == .conflict {
            // Another replica created it at the same time.
            guard let existing = try await read({ db in try await Organization.fetchAll(db, where: "name = ?", name).first }) else { throw error }
            return existing
        }
    }

    public func organization(id: String) async throws -> Organization? {
        try await read { db in try await Organization.fetchOne(db, id: id) }
    }

    /// Creates the user, or sets the password of an existing one. A changed password ends every
    /// open session of the user; setting the same one again (a restart with the same
    /// `RESHAPR_ADMIN_PASSWORD`) changes nothing.
    public func setUser(_ username: String, password: String, organization: Organization) async throws {
        let current = try await read { db in try await db.queryOne("SELECT password_hash, salt FROM \"user\" WHERE username = ?", username) }
        if let current, let oldSalt = try? current.data("salt"), let oldHash = try? current.data("password_hash"),
            Secrets.constantTimeEqual(try Secrets.pbkdf2(password: password, salt: oldSalt), oldHash)
        {
            return
        }
        let salt = Data(Secrets.randomHex(bytes: 16).utf8)
        let hash = try Secrets.pbkdf2(password: password, salt: salt)
        try await write { db in
            try await db.execute(
                """
                INSERT INTO "user" (id, org_id, username, password_hash, salt) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash, salt = excluded.salt
                """, Identifier.make(), organization.id, username, hash, salt)
            try await db.execute("DELETE FROM user_session WHERE username = ?", username)
        }
    }

    /// Opens a CLI session for a user: the returned token is shown once and stored hashed.
    public func openSession(username: String, organization: Organization, validity: TimeInterval = 12 * 3600) async throws -> (String, Date) {
        let token = "rss_" + Secrets.randomHex(bytes: 32)
        let expires = Date().addingTimeInterval(validity)
        try await write { db in
            try await db.execute("DELETE FROM user_session WHERE expires_at < ?", Date())
            try await db.execute(
                "INSERT INTO user_session (token_hash, org_id, username, expires_at) VALUES (?, ?, ?, ?)",
                Secrets.sha256(token), organization.id, username, expires)
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
    public func session(_ token: String) async throws -> Session? {
        guard token.hasPrefix("rss_") else { return nil }
        let row = try await read { db in
            try await db.queryOne(
                "SELECT org_id, username, expires_at FROM user_session WHERE token_hash = ? AND expires_at > ?", Secrets.sha256(token), Date())
        }
        guard let row, let orgID = try? row.string("org_id"), let username = try? row.string("username"), let expiresAt = try? row.date("expires_at"),
            let organization = try await organization(id: orgID)
        else { return nil }
        return Session(organization: organization, username: username, expiresAt: expiresAt)
    }

    /// Ends a CLI session.
    public func closeSession(_ token: String) async throws {
        try await write { db in try await db.execute("DELETE FROM user_session WHERE token_hash = ?", Secrets.sha256(token)) }
    }

    public func secrets(of organization: Organization) async throws -> [SecretRecord] {
        try await read { db in try await SecretRecord.fetchAll(db, where: "org_id = ?", organization.id, orderBy: "name") }
    }

    /// The values of the organization's secret named `name`.
    public func secretData(named name: String, organization: Organization) async throws -> [String: String]? {
        try await read { db in try await SecretRecord.fetchAll(db, where: "org_id = ? AND name = ?", organization.id, name).first }
            .map { (try? JSONParser.parse($0.data))?.stringMembers ?? [:] }
    }

    public func deleteSecret(_ id: String, organization: Organization) async throws {
        try await delete(SecretRecord.self, id: id, organization: organization, what: "secret")
    }

    public func artifacts(of service: ServiceRecord) async throws -> [ArtifactRecord] {
        try await read { db in try await ArtifactRecord.fetchAll(db, where: "service_id = ?", service.id, orderBy: "id") }
    }

    /// The user's organization when the password is right.
    public func authenticate(_ username: String, password: String) async throws -> Organization? {
        let row = try await read { db in try await db.queryOne("SELECT org_id, password_hash, salt FROM \"user\" WHERE username = ?", username) }
        guard let row, let salt = try? row.data("salt"), let expected = try? row.data("password_hash"), let orgID = try? row.string("org_id") else {
            // Spend the same time as a real check, so that unknown names are not revealed by timing.
            _ = try Secrets.pbkdf2(password: password, salt: Data("unknown-user".utf8))
            return nil
        }
        guard Secrets.constantTimeEqual(try Secrets.pbkdf2(password: password, salt: salt), expected) else { return nil }
        return try await organization(id: orgID)
    }
}
