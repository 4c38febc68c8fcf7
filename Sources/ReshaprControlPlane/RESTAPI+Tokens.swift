import Foundation
import Hummingbird
import ReshaprConfig
import ReshaprJSON

/// API tokens: list, create, renew, revoke.
extension RESTAPI {
    static func token(_ token: APIToken) -> JSONValue {
        var object: JSONObject = [
            "id": .string(token.id), "name": .string(token.name), "createdAt": .string(token.createdAt.ISO8601Format()),
            "expiresAt": .string(token.expiresAt.ISO8601Format()),
        ]
        if let revoked = token.revokedAt { object["revokedAt"] = .string(revoked.ISO8601Format()) }
        object["gatewayGroupId"] = token.gatewayGroupID.map(JSONValue.string) ?? .null
        return .object(object)
    }

    func listTokens(_ organization: Organization) async throws -> JSONValue {
        .array(try await store.tokens(of: organization).map(Self.token))
    }

    func createToken(_ request: Request) async throws -> JSONValue {
        let organization = try await organization(request)
        let input = try await body(request)
        let (record, token) = try await store.createToken(
            name: try string(input, "name") ?? "", days: input["validityDays"]?.intValue ?? 90, organization: organization,
            gatewayGroupID: try string(input, "gatewayGroupId", required: false))
        guard case .object(var object) = Self.token(record) else { return Self.token(record) }
        object["token"] = .string(token)
        return .object(object)
    }

    func renewToken(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> JSONValue {
        let organization = try await organization(request)
        let input = try await body(request)
        return Self.token(try await store.renewToken(try id(context), days: input["validityDays"]?.intValue ?? 90, organization: organization))
    }

    func revokeToken(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> JSONValue {
        let token = try await store.revokeToken(try id(context), organization: try organization(request))
        try await registry.dropGateways(usingToken: token.id)
        return Self.token(token)
    }
}
