import ReshaprJSON

/// Checks single resource documents and artifacts the way the directory loader does, for
/// producers of configuration (the control plane's API) that want to refuse bad input early.
public enum ResourceValidation {
    /// Violations of a resource document (with `apiVersion`, `kind`, `metadata`, `spec`) against
    /// the schema of `kind`.
    public static func violations(of document: JSONValue, kind: ResourceKind) -> [JSONSchemaViolation] {
        switch SchemaCatalog.validators {
        case .success(let validators):
            return validators[kind]?.validate(document, redacting: kind.isSensitive) ?? []
        case .failure(let error):
            return [JSONSchemaViolation(path: .root, message: "the embedded schemas are broken: \(error)")]
        }
    }

    /// What an artifact file is, from its content.
    public struct ArtifactSummary: Sendable, Hashable {
        public var type: ArtifactType
        public var serviceType: ServiceType
        /// `info.title` of an OpenAPI or Swagger document.
        public var title: String?
        /// `info.version` of an OpenAPI or Swagger document.
        public var version: String?
    }

    /// Detects the type of an artifact (OpenAPI, Swagger, GraphQL introspection or SDL,
    /// protobuf descriptor set) and checks that it parses; the error says why not.
    public static func inspectArtifact(_ bytes: [UInt8], fileName: String) -> Result<ArtifactSummary, ArtifactError> {
        let lowered = fileName.lowercased()
        if lowered.hasSuffix(".graphql") || lowered.hasSuffix(".graphqls") || lowered.hasSuffix(".gql") {
            return summary(bytes, type: .graphQLSchema, service: .graphql)
        }
        if lowered.hasSuffix(".pb") || lowered.hasSuffix(".desc") || lowered.hasSuffix(".protoset") || lowered.hasSuffix(".binpb") {
            return summary(bytes, type: .protobufDescriptorSet, service: .grpc)
        }
        guard case .success(let documents) = Result(catching: { try DocumentReader.parse(bytes, keepNodes: false) }), let document = documents.first?.value else {
            return .failure(ArtifactError(message: "\(fileName) is neither JSON, YAML, GraphQL SDL (.graphql) nor a descriptor set (.pb)"))
        }
        if document["swagger"] != nil { return summary(bytes, type: .swagger, service: .rest) }
        if document["openapi"] != nil { return summary(bytes, type: .openAPI, service: .rest) }
        if document["__schema"] != nil || document["data"]?["__schema"] != nil { return summary(bytes, type: .graphQLIntrospection, service: .graphql) }
        return .failure(ArtifactError(message: "\(fileName) is not an OpenAPI, Swagger or GraphQL introspection document"))
    }

    /// What one of reShapr's artifact files (CustomTools, ToolsOutputFilters, Prompts, Resources) is.
    public struct ReshaprArtifactSummary: Sendable, Hashable {
        /// From the file's `kind`.
        public var type: ArtifactType
        /// The file's `service` binding.
        public var service: ServiceBinding
        /// What it defines: tools (or the tools it filters), prompts, resource URIs and templates.
        public var names: Set<String>
    }

    /// Detects one of reShapr's artifact files by its `kind` and checks it as the gateway's
    /// loader does; the error says why it is refused.
    public static func inspectReshaprArtifact(_ bytes: [UInt8], fileName: String) -> Result<ReshaprArtifactSummary, ArtifactError> {
        let kind: String
        switch LoadRun.singleObject(bytes) {
        case .failure(let error): return .failure(ArtifactError(message: "\(fileName) \(error.description)"))
        case .success(let document): kind = document["kind"]?.stringValue ?? ""
        }
        guard let type = ArtifactType.reshaprKinds[kind] else {
            let kinds = ArtifactType.reshaprKinds.keys.sorted().joined(separator: ", ")
            return .failure(ArtifactError(message: "\(fileName): kind must be one of \(kinds) (apiVersion \(artifactAPIVersion)), not \"\(kind)\""))
        }
        switch LoadRun.parseArtifact(bytes, type: type) {
        case .failure(let error):
            return .failure(ArtifactError(message: "\(fileName): \(error.description)"))
        case .success(let content):
            guard let (service, names) = content.definedNames else { return .failure(ArtifactError(message: "\(fileName): not a reShapr artifact")) }
            return .success(ReshaprArtifactSummary(type: type, service: service, names: names))
        }
    }

    public struct ArtifactError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    private static func summary(_ bytes: [UInt8], type: ArtifactType, service: ServiceType) -> Result<ArtifactSummary, ArtifactError> {
        switch LoadRun.parseArtifact(bytes, type: type) {
        case .failure(let error):
            return .failure(ArtifactError(message: error.description))
        case .success(let content):
            var summary = ArtifactSummary(type: type, serviceType: service)
            if case .document(let document) = content {
                summary.title = document["info"]?["title"]?.stringValue
                summary.version = document["info"]?["version"]?.stringValue
            }
            return .success(summary)
        }
    }
}
