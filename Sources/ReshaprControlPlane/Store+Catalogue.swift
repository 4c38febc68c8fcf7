import Foundation
import ReshaprDatabase
import ReshaprConfig
import ReshaprJSON

/// The catalogue: services and their artifacts, secrets, plans, expositions.
extension Store {
    public func createService(
        name: String, version: String, type: String, description: String?, artifacts: [(type: String, fileName: String, content: Data)],
        organization: Organization
    ) async throws -> ServiceRecord {
        guard ["REST", "GRAPHQL", "GRPC"].contains(type) else { throw StoreError.invalid("service type must be REST, GRAPHQL or GRPC, got \(type)") }
        guard !artifacts.isEmpty else { throw StoreError.invalid("a service needs at least one artifact") }
        // The name and version become a folder of every gateway's configuration: check them
        // here with the gateway's own schema, so that nothing rendered later can be refused.
        let document: JSONValue = [
            "apiVersion": .string(resourceAPIVersion), "kind": "Service", "metadata": ["name": .string(name)],
            "spec": ["version": .string(version), "type": .string(type), "artifacts": [["type": "OPENAPI", "path": "a"]]],
        ]
        if let violation = ResourceValidation.violations(of: document, kind: .service).first {
            let field = violation.path.description.hasPrefix("metadata.name") ? "name" : violation.path.description.hasPrefix("spec.version") ? "version" : "\(violation.path)"
            throw StoreError.invalid("service \(field): \(violation.message)")
        }
        let service = ServiceRecord(id: Identifier.make(), orgID: organization.id, name: name, version: version, type: type, description: description)
        let records = artifacts.map { ArtifactRecord(id: Identifier.make(), serviceID: service.id, type: $0.type, fileName: $0.fileName, content: $0.content) }
        try await change(organization.id) { db in
            do {
                try await service.insert(db)
            } catch SQLError.constraint {
                throw StoreError.conflict("service \(name) \(version) already exists")
            }
            for artifact in records { try await artifact.insert(db) }
        }
        return service
    }

    /// Adds an artifact to a service of the organization; its file name must be new to the service.
    public func attachArtifact(serviceID: String, type: String, fileName: String, content: Data, organization: Organization) async throws -> ArtifactRecord {
        try await change(organization.id) { db in
            guard try await ServiceRecord.fetchOne(db, id: serviceID)?.orgID == organization.id else { throw StoreError.notFound("no service \(serviceID)") }
            if try await db.queryOne("SELECT id FROM artifact WHERE service_id = ? AND file_name = ?", serviceID, fileName) != nil {
                throw StoreError.conflict("service \(serviceID) already has an artifact named \(fileName); rename the file or delete that artifact")
            }
            let artifact = ArtifactRecord(id: Identifier.make(), serviceID: serviceID, type: type, fileName: fileName, content: content)
            try await artifact.insert(db)
            return artifact
        }
    }

    /// An artifact of a service of the organization.
    public func artifact(_ id: String, organization: Organization) async throws -> ArtifactRecord {
        try await read { db in
            guard let artifact = try await ArtifactRecord.fetchOne(db, id: id), try await ServiceRecord.fetchOne(db, id: artifact.serviceID)?.orgID == organization.id else {
                throw StoreError.notFound("no artifact \(id)")
            }
            return artifact
        }
    }

    /// Deletes an artifact attached to a service; the API description a service was imported
    /// from stays (delete the service instead).
    public func deleteArtifact(_ id: String, organization: Organization) async throws {
        let artifact = try await artifact(id, organization: organization)
        guard artifact.type.hasPrefix("RESHAPR_") else {
            throw StoreError.invalid("artifact \(id) is the service's \(artifact.type) description; delete the service instead")
        }
        try await change(organization.id) { db in try await db.execute("DELETE FROM artifact WHERE id = ?", id) }
    }

    public func service(_ id: String, organization: Organization) async throws -> ServiceRecord {
        guard let service = try await read({ db in try await ServiceRecord.fetchOne(db, id: id) }), service.orgID == organization.id else {
            throw StoreError.notFound("no service \(id)")
        }
        return service
    }

    public func services(of organization: Organization) async throws -> [ServiceRecord] {
        try await read { db in try await ServiceRecord.fetchAll(db, where: "org_id = ?", organization.id, orderBy: "name, version") }
    }

    public func deleteService(_ id: String, organization: Organization) async throws {
        try await delete(ServiceRecord.self, id: id, organization: organization, what: "service")
    }

    public func createSecret(name: String, data: [String: String], description: String? = nil, organization: Organization) async throws -> SecretRecord {
        let secret = SecretRecord(
            id: Identifier.make(), orgID: organization.id, name: name, data: JSONValue(data.mapValues(JSONValue.string)).serialized(), description: description)
        try await insert(secret, organization: organization.id, conflict: "a secret named \(name) already exists")
        return secret
    }

    public func createPlan(name: String, serviceID: String, spec: JSONValue, organization: Organization) async throws -> PlanRecord {
        guard try await read({ db in try await ServiceRecord.fetchOne(db, id: serviceID) })?.orgID == organization.id else {
            throw StoreError.notFound("no service \(serviceID)")
        }
        guard case .object = spec, spec["backend"] != nil else { throw StoreError.invalid("a configuration plan needs a backend") }
        let plan = PlanRecord(id: Identifier.make(), orgID: organization.id, name: name, serviceID: serviceID, spec: spec.serialized())
        try await insert(plan, organization: organization.id, conflict: "a configuration plan named \(name) already exists")
        return plan
    }

    public func plans(of organization: Organization) async throws -> [PlanRecord] {
        try await read { db in try await PlanRecord.fetchAll(db, where: "org_id = ?", organization.id, orderBy: "name") }
    }

    /// Replaces a plan's spec (backend, tools, security).
    public func updatePlan(_ id: String, spec: JSONValue, organization: Organization) async throws -> PlanRecord {
        let serialized = spec.serialized()
        return try await change(organization.id) { db in
            guard var plan = try await PlanRecord.fetchOne(db, id: id), plan.orgID == organization.id else { throw StoreError.notFound("no configuration plan \(id)") }
            plan.spec = serialized
            try await db.execute("UPDATE configuration_plan SET spec = ? WHERE id = ?", serialized, id)
            return plan
        }
    }

    public func deletePlan(_ id: String, organization: Organization) async throws {
        try await delete(PlanRecord.self, id: id, organization: organization, what: "configuration plan")
    }

    /// An exposition of a plan on a gateway group; `name` defaults to `<service>-<version>-<plan>`.
    public func createExposition(planID: String, groupID: String, name: String? = nil, path: String?, organization: Organization) async throws -> ExpositionRecord {
        let defaultName = try await read { db in
            guard let plan = try await PlanRecord.fetchOne(db, id: planID), plan.orgID == organization.id else { throw StoreError.notFound("no configuration plan \(planID)") }
            guard try await GatewayGroupRecord.fetchOne(db, id: groupID)?.orgID == organization.id else { throw StoreError.notFound("no gateway group \(groupID)") }
            let service = try await ServiceRecord.fetchOne(db, id: plan.serviceID)
            return Self.slug("\(service?.name ?? "")-\(service?.version ?? "")-\(plan.name)")
        }
        let name = name ?? defaultName
        let document: JSONValue = ["apiVersion": .string(resourceAPIVersion), "kind": "Exposition", "metadata": ["name": .string(name)], "spec": ["plan": "p"]]
        if let violation = ResourceValidation.violations(of: document, kind: .exposition).first {
            throw StoreError.invalid("exposition name \(name): \(violation.message)")
        }
        let exposition = ExpositionRecord(id: Identifier.make(), name: name, orgID: organization.id, planID: planID, gatewayGroupID: groupID, path: path)
        try await insert(exposition, organization: organization.id, conflict: "an exposition named \(name) already exists; choose another name")
        return exposition
    }

    public func expositions(of organization: Organization) async throws -> [ExpositionRecord] {
        try await read { db in try await ExpositionRecord.fetchAll(db, where: "org_id = ?", organization.id, orderBy: "id") }
    }

    public func deleteExposition(_ id: String, organization: Organization) async throws {
        try await delete(ExpositionRecord.self, id: id, organization: organization, what: "exposition")
    }

    /// Text made into a resource name: `Swagger Petstore - OpenAPI 3.0` → `swagger-petstore-openapi-3.0`.
    public static func slug(_ text: String) -> String {
        var name = ""
        for character in text.lowercased() {
            if character.isLetter && character.isASCII || character.isNumber && character.isASCII || character == "." || character == "_" {
                name.append(character)
            } else if !name.hasSuffix("-") {
                name.append("-")
            }
        }
        return String(name.trimmingCharacters(in: CharacterSet(charactersIn: "-._")).prefix(128)).trimmingCharacters(in: CharacterSet(charactersIn: "-._"))
    }
}
