import Foundation
import ReshaprDatabase
import ReshaprJSON

/// API tokens: created, renewed, revoked, verified; stored hashed.
extension Store {
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

    /// Creates a token valid for `days` (1 to 90), bound to a gateway group when
    /// `gatewayGroupID` is given. Returns the record and the token itself, which is not stored
    /// and cannot be shown again.
    public func createToken(
        name: String, days: Int, organization: Organization, gatewayGroupID: String? = nil, now: Date = Date()
    ) async throws -> (APIToken, String) {
        guard (1...Self.maxTokenValidityDays).contains(days) else {
            throw StoreError.invalid("validity must be between 1 and \(Self.maxTokenValidityDays) days, got \(days)")
        }
        guard !name.isEmpty else { throw StoreError.invalid("a token needs a name") }
        if let gatewayGroupID, try await group(gatewayGroupID, organization: organization) == nil {
            throw StoreError.notFound("no gateway group \(gatewayGroupID)")
        }
        let id = Identifier.make(now: now)
        let secret = Secrets.randomHex(bytes: 32)
        let token = APIToken(
            id: id, orgID: organization.id, name: name, secretHash: Secrets.sha256(secret), createdAt: now,
            expiresAt: now.addingTimeInterval(Double(days) * 86_400), revokedAt: nil, gatewayGroupID: gatewayGroupID)
        try await write { db in try await token.insert(db) }
        return (token, "rsh_\(id)_\(secret)")
    }

    public func tokens(of organization: Organization) async throws -> [APIToken] {
        try await read { db in try await APIToken.fetchAll(db, where: "org_id = ?", organization.id, orderBy: "created_at, id") }
    }

    /// Extends a token: it expires `days` (1 to 90) from now. A revoked token cannot be renewed.
    public func renewToken(_ id: String, days: Int, organization: Organization, now: Date = Date()) async throws -> APIToken {
        guard (1...Self.maxTokenValidityDays).contains(days) else {
            throw StoreError.invalid("validity must be between 1 and \(Self.maxTokenValidityDays) days, got \(days)")
        }
        return try await write { db in
            guard var token = try await APIToken.fetchOne(db, id: id), token.orgID == organization.id else { throw StoreError.notFound("no API token \(id)") }
            if token.revokedAt != nil { throw StoreError.conflict("API token \(id) is revoked and cannot be renewed") }
            token.expiresAt = now.addingTimeInterval(Double(days) * 86_400)
            try await db.execute("UPDATE api_token SET expires_at = ? WHERE id = ?", token.expiresAt, id)
            return token
        }
    }

    public func revokeToken(_ id: String, organization: Organization, now: Date = Date()) async throws -> APIToken {
        try await change(organization.id) { db in
            guard var token = try await APIToken.fetchOne(db, id: id), token.orgID == organization.id else { throw StoreError.notFound("no API token \(id)") }
            if token.revokedAt == nil {
                token.revokedAt = now
                try await db.execute("UPDATE api_token SET revoked_at = ? WHERE id = ?", now, id)
            }
            return token
        }
    }

    /// Whether the token exists, is not revoked and has not expired.
    public func tokenIsValid(_ id: String, now: Date = Date()) async throws -> Bool {
        guard let token = try await read({ db in try await APIToken.fetchOne(db, id: id) }) else { return false }
        return token.revokedAt == nil && token.expiresAt > now
    }

    /// Checks a presented token (`rsh_<id>_<secret>`), in constant time once its id is known.
    public func verifyToken(_ presented: String, now: Date = Date()) async throws -> Result<APIToken, TokenRejection> {
        let parts = presented.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "rsh", Identifier.isValid(String(parts[1])), parts[2].count == 64 else { return .failure(.malformed) }
        let id = String(parts[1])
        guard let token = try await read({ db in try await APIToken.fetchOne(db, id: id) }) else { return .failure(.unknown) }
        guard Secrets.constantTimeEqual(Secrets.sha256(String(parts[2])), token.secretHash) else { return .failure(.unknown) }
        if let revoked = token.revokedAt { return .failure(.revoked(revoked)) }
        if token.expiresAt <= now { return .failure(.expired(token.expiresAt)) }
        return .success(token)
    }
}
