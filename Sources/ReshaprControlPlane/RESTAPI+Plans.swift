import Foundation
import Hummingbird
import ReshaprConfig
import ReshaprJSON
import ReshaprSyncProtocol

/// Configuration plans.
extension RESTAPI {
    func listPlans(_ organization: Organization) async throws -> JSONValue {
        let services = Dictionary(uniqueKeysWithValues: try await store.services(of: organization).map { ($0.id, $0) })
        return .array(
            try await store.plans(of: organization).map { plan in
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
    func planSpec(_ input: JSONValue, service: ServiceRecord, name: String, organization: Organization) async throws -> JSONValue {
        var spec: JSONObject = [:]
        for key in ["description", "backend", "tools", "prompts", "resources", "backendSecurity", "clientSecurity", "audit"] {
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

    /// Creates a plan; with `generateApiKey: true`, its clients need an API key generated here,
    /// answered once and kept only as its SHA-256.
    func createPlan(_ request: Request) async throws -> JSONValue {
        let organization = try await organization(request)
        var input = try await body(request)
        let name = try string(input, "name") ?? ""
        let serviceID = try string(input, "serviceId") ?? ""
        let service = try await store.service(serviceID, organization: organization)
        var key: String?
        if input["generateApiKey"] == true, case .object(var members) = input {
            let generated = try Self.withGeneratedKey(members["clientSecurity"])
            members["clientSecurity"] = generated.security
            input = .object(members)
            key = generated.key
        }
        let plan = try await store.createPlan(name: name, serviceID: serviceID, spec: try planSpec(input, service: service, name: name, organization: organization), organization: organization)
        var answer: JSONObject = ["id": .string(plan.id), "name": .string(plan.name), "serviceId": .string(plan.serviceID)]
        if let key { answer["apiKey"] = .string(key) }
        return .object(answer)
    }

    /// `POST /configuration-plans/{id}/renew-api-key`: a new generated key replaces the plan's
    /// (the old one stops working as soon as the gateways get the change).
    func renewAPIKey(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> JSONValue {
        let organization = try await organization(request)
        let id = try id(context)
        guard let plan = try await store.plans(of: organization).first(where: { $0.id == id }) else { throw APIError(status: .notFound, message: "no configuration plan \(id)") }
        var spec = (try? JSONParser.parse(plan.spec))?.objectValue ?? [:]
        let generated = try Self.withGeneratedKey(spec["clientSecurity"])
        spec["clientSecurity"] = generated.security
        let updated = try await store.updatePlan(id, spec: .object(spec), organization: organization)
        return ["id": .string(updated.id), "name": .string(updated.name), "apiKey": .string(generated.key)]
    }

    /// A new API key (`rsk_` and 256 random bits, base64url) and the client security that
    /// checks it by hash, keeping a header the plan names. A JWT-secured plan is refused.
    static func withGeneratedKey(_ current: JSONValue?) throws -> (key: String, security: JSONValue) {
        var security: JSONObject = ["type": "apiKey"]
        if let current, current != .null {
            guard let type = current["type"]?.stringValue, type == "apiKey" || type == "none" else {
                throw APIError(status: .badRequest, message: "clientSecurity: a generated API key replaces none or apiKey security, not \(current["type"]?.stringValue ?? "this")")
            }
            if let header = current["header"]?.stringValue { security["header"] = .string(header) }
        }
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        for _ in 0..<4 { withUnsafeBytes(of: generator.next() as UInt64) { bytes += $0 } }
        let encoded = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        let key = "rsk_" + encoded
        security["keyHash"] = .string("sha256:" + Reshapr_Gateway_V1_File.sha256Hex(Data(key.utf8)))
        return (key, .object(security))
    }

    func updatePlan(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> JSONValue {
        let organization = try await organization(request)
        let id = try id(context)
        guard let plan = try await store.plans(of: organization).first(where: { $0.id == id }),
            let service = try await store.services(of: organization).first(where: { $0.id == plan.serviceID })
        else { throw APIError(status: .notFound, message: "no configuration plan \(id)") }
        let updated = try await store.updatePlan(id, spec: try planSpec(try await body(request), service: service, name: plan.name, organization: organization), organization: organization)
        return ["id": .string(updated.id), "name": .string(updated.name)]
    }
}
