import Foundation
import GRDB
import ReshaprConfig
import ReshaprJSON

/// The catalogue: services and their artifacts, secrets, plans, expositions.
extension Store {
    public func createService(
        name: String, version: String, type: String, description: String?, artifacts: [(type: String, fileName: String, content: Data)],
        organization: Organization
    ) throws -> ServiceRecord {
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
        try database.write { db in
            do {
                try service.insert(db)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw StoreError.conflict("service \(name) \(version) already exists")
            }
            for artifact in artifacts {
                try ArtifactRecord(id: Identifier.make(), serviceID: service.id, type: artifact.type, fileName: artifact.fileName, content: artifact.content).insert(db)
            }
        }
        changed(organization.id)
        return service
    }

    /// Adds an artifact to a service of the organization; its file name must be new to the service.
    public func attachArtifact(serviceID: String, type: String, fileName: String, content: Data, organization: Organization) throws -> ArtifactRecord {
        let artifact = try database.write { db in
            guard try ServiceRecord.fetchOne(db, key: serviceID)?.orgID == organization.id else { throw StoreError.notFound("no service \(serviceID)") }
            if try ArtifactRecord.filter(Column("service_id") == serviceID && Column("file_name") == fileName).fetchCount(db) > 0 {
                throw StoreError.conflict("service \(serviceID) already has an artifact named \(fileName); rename the file or delete that artifact")
            }
            let artifact = ArtifactRecord(id: Identifier.make(), serviceID: serviceID, type: type, fileName: fileName, content: content)
            try artifact.insert(db)
            return artifact
        }
        changed(organization.id)
        return artifact
    }

    /// An artifact of a service of the organization.
    public func artifact(_ id: String, organization: Organization) throws -> ArtifactRecord {
        try database.read { db in
            guard let artifact = try ArtifactRecord.fetchOne(db, key: id), try ServiceRecord.fetchOne(db, key: artifact.serviceID)?.orgID == organization.id else {
                throw StoreError.notFound("no artifact \(id)")
            }
            return artifact
        }
    }

    /// Deletes an artifact attached to a service; the API description a service was imported
    /// from stays (delete the service instead).
    public func deleteArtifact(_ id: String, organization: Organization) throws {
        let artifact = try artifact(id, organization: organization)
        guard artifact.type.hasPrefix("RESHAPR_") else {
            throw StoreError.invalid("artifact \(id) is the service's \(artifact.type) description; delete the service instead")
        }
        _ = try database.write { try ArtifactRecord.deleteOne($0, key: id) }
        changed(organization.id)
    }

    public func service(_ id: String, organization: Organization) throws -> ServiceRecord {
        guard let service = try database.read({ try ServiceRecord.fetchOne($0, key: id) }), service.orgID == organization.id else {
            throw StoreError.notFound("no service \(id)")
        }
        return service
    }

    public func services(of organization: Organization) throws -> [ServiceRecord] {
        try database.read { try ServiceRecord.filter(Column("org_id") == organization.id).order(Column("name"), Column("version")).fetchAll($0) }
    }

    public func deleteService(_ id: String, organization: Organization) throws {
        try delete(ServiceRecord.self, id: id, organization: organization, what: "service")
    }

    public func createSecret(name: String, data: [String: String], description: String? = nil, organization: Organization) throws -> SecretRecord {
        let secret = SecretRecord(
            id: Identifier.make(), orgID: organization.id, name: name, data: JSONValue(data.mapValues(JSONValue.string)).serialized(), description: description)
        try insert(secret, conflict: "a secret named \(name) already exists")
        changed(organization.id)
        return secret
    }

    public func createPlan(name: String, serviceID: String, spec: JSONValue, organization: Organization) throws -> PlanRecord {
        guard try database.read({ try ServiceRecord.fetchOne($0, key: serviceID) })?.orgID == organization.id else {
            throw StoreError.notFound("no service \(serviceID)")
        }
        guard case .object = spec, spec["backend"] != nil else { throw StoreError.invalid("a configuration plan needs a backend") }
        let plan = PlanRecord(id: Identifier.make(), orgID: organization.id, name: name, serviceID: serviceID, spec: spec.serialized())
        try insert(plan, conflict: "a configuration plan named \(name) already exists")
        changed(organization.id)
        return plan
    }

    public func plans(of organization: Organization) throws -> [PlanRecord] {
        try database.read { try PlanRecord.filter(Column("org_id") == organization.id).order(Column("name")).fetchAll($0) }
    }

    /// Replaces a plan's spec (backend, tools, security).
    public func updatePlan(_ id: String, spec: JSONValue, organization: Organization) throws -> PlanRecord {
        let plan = try database.write { db in
            guard var plan = try PlanRecord.fetchOne(db, key: id), plan.orgID == organization.id else { throw StoreError.notFound("no configuration plan \(id)") }
            plan.spec = spec.serialized()
            try plan.update(db)
            return plan
        }
        changed(organization.id)
        return plan
    }

    public func deletePlan(_ id: String, organization: Organization) throws {
        try delete(PlanRecord.self, id: id, organization: organization, what: "configuration plan")
    }

    /// An exposition of a plan on a gateway group; `name` defaults to `<service>-<version>-<plan>`.
    public func createExposition(planID: String, groupID: String, name: String? = nil, path: String?, organization: Organization) throws -> ExpositionRecord {
        let defaultName = try database.read { db in
            guard let plan = try PlanRecord.fetchOne(db, key: planID), plan.orgID == organization.id else { throw StoreError.notFound("no configuration plan \(planID)") }
            guard try GatewayGroupRecord.fetchOne(db, key: groupID)?.orgID == organization.id else { throw StoreError.notFound("no gateway group \(groupID)") }
            let service = try ServiceRecord.fetchOne(db, key: plan.serviceID)
            return Self.slug("\(service?.name ?? "")-\(service?.version ?? "")-\(plan.name)")
        }
        let name = name ?? defaultName
        let document: JSONValue = ["apiVersion": .string(resourceAPIVersion), "kind": "Exposition", "metadata": ["name": .string(name)], "spec": ["plan": "p"]]
        if let violation = ResourceValidation.violations(of: document, kind: .exposition).first {
            throw StoreError.invalid("exposition name \(name): \(violation.message)")
        }
        let exposition = ExpositionRecord(id: Identifier.make(), name: name, orgID: organization.id, planID: planID, gatewayGroupID: groupID, path: path)
        try insert(exposition, conflict: "an exposition named \(name) already exists; choose another name")
        changed(organization.id)
        return exposition
    }

    public func expositions(of organization: Organization) throws -> [ExpositionRecord] {
        try database.read { try ExpositionRecord.filter(Column("org_id") == organization.id).order(Column("id")).fetchAll($0) }
    }

    public func deleteExposition(_ id: String, organization: Organization) throws {
        try delete(ExpositionRecord.self, id: id, organization: organization, what: "exposition")
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
