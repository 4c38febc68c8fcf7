import Foundation
import Hummingbird
import ReshaprConfig
import ReshaprJSON
import ReshaprTelemetry

/// The REST/JSON API the `reshapr` CLI talks to, described in `api/openapi.json` (served at
/// `/api/v1/openapi.json`). Every route but `POST /api/v1/login` needs
/// `Authorization: Bearer <session token>`; everything is scoped to the caller's organization.
/// Errors are `{"error": "..."}` with 400 (bad input), 401, 404 or 409.
public struct RESTAPI: Sendable {
    let store: Store
    let registry: GatewayRegistry
    let loginThrottle: LoginThrottle
    let audit: AuditLog?

    init(store: Store, registry: GatewayRegistry, loginThrottle: LoginThrottle = LoginThrottle(), audit: AuditLog? = nil) {
        self.store = store
        self.registry = registry
        self.loginThrottle = loginThrottle
        self.audit = audit
    }

    struct APIError: Error {
        var status: HTTPResponse.Status
        var message: String
        /// Seconds for `Retry-After`, with 429.
        var retryAfter: Int?
    }

    public func router() -> Router<ControlPlaneRequestContext> {
        let router = Router(context: ControlPlaneRequestContext.self)
        if let audit { router.add(middleware: AuditMiddleware(audit: audit, store: store)) }
        let api = router.group("api/v1")
        api.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: EmbeddedOpenAPI.text + "\n")))
        }
        api.post("login") { request, context in try await self.handle { try await self.login(request, context) } }
        api.post("logout") { request, _ in try await self.handle { try await self.logout(request) } }
        api.get("session") { request, _ in try await self.handle { try await self.describeSession(request) } }
        api.get("api-tokens") { request, _ in try await self.handle { try await self.listTokens(try await self.organization(request)) } }
        api.post("api-tokens") { request, _ in try await self.handle { try await self.createToken(request) } }
        api.post("api-tokens/:id/renew") { request, context in try await self.handle { try await self.renewToken(request, context) } }
        api.delete("api-tokens/:id") { request, context in try await self.handle { try await self.revokeToken(request, context) } }
        api.get("gateway-groups") { request, _ in try await self.handle { try await self.listGroups(try await self.organization(request)) } }
        api.post("gateway-groups") { request, _ in try await self.handle { try await self.createGroup(request) } }
        api.get("gateway-groups/:id/export") { request, context in try await self.handle { try await self.export(request, context) } }
        api.delete("gateway-groups/:id") { request, context in
            try await self.handle { try await self.store.deleteGroup(try self.id(context), organization: try await self.organization(request)); return nil }
        }
        api.get("services") { request, _ in try await self.handle { try await self.listServices(try await self.organization(request)) } }
        api.post("services") { request, _ in try await self.handle { try await self.importService(request) } }
        api.delete("services/:id") { request, context in
            try await self.handle { try await self.store.deleteService(try self.id(context), organization: try await self.organization(request)); return nil }
        }
        api.get("services/:id/artifacts") { request, context in try await self.handle { try await self.listArtifacts(request, context) } }
        api.post("services/:id/artifacts") { request, context in try await self.handle { try await self.attachArtifact(request, context) } }
        api.get("artifacts/:id") { request, context in
            try await self.handle { Self.describe(try await self.store.artifact(try self.id(context), organization: try await self.organization(request)), content: true) }
        }
        api.delete("artifacts/:id") { request, context in
            try await self.handle { try await self.store.deleteArtifact(try self.id(context), organization: try await self.organization(request)); return nil }
        }
        api.get("secrets") { request, _ in
            try await self.handle { .array(try await self.store.secrets(of: try await self.organization(request)).map(Self.describe)) }
        }
        api.post("secrets") { request, _ in try await self.handle { try await self.createSecret(request) } }
        api.delete("secrets/:id") { request, context in
            try await self.handle { try await self.store.deleteSecret(try self.id(context), organization: try await self.organization(request)); return nil }
        }
        api.get("configuration-plans") { request, _ in try await self.handle { try await self.listPlans(try await self.organization(request)) } }
        api.post("configuration-plans") { request, _ in try await self.handle { try await self.createPlan(request) } }
        api.post("configuration-plans/:id/renew-api-key") { request, context in try await self.handle { try await self.renewAPIKey(request, context) } }
        api.put("configuration-plans/:id") { request, context in try await self.handle { try await self.updatePlan(request, context) } }
        api.delete("configuration-plans/:id") { request, context in
            try await self.handle { try await self.store.deletePlan(try self.id(context), organization: try await self.organization(request)); return nil }
        }
        api.get("expositions") { request, _ in try await self.handle { try await self.listExpositions(try await self.organization(request)) } }
        api.post("expositions") { request, _ in try await self.handle { try await self.createExposition(request) } }
        api.delete("expositions/:id") { request, context in
            try await self.handle { try await self.store.deleteExposition(try self.id(context), organization: try await self.organization(request)); return nil }
        }
        api.get("gateways") { request, _ in try await self.handle { try await self.listGateways(try await self.organization(request)) } }
        return router
    }

    // MARK: - Plumbing

    /// Runs a route: its value as JSON (or 204 when nil), its errors as JSON errors.
    func handle(_ body: () async throws -> JSONValue?) async throws -> Response {
        do {
            guard let value = try await body() else { return Response(status: .noContent) }
            return Self.json(value)
        } catch let error as APIError {
            var response = Self.json(["error": .string(error.message)], status: error.status)
            if let seconds = error.retryAfter { response.headers[.retryAfter] = String(seconds) }
            return response
        } catch let error as StoreError {
            let status: HTTPResponse.Status = error.kind == .notFound ? .notFound : error.kind == .conflict ? .conflict : .badRequest
            return Self.json(["error": .string(error.message)], status: status)
        }
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized(pretty: true) + "\n")))
    }

    func body(_ request: Request) async throws -> JSONValue {
        let buffer = try await request.body.collect(upTo: 32 << 20)
        do {
            return try JSONParser.parse(Array(buffer.readableBytesView))
        } catch {
            throw APIError(status: .badRequest, message: "request body: \(error.description)")
        }
    }

    func organization(_ request: Request) async throws -> Organization {
        try await session(request).organization
    }

    /// The caller's session, from `Authorization: Bearer <session token>`.
    func session(_ request: Request) async throws -> Store.Session {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), let session = try await store.session(String(header.dropFirst(7))) else {
            throw APIError(status: .unauthorized, message: "not logged in or session expired: run reshapr login")
        }
        return session
    }

    func id(_ context: ControlPlaneRequestContext) throws -> String {
        guard let id = context.parameters.get("id") else { throw APIError(status: .badRequest, message: "missing id") }
        return id
    }

    func string(_ value: JSONValue, _ field: String, required: Bool = true) throws -> String? {
        guard let text = value[field]?.stringValue, !text.isEmpty else {
            if required { throw APIError(status: .badRequest, message: "\(field) is required") }
            return nil
        }
        return text
    }
}
