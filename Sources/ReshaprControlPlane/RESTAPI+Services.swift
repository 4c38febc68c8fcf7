import Foundation
import Hummingbird
import ReshaprConfig
import ReshaprJSON

/// Services (imported from API descriptions) and secrets.
extension RESTAPI {
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
        let data = input["data"]?.stringMembers ?? [:]
        guard !data.isEmpty else { throw APIError(status: .badRequest, message: "data: at least one key is required") }
        let secret = try store.createSecret(name: try string(input, "name") ?? "", data: data, organization: organization)
        return ["id": .string(secret.id), "name": .string(secret.name)]
    }
}
