import Foundation
import ReshaprDatabase
import ReshaprConfig
import ReshaprJSON
import ReshaprSyncProtocol

/// A file of a rendered configuration directory.
public struct RenderedFile: Sendable, Hashable {
    public var path: String
    public var content: Data
    /// Hex SHA-256 of `content`.
    public var sha256: String

    init(path: String, content: Data) {
        self.path = path
        self.content = content
        sha256 = Reshapr_Gateway_V1_File.sha256Hex(content)
    }

    init(path: String, json: JSONValue) {
        self.init(path: path, content: Data((json.serialized(pretty: true) + "\n").utf8))
    }
}

/// A rendered configuration directory and the catalogue revision it is the state of.
public struct RenderedDirectory: Sendable {
    public var files: [String: RenderedFile]
    public var revision: Int64
}

/// Renders what a gateway receives: the configuration directory (ARCHITECTURE.md section 1) of
/// the expositions of its organization whose gateway group matches its labels. Resources are
/// written as JSON documents, artifacts as their original bytes.
public enum ConfigurationRenderer {
    /// Without `includeSecrets`, plans keep their `secretRef`s but no Secret file is written: the
    /// gateway reports the missing secret instead of receiving it over an unencrypted connection.
    /// `onlyGroup` restricts what is rendered to one group (for a gateway whose token is bound to it).
    public static func render(
        organization: Organization, labels: [String: String], onlyGroup: String? = nil, store: Store, includeSecrets: Bool
    ) async throws -> RenderedDirectory {
        // One snapshot of the catalogue: every query sees the same state, and the revision read
        // with them is the one that state has.
        try await store.snapshot { db in
            let revision = try await Store.revision(db)
            let groups = try await GatewayGroupRecord.fetchAll(db, where: "org_id = ?", organization.id).filter {
                $0.matches(labels) && (onlyGroup == nil || $0.id == onlyGroup)
            }
            let groupIDs = Set(groups.map(\.id))
            let expositions = try await ExpositionRecord.fetchAll(db, where: "org_id = ?", organization.id, orderBy: "id").filter { groupIDs.contains($0.gatewayGroupID) }
            var files: [String: RenderedFile] = [:]
            func add(_ file: RenderedFile) { files[file.path] = file }
            let metadata: (String) -> JSONValue = { name in ["name": .string(name), "org": .string(organization.name)] }
            for exposition in expositions {
                guard let plan = try await PlanRecord.fetchOne(db, id: exposition.planID),
                    let service = try await ServiceRecord.fetchOne(db, id: plan.serviceID)
                else { continue }
                let directory = "services/\(service.name)-\(service.version)"
                if files[directory + "/service.json"] == nil {
                    var artifacts: [JSONValue] = []
                    for artifact in try await ArtifactRecord.fetchAll(db, where: "service_id = ?", service.id, orderBy: "id") {
                        let fileName = SpecFileSet.isStorablePath(artifact.fileName) ? artifact.fileName : safeFileName(artifact.fileName, fallback: artifact.id)
                        add(RenderedFile(path: "\(directory)/\(fileName)", content: artifact.content))
                        if artifact.type != ArtifactRecord.referencedFileType {
                            artifacts.append(["type": .string(artifact.type), "path": .string(fileName)])
                        }
                    }
                    var spec: JSONObject = ["version": .string(service.version), "type": .string(service.type), "artifacts": .array(artifacts)]
                    if let description = service.description { spec["description"] = .string(description) }
                    add(RenderedFile(path: directory + "/service.json", json: resource("Service", metadata(service.name), .object(spec))))
                }
                var planSpec = (try? JSONParser.parse(plan.spec))?.objectValue ?? [:]
                planSpec["service"] = ["name": .string(service.name), "version": .string(service.version)]
                add(RenderedFile(path: "plans/\(plan.name).json", json: resource("ConfigurationPlan", metadata(plan.name), .object(planSpec))))
                for secretName in referencedSecrets(JSONValue.object(planSpec)) where includeSecrets && files["secrets/\(secretName).json"] == nil {
                    guard let secret = try await SecretRecord.fetchAll(db, where: "org_id = ? AND name = ?", organization.id, secretName).first else { continue }
                    let data = (try? JSONParser.parse(secret.data)) ?? [:]
                    add(RenderedFile(path: "secrets/\(secretName).json", json: resource("Secret", metadata(secretName), ["data": data])))
                }
                var expositionSpec: JSONObject = ["plan": .string(plan.name)]
                if let path = exposition.path { expositionSpec["path"] = .string(path) }
                var expositionMetadata = metadata(exposition.name).objectValue ?? [:]
                expositionMetadata["id"] = .string(exposition.id)
                add(RenderedFile(path: "expositions/\(exposition.name).json", json: resource("Exposition", .object(expositionMetadata), .object(expositionSpec))))
            }
            return RenderedDirectory(files: files, revision: revision)
        }
    }

    static func resource(_ kind: String, _ metadata: JSONValue, _ spec: JSONValue) -> JSONValue {
        ["apiVersion": "reshapr.io/v1", "kind": .string(kind), "metadata": metadata, "spec": spec]
    }

    /// Names of the Secrets a plan spec refers to.
    static func referencedSecrets(_ spec: JSONValue) -> Set<String> {
        var names: Set<String> = []
        for key in ["backendSecurity", "clientSecurity"] {
            if let name = spec[key]?["secretRef"]?["name"]?.stringValue { names.insert(name) }
        }
        return names
    }

    /// A file name that cannot climb out of its folder or hide itself.
    static func safeFileName(_ name: String, fallback: String) -> String {
        let cleaned = String(name.map { $0 == "/" || $0 == "\\" ? "_" : $0 }.drop { $0 == "." })
        return cleaned.isEmpty ? fallback : cleaned
    }
}
