import Foundation
import Hummingbird
import ReshaprConfig
import ReshaprJSON

/// Login and logout: CLI sessions.
extension RESTAPI {
    func login(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> JSONValue {
        let input = try await body(request)
        let username = try string(input, "username") ?? ""
        let password = try string(input, "password") ?? ""
        let address = context.remoteAddress?.ipAddress
        if let wait = loginThrottle.retryAfter(user: username, address: address) {
            let seconds = max(1, Int(wait.components.seconds) + (wait.components.attoseconds > 0 ? 1 : 0))
            throw APIError(status: .tooManyRequests, message: "too many failed logins for this user or address; retry in \(seconds) s", retryAfter: seconds)
        }
        guard let organization = try await store.authenticate(username, password: password) else {
            audit?.write(AuditMiddleware.line(user: username, organization: nil, action: "login", status: 401, address: address))
            loginThrottle.failed(user: username, address: address)
            throw APIError(status: .unauthorized, message: "wrong user name or password")
        }
        loginThrottle.succeeded(user: username)
        audit?.write(AuditMiddleware.line(user: username, organization: organization.name, action: "login", status: 200, address: address))
        let (token, expires) = try await store.openSession(username: username, organization: organization)
        return ["token": .string(token), "organization": .string(organization.name), "expiresAt": .string(expires.ISO8601Format())]
    }

    /// `GET /api/v1/session`: who the caller is, in which organization, until when.
    func describeSession(_ request: Request) async throws -> JSONValue {
        let session = try await session(request)
        return [
            "username": .string(session.username), "organization": .string(session.organization.name),
            "expiresAt": .string(session.expiresAt.ISO8601Format()),
        ]
    }

    func logout(_ request: Request) async throws -> JSONValue? {
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") { try await store.closeSession(String(header.dropFirst(7))) }
        return nil
    }
}
