import Foundation
import Hummingbird
import ReshaprConfig
import ReshaprJSON

/// Artifacts attached to a service after its import: reShapr's CustomTools, ToolsOutputFilters,
/// Prompts and Resources files (`reshapr attach`), pushed to the gateways like any change.
extension RESTAPI {
    /// `{fileName, content}`: the type comes from the file's `kind`; the file is checked as the
    /// gateway's loader checks it, its `service` must name this service, and it may not define
    /// a tool, prompt or resource that another artifact of the same kind defines already.
    func attachArtifact(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> JSONValue {
        let organization = try await organization(request)
        let service = try await store.service(try id(context), organization: organization)
        let input = try await body(request)
        let fileName = try string(input, "fileName") ?? ""
        guard let content = input["content"]?.stringValue else { throw APIError(status: .badRequest, message: "content is required (the file's text)") }
        let summary: ResourceValidation.ReshaprArtifactSummary
        switch ResourceValidation.inspectReshaprArtifact(Array(content.utf8), fileName: fileName) {
        case .failure(let error): throw APIError(status: .badRequest, message: error.message)
        case .success(let inspected): summary = inspected
        }
        guard summary.service == ServiceBinding(name: service.name, version: service.version) else {
            throw APIError(
                status: .badRequest,
                message: "\(fileName) is for service \(summary.service.name) \(summary.service.version) (its service field), not \(service.name) \(service.version)")
        }
        for other in try await store.artifacts(of: service) where other.type == summary.type.rawValue {
            guard case .success(let existing) = ResourceValidation.inspectReshaprArtifact(Array(other.content), fileName: other.fileName),
                let clash = summary.names.intersection(existing.names).sorted().first
            else { continue }
            throw APIError(status: .conflict, message: "\(fileName) defines \(clash), which artifact \(other.id) (\(other.fileName)) defines already")
        }
        let artifact = try await store.attachArtifact(
            serviceID: service.id, type: summary.type.rawValue, fileName: fileName, content: Data(content.utf8), organization: organization)
        return Self.describe(artifact, content: false)
    }

    func listArtifacts(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> JSONValue {
        let service = try await store.service(try id(context), organization: try organization(request))
        return .array(try await store.artifacts(of: service).map { Self.describe($0, content: false) })
    }

    /// An artifact as the API shows it; with `content`, its text (or base64 for binary files).
    static func describe(_ artifact: ArtifactRecord, content: Bool) -> JSONValue {
        var object: JSONObject = [
            "id": .string(artifact.id), "serviceId": .string(artifact.serviceID), "type": .string(artifact.type), "fileName": .string(artifact.fileName),
            "size": .integer(artifact.content.count),
        ]
        if content {
            if let text = String(data: artifact.content, encoding: .utf8) {
                object["content"] = .string(text)
            } else {
                object["contentBase64"] = .string(artifact.content.base64EncodedString())
            }
        }
        return .object(object)
    }
}
