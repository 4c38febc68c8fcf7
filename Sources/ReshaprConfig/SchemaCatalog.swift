import ReshaprJSON

/// The compiled schema of each resource kind and of each artifact file with a schema of its
/// own, built once from the embedded `schema/` files.
enum SchemaCatalog {
    static let fileNames: [ResourceKind: String] = [
        .service: "service.schema.json",
        .configurationPlan: "configuration-plan.schema.json",
        .exposition: "exposition.schema.json",
        .secret: "secret.schema.json",
        .gateway: "gateway.schema.json",
    ]

    static let artifactFileNames: [ArtifactType: String] = [
        .customTools: "custom-tools.schema.json",
        .toolsOutputFilters: "tools-output-filters.schema.json",
        .prompts: "prompts.schema.json",
        .resources: "resources.schema.json",
    ]

    /// Every embedded schema, parsed, by file name.
    static let embedded: Result<JSONObject, JSONSchemaError> = {
        var documents: JSONObject = [:]
        for (file, text) in EmbeddedSchemas.all {
            do {
                documents[file] = try JSONParser.parse(text)
            } catch {
                return .failure(JSONSchemaError(location: file, message: "\(error)"))
            }
        }
        return .success(documents)
    }()

    /// Validators by kind, or the reason the embedded schemas do not compile (a build defect,
    /// reported on every document rather than crashing the gateway).
    static let validators = compile(fileNames)

    /// Validators of the artifact files that have a schema of their own, by artifact type.
    static let artifactValidators = compile(artifactFileNames)

    /// Validators of the named schema files, which may refer to any embedded schema.
    static func compile<Key: Hashable>(_ files: [Key: String]) -> Result<[Key: JSONSchemaValidator], JSONSchemaError> {
        let documents: JSONObject
        switch embedded {
        case .success(let parsed): documents = parsed
        case .failure(let error): return .failure(error)
        }
        let shared = Array(documents.values)
        var validators: [Key: JSONSchemaValidator] = [:]
        for (key, file) in files {
            guard let schema = documents[file] else {
                return .failure(JSONSchemaError(location: file, message: "schema file is not embedded"))
            }
            do throws(JSONSchemaError) {
                validators[key] = try JSONSchemaValidator(schema: schema, resources: shared)
            } catch {
                return .failure(error)
            }
        }
        return .success(validators)
    }
}
