import Foundation
import ReshaprJSON

/// Services and their artifacts.
extension LoadRun {
    mutating func resolveServices() -> [ServiceKey: Service] {
        var result: [ServiceKey: Service] = [:]
        for (key, candidate) in unique(services, kind: .service, describe: { "\($0.org)/\($0.name) \($0.version)" }) {
            let spec = candidate.value
            var artifacts: [Artifact] = []
            var ok = true
            for (index, entry) in (spec["artifacts"]?.arrayValue ?? []).enumerated() {
                let path = JSONPath.root.appending("spec").appending("artifacts").appending(index: index)
                guard let type = entry["type"]?.stringValue.flatMap(ArtifactType.init(rawValue:)) else { continue }
                if let artifact = loadArtifact(entry, type: type, at: candidate.location, path) {
                    if let problem = Self.bindingProblem(artifact, service: key, among: artifacts) {
                        report(candidate.location, path, problem)
                        ok = false
                    }
                    artifacts.append(artifact)
                } else {
                    ok = false
                }
            }
            guard ok, let type = spec["type"]?.stringValue.flatMap(ServiceType.init(rawValue:)) else {
                invalid[InvalidKey(kind: .service, name: ResourceName(org: key.org, name: key.name), version: key.version)] = candidate.location
                continue
            }
            result[key] = Service(
                metadata: candidate.metadata, version: key.version, type: type, description: spec["description"]?.stringValue,
                artifacts: artifacts, source: candidate.location)
        }
        return result
    }

    mutating func loadArtifact(_ entry: JSONValue, type: ArtifactType, at location: SourceLocation, _ path: JSONPath) -> Artifact? {
        if let inline = entry["inline"]?.stringValue {
            let bytes: [UInt8]
            if type == .protobufDescriptorSet {
                guard let decoded = Base64.decode(inline, ignoringWhitespace: true) else {
                    report(location, path.appending("inline"), "an inline PROTOBUF_DESCRIPTOR_SET must be base64")
                    return nil
                }
                bytes = decoded
            } else {
                bytes = Array(inline.utf8)
            }
            switch Self.parseArtifact(bytes, type: type) {
            case .success(let content): return Artifact(type: type, file: nil, content: content)
            case .failure(let error):
                report(location, path.appending("inline"), error.description)
                return nil
            }
        }
        guard let reference = entry["path"]?.stringValue else { return nil }
        let fieldPath = path.appending("path")
        let resolved: String
        switch RelativePath.resolve(reference, from: location.file) {
        case .failure(let error):
            report(location, fieldPath, error.description)
            return nil
        case .success(let value):
            resolved = value
        }
        let cacheKey = type.rawValue + ":" + resolved
        let result: Result<ArtifactContent, FileAccessError>
        if let cached = artifactCache[cacheKey] {
            result = cached
        } else {
            do {
                let bytes = try FileAccess.readAll(absolute(resolved), limit: options.maxFileSize)
                result = Self.parseArtifact(bytes, type: type).flatMap { bundled($0, file: resolved) }
            } catch {
                result = .failure(FileAccessError(description: "cannot read \(resolved): \(error)"))
            }
            artifactCache[cacheKey] = result
        }
        switch result {
        case .success(let content): return Artifact(type: type, file: resolved, content: content)
        case .failure(let error):
            report(location, fieldPath, error.description.hasPrefix("cannot read") ? error.description : "\(resolved): \(error)")
            return nil
        }
    }

    /// Why one of reShapr's artifact files cannot belong to the Service: another Service named in
    /// its `service`, or a tool, prompt or resource it defines that an earlier artifact defines too.
    static func bindingProblem(_ artifact: Artifact, service: ServiceKey, among earlier: [Artifact]) -> String? {
        guard let (binding, names) = artifact.content.definedNames else { return nil }
        let origin = artifact.file ?? "the inline artifact"
        if binding.name != service.name || binding.version != service.version {
            return "\(origin) is for service \(binding.name) \(binding.version) (its service field), not \(service.name) \(service.version)"
        }
        for other in earlier where other.type == artifact.type {
            guard let (_, taken) = other.content.definedNames, let clash = names.sorted().first(where: taken.contains) else { continue }
            let what =
                switch artifact.type {
                case .customTools: "custom tool"
                case .prompts: "prompt"
                case .resources: "resource"
                default: "a filter of"
                }
            return "\(origin) defines \(what) \(clash), which \(other.file ?? "an inline artifact") of this service defines already"
        }
        return nil
    }

    /// An OpenAPI or Swagger description read from `file`, with the parts of the other files
    /// its `$ref`s name brought in (``SpecBundler``).
    func bundled(_ content: ArtifactContent, file: String) -> Result<ArtifactContent, FileAccessError> {
        guard case .document(let document) = content, SpecBundler.referencesOtherFiles(document) else { return .success(content) }
        let limit = options.maxFileSize
        var bundler = SpecBundler { [self] path in
            do throws(FileAccessError) {
                return Self.singleObject(try FileAccess.readAll(absolute(path), limit: limit))
            } catch {
                return .failure(error)
            }
        }
        do throws(SpecBundler.Failure) {
            return .success(.document(try bundler.bundle(document, file: file)))
        } catch {
            return .failure(FileAccessError(description: error.description))
        }
    }

    /// Parses an artifact and checks that it is the kind of document its type says.
    static func parseArtifact(_ bytes: [UInt8], type: ArtifactType) -> Result<ArtifactContent, FileAccessError> {
        switch type {
        case .protobufDescriptorSet:
            return bytes.isEmpty ? .failure(FileAccessError(description: "descriptor set is empty")) : .success(.binary(bytes))
        case .graphQLSchema:
            guard let text = String(validating: bytes, as: UTF8.self) else {
                return .failure(FileAccessError(description: "GraphQL schema is not valid UTF-8 text"))
            }
            guard text.contains(where: { !$0.isWhitespace }) else { return .failure(FileAccessError(description: "GraphQL schema is empty")) }
            return .success(.text(text))
        case .customTools, .toolsOutputFilters, .prompts, .resources:
            return parseReshaprArtifact(bytes, type: type)
        case .openAPI, .swagger, .graphQLIntrospection:
            return singleObject(bytes).flatMap { document in
                if let problem = Self.checkKind(of: document, type: type) { return .failure(FileAccessError(description: problem)) }
                return .success(.document(document))
            }
        }
    }

    /// The one JSON or YAML object an artifact file holds.
    static func singleObject(_ bytes: [UInt8]) -> Result<JSONValue, FileAccessError> {
        let documents: [ParsedDocument]
        do {
            documents = try DocumentReader.parse(bytes, keepNodes: false)
        } catch {
            return .failure(FileAccessError(description: error.description))
        }
        guard documents.count == 1, let document = documents.first?.value, case .object = document else {
            return .failure(FileAccessError(description: documents.count > 1 ? "holds \(documents.count) YAML documents; an artifact holds one" : "is not a JSON or YAML object"))
        }
        return .success(document)
    }

    static func checkKind(of document: JSONValue, type: ArtifactType) -> String? {
        let openapi = document["openapi"]
        let swagger = document["swagger"]
        switch type {
        case .openAPI:
            if let version = openapi?.stringValue {
                return version.hasPrefix("3.") ? nil : "unsupported OpenAPI version \"\(version)\" (3.0 and 3.1 are supported)"
            }
            if swagger != nil { return "is a Swagger 2.0 document; declare the artifact with type: SWAGGER" }
            return openapi == nil ? "is not an OpenAPI document: the 'openapi' field is missing" : "'openapi' must be a version string such as \"3.0.3\""
        case .swagger:
            if swagger?.stringValue == "2.0" { return nil }
            if openapi != nil { return "is an OpenAPI 3 document; declare the artifact with type: OPENAPI" }
            return swagger == nil ? "is not a Swagger document: the 'swagger' field is missing" : "'swagger' must be \"2.0\""
        case .graphQLIntrospection:
            if document["__schema"] != nil || document["data"]?["__schema"] != nil { return nil }
            return "is not a GraphQL introspection result: no '__schema' (or 'data.__schema') field"
        case .graphQLSchema, .protobufDescriptorSet, .customTools, .toolsOutputFilters, .prompts, .resources:
            return nil
        }
    }
}
