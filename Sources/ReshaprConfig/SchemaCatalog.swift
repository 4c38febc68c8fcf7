import ReshaprJSON

/// The compiled schema of each resource kind, built once from the embedded `schema/` files.
enum SchemaCatalog {
    static let fileNames: [ResourceKind: String] = [
        .service: "service.schema.json",
        .configurationPlan: "configuration-plan.schema.json",
        .exposition: "exposition.schema.json",
        .secret: "secret.schema.json",
        .gateway: "gateway.schema.json",
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

    static let artifactFileNames: [ArtifactType: String] = [
        .customTools: "custom-tools.schema.json",
        .toolsOutputFilters: "tools-output-filters.schema.json",
    ]

    /// Validators of the artifact files that have a schema of their own, by artifact type.
    static let artifactValidators: Result<[ArtifactType: JSONSchemaValidator], JSONSchemaError> = {
        let documents: JSONObject
        switch embedded {
        case .success(let parsed): documents = parsed
        case .failure(let error): return .failure(error)
        }
        let shared = Array(documents.values)
        var validators: [ArtifactType: JSONSchemaValidator] = [:]
        for (type, file) in artifactFileNames {
            guard let schema = documents[file] else { return .failure(JSONSchemaError(location: file, message: "schema file is not embedded")) }
            do throws(JSONSchemaError) {
                validators[type] = try JSONSchemaValidator(schema: schema, resources: shared)
            } catch {
                return .failure(error)
            }
        }
        return .success(validators)
    }()

    /// Validators by kind, or the reason the embedded schemas do not compile (a build defect,
    /// reported on every document rather than crashing the gateway).
    static let validators: Result<[ResourceKind: JSONSchemaValidator], JSONSchemaError> = {
        let documents: JSONObject
        switch embedded {
        case .success(let parsed): documents = parsed
        case .failure(let error): return .failure(error)
        }
        let shared = Array(documents.values)
        var validators: [ResourceKind: JSONSchemaValidator] = [:]
        for (kind, file) in fileNames {
            guard let schema = documents[file] else {
                return .failure(JSONSchemaError(location: file, message: "schema file is not embedded"))
            }
            do throws(JSONSchemaError) {
                validators[kind] = try JSONSchemaValidator(schema: schema, resources: shared)
            } catch {
                return .failure(error)
            }
        }
        return .success(validators)
    }()
}
