import Foundation
import Hummingbird
import ReshaprConfig
import ReshaprJSON

/// The REST/JSON API the `reshapr` CLI talks to. Every route but `POST /api/v1/login` needs
/// `Authorization: Bearer <session token>`; everything is scoped to the caller's organization.
/// Errors are `{"error": "..."}` with 400 (bad input), 401, 404 or 409.
public struct RESTAPI: Sendable {
    let store: Store
    let registry: GatewayRegistry

    public init(store: Store, registry: GatewayRegistry) {
        self.store = store
        self.registry = registry
    }

    struct APIError: Error {
        var status: HTTPResponse.Status
        var message: String
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        let api = router.group("api/v1")
        api.post("login") { request, _ in try await self.handle { try await self.login(request) } }
        api.post("logout") { request, _ in try await self.handle { try self.logout(request) } }
        api.get("api-tokens") { request, _ in try await self.handle { try self.listTokens(try self.organization(request)) } }
        api.post("api-tokens") { request, _ in try await self.handle { try await self.createToken(request) } }
        api.post("api-tokens/:id/renew") { request, context in try await self.handle { try await self.renewToken(request, context) } }
        api.delete("api-tokens/:id") { request, context in try await self.handle { try self.revokeToken(request, context) } }
        api.get("gateway-groups") { request, _ in try await self.handle { try self.listGroups(try self.organization(request)) } }
        api.post("gateway-groups") { request, _ in try await self.handle { try await self.createGroup(request) } }
        api.get("gateway-groups/:id/export") { request, context in try await self.handle { try self.export(request, context) } }
        api.delete("gateway-groups/:id") { request, context in
            try await self.handle { try self.store.deleteGroup(try self.id(context), organization: try self.organization(request)); return nil }
        }
        api.get("services") { request, _ in try await self.handle { try self.listServices(try self.organization(request)) } }
        api.post("services") { request, _ in try await self.handle { try await self.importService(request) } }
        api.delete("services/:id") { request, context in
            try await self.handle { try self.store.deleteService(try self.id(context), organization: try self.organization(request)); return nil }
        }
        api.get("secrets") { request, _ in
            try await self.handle { .array(try self.store.secrets(of: try self.organization(request)).map { ["id": .string($0.id), "name": .string($0.name)] }) }
        }
        api.post("secrets") { request, _ in try await self.handle { try await self.createSecret(request) } }
        api.delete("secrets/:id") { request, context in
            try await self.handle { try self.store.deleteSecret(try self.id(context), organization: try self.organization(request)); return nil }
        }
        api.get("configuration-plans") { request, _ in try await self.handle { try self.listPlans(try self.organization(request)) } }
        api.post("configuration-plans") { request, _ in try await self.handle { try await self.createPlan(request) } }
        api.put("configuration-plans/:id") { request, context in try await self.handle { try await self.updatePlan(request, context) } }
        api.delete("configuration-plans/:id") { request, context in
            try await self.handle { try self.store.deletePlan(try self.id(context), organization: try self.organization(request)); return nil }
        }
        api.get("expositions") { request, _ in try await self.handle { try self.listExpositions(try self.organization(request)) } }
        api.post("expositions") { request, _ in try await self.handle { try await self.createExposition(request) } }
        api.delete("expositions/:id") { request, context in
            try await self.handle { try self.store.deleteExposition(try self.id(context), organization: try self.organization(request)); return nil }
        }
        api.get("gateways") { request, _ in try await self.handle { try self.listGateways(try self.organization(request)) } }
        return router
    }

    // MARK: - Plumbing

    /// Runs a route: its value as JSON (or 204 when nil), its errors as JSON errors.
    func handle(_ body: () async throws -> JSONValue?) async throws -> Response {
        do {
            guard let value = try await body() else { return Response(status: .noContent) }
            return Self.json(value)
        } catch let error as APIError {
            return Self.json(["error": .string(error.message)], status: error.status)
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

    func organization(_ request: Request) throws -> Organization {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            let (organization, _) = try store.session(String(header.dropFirst(7)))
        else { throw APIError(status: .unauthorized, message: "not logged in or session expired: run reshapr login") }
        return organization
    }

    func id(_ context: BasicRequestContext) throws -> String {
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

    // MARK: - Routes

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

    static func token(_ token: APIToken) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(token.id), "name": .string(token.name), "createdAt": .string(token.createdAt.ISO8601Format()),
            "expiresAt": .string(token.expiresAt.ISO8601Format()),
        ]
        if let revoked = token.revokedAt { object["revokedAt"] = .string(revoked.ISO8601Format()) }
        return .object(object)
    }

    func listTokens(_ organization: Organization) throws -> JSONValue {
        .array(try store.tokens(of: organization).map(Self.token))
    }

    func createToken(_ request: Request) async throws -> JSONValue {
        let organization = try organization(request)
        let input = try await body(request)
        let (record, token) = try store.createToken(name: try string(input, "name") ?? "", days: input["validityDays"]?.intValue ?? 90, organization: organization)
        guard case .object(var object) = Self.token(record) else { return Self.token(record) }
        object["token"] = .string(token)
        return .object(object)
    }

    func renewToken(_ request: Request, _ context: BasicRequestContext) async throws -> JSONValue {
        let organization = try organization(request)
        let input = try await body(request)
        return Self.token(try store.renewToken(try id(context), days: input["validityDays"]?.intValue ?? 90, organization: organization))
    }

    func revokeToken(_ request: Request, _ context: BasicRequestContext) throws -> JSONValue {
        let token = try store.revokeToken(try id(context), organization: try organization(request))
        registry.dropGateways(usingToken: token.id)
        return Self.token(token)
    }

    static func group(_ group: GatewayGroupRecord, organization: Organization) -> JSONValue {
        [
            "id": .string(group.id), "organization": .string(organization.name), "name": .string(group.name),
            "labels": .object(group.labelMap.mapValues(JSONValue.string)),
        ]
    }

    func listGroups(_ organization: Organization) throws -> JSONValue {
        .array(try store.groups(of: organization).map { Self.group($0, organization: organization) })
    }

    func createGroup(_ request: Request) async throws -> JSONValue {
        let organization = try organization(request)
        let input = try await body(request)
        var labels: [String: String] = [:]
        for (key, value) in input["labels"]?.objectValue ?? [:] {
            guard let text = value.stringValue else { throw APIError(status: .badRequest, message: "labels.\(key) must be a string") }
            labels[key] = text
        }
        return Self.group(try store.createGroup(name: try string(input, "name") ?? "", labels: labels, organization: organization), organization: organization)
    }

    /// The configuration directory a gateway of the group (labels exactly the group's) would
    /// receive, as files; secrets included (the caller is an authenticated administrator).
    func export(_ request: Request, _ context: BasicRequestContext) throws -> JSONValue {
        let organization = try organization(request)
        let id = try id(context)
        guard let group = try store.groups(of: organization).first(where: { $0.id == id }) else { throw APIError(status: .notFound, message: "no gateway group \(id)") }
        let files = try ConfigurationRenderer.render(organization: organization, labels: group.labelMap, store: store, includeSecrets: true)
        return [
            "gatewayGroup": .string(group.name),
            "files": .array(files.values.sorted { $0.path < $1.path }.map {
                ["path": .string($0.path), "contentBase64": .string($0.content.base64EncodedString()), "sha256": .string($0.sha256)]
            }),
        ]
    }

    func listServices(_ organization: Organization) throws -> JSONValue {
        .array(
            try store.services(of: organization).map { service in
                [
                    "id": .string(service.id), "name": .string(service.name), "version": .string(service.version), "type": .string(service.type),
                    "artifacts": .array(try store.artifacts(of: service).map { ["type": .string($0.type), "fileName": .string($0.fileName)] }),
                ]
            })
    }

    /// Imports a service from artifacts; name, version and type default to what the first artifact says.
    func importService(_ request: Request) async throws -> JSONValue {
        let organization = try organization(request)
        let input = try await body(request)
        var artifacts: [(type: String, fileName: String, content: Data)] = []
        var first: ResourceValidation.ArtifactSummary?
        for (index, entry) in (input["artifacts"]?.arrayValue ?? []).enumerated() {
            let fileName = try string(entry, "fileName") ?? ""
            let content: Data
            if let text = entry["content"]?.stringValue {
                content = Data(text.utf8)
            } else if let encoded = entry["contentBase64"]?.stringValue, let data = Data(base64Encoded: encoded) {
                content = data
            } else {
                throw APIError(status: .badRequest, message: "artifacts[\(index)] needs content or contentBase64")
            }
            switch ResourceValidation.inspectArtifact(Array(content), fileName: fileName) {
            case .failure(let error): throw APIError(status: .badRequest, message: "artifacts[\(index)]: \(error.message)")
            case .success(let summary):
                if first == nil { first = summary }
                artifacts.append((summary.type.rawValue, fileName, content))
            }
        }
        guard let first else { throw APIError(status: .badRequest, message: "artifacts: at least one artifact is required") }
        guard let name = (try string(input, "name", required: false)) ?? first.title.map(Self.resourceName) else {
            throw APIError(status: .badRequest, message: "name is required (the artifact has no title)")
        }
        guard let version = (try string(input, "version", required: false)) ?? first.version else {
            throw APIError(status: .badRequest, message: "version is required (the artifact has no version)")
        }
        let service = try store.createService(
            name: name, version: version, type: (try string(input, "type", required: false)) ?? first.serviceType.rawValue,
            description: try string(input, "description", required: false), artifacts: artifacts, organization: organization)
        return ["id": .string(service.id), "name": .string(service.name), "version": .string(service.version), "type": .string(service.type)]
    }

    /// A title made into a resource name: `Swagger Petstore - OpenAPI 3.0` → `swagger-petstore-openapi-3.0`.
    static func resourceName(_ title: String) -> String {
        var name = ""
        for character in title.lowercased() {
            if character.isLetter && character.isASCII || character.isNumber && character.isASCII || character == "." || character == "_" {
                name.append(character)
            } else if !name.hasSuffix("-") {
                name.append("-")
            }
        }
        return String(name.trimmingCharacters(in: CharacterSet(charactersIn: "-._")).prefix(128))
    }

    func createSecret(_ request: Request) async throws -> JSONValue {
        let organization = try organization(request)
        let input = try await body(request)
        let data = (input["data"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        guard !data.isEmpty else { throw APIError(status: .badRequest, message: "data: at least one key is required") }
        let secret = try store.createSecret(name: try string(input, "name") ?? "", data: data, organization: organization)
        return ["id": .string(secret.id), "name": .string(secret.name)]
    }

    func listPlans(_ organization: Organization) throws -> JSONValue {
        let services = Dictionary(uniqueKeysWithValues: try store.services(of: organization).map { ($0.id, $0) })
        return .array(
            try store.plans(of: organization).map { plan in
                let service = services[plan.serviceID]
                var object = (try? JSONParser.parse(plan.spec))?.objectValue ?? [:]
                object["id"] = .string(plan.id)
                object["name"] = .string(plan.name)
                object["serviceId"] = .string(plan.serviceID)
                object["service"] = .string(service.map { "\($0.name) \($0.version)" } ?? "?")
                return .object(object)
            })
    }

    /// The plan spec of a request, checked against the ConfigurationPlan schema.
    func planSpec(_ input: JSONValue, service: ServiceRecord, name: String, organization: Organization) throws -> JSONValue {
        var spec: [String: JSONValue] = [:]
        for key in ["description", "backend", "tools", "backendSecurity", "clientSecurity"] {
            if let value = input[key] { spec[key] = value }
        }
        var withService = spec
        withService["service"] = ["name": .string(service.name), "version": .string(service.version)]
        let document: JSONValue = [
            "apiVersion": "reshapr.io/v1", "kind": "ConfigurationPlan", "metadata": ["name": .string(name), "org": .string(organization.name)],
            "spec": .object(withService),
        ]
        let violations = ResourceValidation.violations(of: document, kind: .configurationPlan)
        if !violations.isEmpty {
            throw APIError(status: .badRequest, message: violations.map { "\(String($0.path.description.dropFirst("spec.".count))): \($0.message)" }.joined(separator: "; "))
        }
        return .object(spec)
    }

    func createPlan(_ request: Request) async throws -> JSONValue {
        let organization = try organization(request)
        let input = try await body(request)
        let name = try string(input, "name") ?? ""
        let serviceID = try string(input, "serviceId") ?? ""
        guard let service = try store.services(of: organization).first(where: { $0.id == serviceID }) else {
            throw APIError(status: .notFound, message: "no service \(serviceID)")
        }
        let plan = try store.createPlan(name: name, serviceID: serviceID, spec: try planSpec(input, service: service, name: name, organization: organization), organization: organization)
        return ["id": .string(plan.id), "name": .string(plan.name), "serviceId": .string(plan.serviceID)]
    }

    func updatePlan(_ request: Request, _ context: BasicRequestContext) async throws -> JSONValue {
        let organization = try organization(request)
        let id = try id(context)
        guard let plan = try store.plans(of: organization).first(where: { $0.id == id }),
            let service = try store.services(of: organization).first(where: { $0.id == plan.serviceID })
        else { throw APIError(status: .notFound, message: "no configuration plan \(id)") }
        let updated = try store.updatePlan(id, spec: try planSpec(try await body(request), service: service, name: plan.name, organization: organization), organization: organization)
        return ["id": .string(updated.id), "name": .string(updated.name)]
    }

    func listExpositions(_ organization: Organization) throws -> JSONValue {
        let plans = Dictionary(uniqueKeysWithValues: try store.plans(of: organization).map { ($0.id, $0) })
        let services = Dictionary(uniqueKeysWithValues: try store.services(of: organization).map { ($0.id, $0) })
        let groups = Dictionary(uniqueKeysWithValues: try store.groups(of: organization).map { ($0.id, $0) })
        let gateways = registry.gateways.filter { $0.orgID == organization.id }
        return .array(
            try store.expositions(of: organization).map { exposition in
                let plan = plans[exposition.planID]
                let service = plan.flatMap { services[$0.serviceID] }
                let group = groups[exposition.gatewayGroupID]
                let path = exposition.path ?? "/mcp/\(organization.name)/\(service?.name ?? "?")/\(service?.version ?? "?")"
                let urls = gateways.filter { gateway in group?.matches(gateway.labels) ?? false }.flatMap { gateway in
                    gateway.fqdns.map { JSONValue.string("http://\($0)\(path)") }
                }
                return [
                    "id": .string(exposition.id), "configurationId": .string(exposition.planID), "configuration": .string(plan?.name ?? "?"),
                    "gatewayGroupId": .string(exposition.gatewayGroupID), "gatewayGroup": .string(group?.name ?? "?"), "path": .string(path),
                    "endpoints": .array(urls),
                ]
            })
    }

    func createExposition(_ request: Request) async throws -> JSONValue {
        let organization = try organization(request)
        let input = try await body(request)
        let path = try string(input, "path", required: false)
        if let path, !path.hasPrefix("/") { throw APIError(status: .badRequest, message: "path must start with /") }
        let exposition = try store.createExposition(
            planID: try string(input, "configurationId") ?? "", groupID: try string(input, "gatewayGroupId") ?? "", path: path, organization: organization)
        return ["id": .string(exposition.id)]
    }

    func listGateways(_ organization: Organization) throws -> JSONValue {
        .array(
            registry.gateways.filter { $0.orgID == organization.id }.map { gateway in
                [
                    "gatewayId": .string(gateway.gatewayID), "labels": .object(gateway.labels.mapValues(JSONValue.string)),
                    "groups": .array(gateway.groups.map(JSONValue.string)), "fqdns": .array(gateway.fqdns.map(JSONValue.string)),
                    "registeredAt": .string(gateway.registeredAt.ISO8601Format()), "lastHeartbeat": .string(gateway.lastHeartbeat.ISO8601Format()),
                    "appliedRevision": .integer(Int(gateway.appliedRevision)), "watching": .bool(gateway.watching),
                ]
            })
    }
}
