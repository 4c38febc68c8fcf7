import Foundation
import Hummingbird
import ReshaprConfig
import ReshaprJSON

/// Login and logout: CLI sessions.
extension RESTAPI {
    func login(_ request: Request) async throws -> JSONValue {
        let input = try await body(request)
        let username = try string(input, "username") ?? ""
        let password = try string(input, "password") ?? ""
        guard let organization = try store.authenticate(username, password: password) else {
            throw APIError(status: .unauthorized, message: "wrong user name or password")
        }
        let (token, expires) = try store.openSession(username: username, organization: organization)
        return ["token": .string(token), "organization": .string(organization.name), "expiresAt": .string(expires.ISO8601Format())]
    }

    func logout(_ request: Request) throws -> JSONValue? {
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") { try store.closeSession(String(header.dropFirst(7))) }
        return nil
    }
}
