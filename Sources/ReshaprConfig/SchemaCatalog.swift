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

    /// Validators by kind, or the reason the embedded schemas do not compile (a build defect,
    /// reported on every document rather than crashing the gateway).
    static let validators: Result<[ResourceKind: JSONSchemaValidator], JSONSchemaError> = {
        var documents: JSONObject = [:]
        for (file, text) in EmbeddedSchemas.all {
            do {
                documents[file] = try JSONParser.parse(text)
            } catch {
                return .failure(JSONSchemaError(location: file, message: "\(error)"))
            }
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
