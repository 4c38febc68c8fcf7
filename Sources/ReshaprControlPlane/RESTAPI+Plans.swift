import Foundation
import Hummingbird
import ReshaprConfig
import ReshaprJSON

/// Configuration plans.
extension RESTAPI {
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
        var spec: JSONObject = [:]
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
        let service = try store.service(serviceID, organization: organization)
        let plan = try store.createPlan(name: name, serviceID: serviceID, spec: try planSpec(input, service: service, name: name, organization: organization), organization: organization)
        return ["id": .string(plan.id), "name": .string(plan.name), "serviceId": .string(plan.serviceID)]
    }

    func updatePlan(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> JSONValue {
        let organization = try organization(request)
        let id = try id(context)
        guard let plan = try store.plans(of: organization).first(where: { $0.id == id }),
            let service = try store.services(of: organization).first(where: { $0.id == plan.serviceID })
        else { throw APIError(status: .notFound, message: "no configuration plan \(id)") }
        let updated = try store.updatePlan(id, spec: try planSpec(try await body(request), service: service, name: plan.name, organization: organization), organization: organization)
        return ["id": .string(updated.id), "name": .string(updated.name)]
    }
}
