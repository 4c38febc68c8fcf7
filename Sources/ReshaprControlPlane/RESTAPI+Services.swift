import Foundation
import Hummingbird
import ReshaprConfig
import ReshaprFetch
import ReshaprJSON

/// Services (imported from API descriptions) and secrets.
extension RESTAPI {
    func listServices(_ organization: Organization) async throws -> JSONValue {
        var services: [JSONValue] = []
        for service in try await store.services(of: organization) {
            let artifacts = try await store.artifacts(of: service)
            services.append([
                "id": .string(service.id), "name": .string(service.name), "version": .string(service.version), "type": .string(service.type),
                "artifacts": .array(artifacts.map { ["type": .string($0.type), "fileName": .string($0.fileName)] }),
            ])
        }
        return .array(services)
    }

    /// Imports a service from artifacts (the first is the API description), with the files its
    /// `$ref`s name (`files`), or from a description the control plane fetches (`url`, with an
    /// optional `secret` for a protected URL). Name, version and type default to what the
    /// description says.
    func importService(_ request: Request) async throws -> JSONValue {
        let organization = try await organization(request)
        let input = try await body(request)
        var sources = try uploads(input["artifacts"], field: "artifacts", nameKey: "fileName")
        var files = try uploads(input["files"], field: "files", nameKey: "path")
        if let url = try string(input, "url", required: false) {
            guard sources.isEmpty, files.isEmpty else { throw APIError(status: .badRequest, message: "give url or artifacts, not both") }
            let set = try await fetch(url, secret: try string(input, "secret", required: false), organization: organization)
            sources = set.files.prefix(1).map { (set.root, Data($0.content)) }
            files = set.files.dropFirst().map { ($0.path, Data($0.content)) }
        }
        var artifacts: [(type: String, fileName: String, content: Data)] = []
        var first: ResourceValidation.ArtifactSummary?
        for (index, source) in sources.enumerated() {
            switch ResourceValidation.inspectArtifact(Array(source.content), fileName: source.name) {
            case .failure(let error): throw APIError(status: .badRequest, message: "artifacts[\(index)]: \(error.message)")
            case .success(let summary):
                if first == nil { first = summary }
                artifacts.append((summary.type.rawValue, source.name, source.content))
            }
        }
        guard let first, let root = sources.first else { throw APIError(status: .badRequest, message: "artifacts: at least one artifact (or a url) is required") }
        try checkFiles(files, root: root, among: sources.map(\.name))
        artifacts += files.map { (ArtifactRecord.referencedFileType, $0.name, $0.content) }
        guard let name = (try string(input, "name", required: false)) ?? first.title.map(Store.slug) else {
            throw APIError(status: .badRequest, message: "name is required (the artifact has no title)")
        }
        guard let version = (try string(input, "version", required: false)) ?? first.version else {
            throw APIError(status: .badRequest, message: "version is required (the artifact has no version)")
        }
        let service = try await store.createService(
            name: name, version: version, type: (try string(input, "type", required: false)) ?? first.serviceType.rawValue,
            description: try string(input, "description", required: false), artifacts: artifacts, organization: organization)
        return ["id": .string(service.id), "name": .string(service.name), "version": .string(service.version), "type": .string(service.type)]
    }

    /// `[{<nameKey>, content | contentBase64}]` of the request.
    func uploads(_ value: JSONValue?, field: String, nameKey: String) throws -> [(name: String, content: Data)] {
        guard let value else { return [] }
        guard let entries = value.arrayValue else { throw APIError(status: .badRequest, message: "\(field) must be an array") }
        return try entries.enumerated().map { index, entry in
            let name = try string(entry, nameKey, required: nameKey == "path") ?? ""
            if name.contains("/") || nameKey == "path", !SpecFileSet.isStorablePath(name) {
                throw APIError(status: .badRequest, message: "\(field)[\(index)].\(nameKey) \(name) must be a relative path without '.', '..', empty or hidden parts")
            }
            if let text = entry["content"]?.stringValue { return (name, Data(text.utf8)) }
            if let encoded = entry["contentBase64"]?.stringValue, let data = Data(base64Encoded: encoded) { return (name, data) }
            throw APIError(status: .badRequest, message: "\(field)[\(index)] needs content or contentBase64")
        }
    }

    /// Checks that the referenced files are distinct, and that the description's refs all land
    /// among them: a gap is reported now, not by every gateway later.
    func checkFiles(_ files: [(name: String, content: Data)], root: (name: String, content: Data), among artifactNames: [String]) throws {
        guard !files.isEmpty else { return }
        guard files.count < SpecFileSet.maxFiles else { throw APIError(status: .badRequest, message: "files: more than \(SpecFileSet.maxFiles) files") }
        var taken = Set(artifactNames + ["service.json"])
        for file in files where !taken.insert(file.name).inserted {
            throw APIError(status: .badRequest, message: "files: \(file.name) is sent twice, or clashes with an artifact or service.json")
        }
        var contents = Dictionary(files.map { ($0.name, [UInt8]($0.content)) }, uniquingKeysWith: { first, _ in first })
        contents[root.name] = [UInt8](root.content)
        if let problem = SpecFileSet.problem(root: root.name, files: contents) {
            throw APIError(status: .badRequest, message: "files: \(problem)")
        }
    }

    /// The description at `url` and the files its relative refs name, fetched by the control plane.
    func fetch(_ url: String, secret: String?, organization: Organization) async throws -> SpecFileSet {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https", parsed.host != nil else {
            throw APIError(status: .badRequest, message: "url must be an http or https URL, got \(url)")
        }
        var download = Download()
        if let secret {
            guard let data = try await store.secretData(named: secret, organization: organization) else {
                throw APIError(status: .badRequest, message: "secret: no secret named \(secret)")
            }
            guard let headers = Download.credentialHeaders(fromSecret: data) else {
                throw APIError(status: .badRequest, message: "secret: \(secret) holds no token nor username and password")
            }
            download.credentialHost = parsed.host
            download.credentialHeaders = headers
        }
        do {
            return try await SpecFileSet.collect(
                root: parsed, remote: .refuse(advice: "the control plane follows refs on the description's own host only; bundle the description first")
            ) { url in try await download.get(url) }
        } catch {
            throw APIError(status: .badRequest, message: "url: \(error.description)")
        }
    }

    func createSecret(_ request: Request) async throws -> JSONValue {
        let organization = try await organization(request)
        let input = try await body(request)
        let data = input["data"]?.stringMembers ?? [:]
        guard !data.isEmpty else { throw APIError(status: .badRequest, message: "data: at least one key is required") }
        let secret = try await store.createSecret(
            name: try string(input, "name") ?? "", data: data, description: try string(input, "description", required: false), organization: organization)
        return Self.describe(secret)
    }

    /// A secret as the API shows it: never its values, only their keys.
    static func describe(_ secret: SecretRecord) -> JSONValue {
        var object: JSONObject = ["id": .string(secret.id), "name": .string(secret.name)]
        if let description = secret.description { object["description"] = .string(description) }
        object["keys"] = .array(((try? JSONParser.parse(secret.data))?.objectValue?.keys.sorted() ?? []).map(JSONValue.string))
        return .object(object)
    }
}
