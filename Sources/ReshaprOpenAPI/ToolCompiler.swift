import HTTPTypes
import ReshaprJSON
import ReshaprTools

/// Compiles an OpenAPI 3.0/3.1 or Swagger 2.0 document into MCP tools, one per operation.
public enum ToolCompiler {
    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    public static func compile(_ document: JSONValue, rules: ToolSelectionRules = ToolSelectionRules()) -> ToolCatalog<HTTPOperation> {
        let converter = SchemaConverter(document: document)
        let isSwagger = document["swagger"] != nil
        var candidates: [(operation: JSONValue, method: String, path: String, pathItem: JSONValue)] = []
        for (path, rawItem) in (document["paths"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            let pathItem = (try? converter.dereference(rawItem)) ?? rawItem
            for method in methods {
                if let operation = pathItem[method], case .object = operation {
                    candidates.append((operation, method.uppercased(), path, pathItem))
                }
            }
        }

        let candidateTools = candidates.map { candidate in
            let operationID = candidate.operation["operationId"]?.stringValue
            return ToolCandidate<HTTPOperation>(
                selectors: [operationID, "\(candidate.method) \(candidate.path)"].compactMap { $0 },
                defaultName: toolName(operationID: operationID, method: candidate.method, path: candidate.path),
                signature: "\(candidate.method) \(candidate.path)", operationID: operationID
            ) { () throws(UnsupportedOperation) in
                do throws(UnsupportedSchema) {
                    return try compileOperation(
                        candidate.operation, method: candidate.method, path: candidate.path, pathItem: candidate.pathItem,
                        document: document, converter: converter, isSwagger: isSwagger)
                } catch {
                    throw UnsupportedOperation(reason: error.reason)
                }
            }
        }
        return ToolCatalog.select(candidateTools, rules: rules)
    }

    /// The operationId made valid for MCP (`[A-Za-z0-9_.-]`, at most 128), else `method_path`.
    static func toolName(operationID: String?, method: String, path: String) -> String {
        let raw: String
        if let operationID, !operationID.isEmpty {
            raw = operationID
        } else {
            let segments = path.split(separator: "/").map { $0.filter { $0 != "{" && $0 != "}" } }
            raw = ([method.lowercased()] + segments).joined(separator: "_")
        }
        return ToolName.sanitize(raw, fallback: method.lowercased())
    }

    static func compileOperation(
        _ operation: JSONValue, method: String, path: String, pathItem: JSONValue, document: JSONValue,
        converter: SchemaConverter, isSwagger: Bool
    ) throws(UnsupportedSchema) -> OpenAPITool {
        // Parameters: path-level ones, overridden by operation-level ones of the same name and location.
        var parameters: [(String, String, JSONValue)] = []
        for raw in (pathItem["parameters"]?.arrayValue ?? []) + (operation["parameters"]?.arrayValue ?? []) {
            let parameter = try converter.dereference(raw)
            guard let name = parameter["name"]?.stringValue, let location = parameter["in"]?.stringValue else {
                throw UnsupportedSchema(reason: "a parameter has no name or no 'in'")
            }
            parameters.removeAll { $0.0 == name && $0.1 == location }
            parameters.append((name, location, parameter))
        }

        var properties: JSONObject = [:]
        var required: [String] = []
        var bindings: [ParameterBinding] = []
        var formFields: [(String, JSONValue, Bool)] = []
        var swaggerBody: JSONValue?
        let ignoredHeaders: Set<String> = ["accept", "content-type", "authorization"]
        var mirroredHeaders: Set<String> = []

        for (name, location, parameter) in parameters {
            if location == "body" {
                swaggerBody = parameter
                continue
            }
            if location == "formData" {
                formFields.append((name, parameter, parameter["required"]?.boolValue ?? false))
                continue
            }
            guard let where_ = ParameterBinding.Location(rawValue: location) else {
                throw UnsupportedSchema(reason: "parameter \(name) has unknown location '\(location)'")
            }
            if where_ == .header && ignoredHeaders.contains(name.lowercased()) { continue }
            let argument = properties[name] == nil ? name : "\(location)_\(name)"
            var schema: JSONValue
            var asJSON = false
            if let s = parameter["schema"] {
                schema = try converter.convert(s, mode: .input)
            } else if let content = parameter["content"]?.objectValue, let media = content.values.first {
                schema = try converter.convert(media["schema"] ?? [:], mode: .input)
                asJSON = true
            } else {
                schema = try converter.convert(swaggerParameterSchema(parameter), mode: .input)
            }
            if let description = parameter["description"]?.stringValue, case .object(var members) = schema, members["description"] == nil {
                members["description"] = .string(description)
                schema = .object(members)
            }
            if where_ == .header, Self.mirrorsAsMCPHeader(name, schema: schema, taken: &mirroredHeaders), case .object(var members) = schema {
                members["x-mcp-header"] = .string(name)
                schema = .object(members)
            }
            properties[argument] = schema
            let isRequired = where_ == .path || parameter["required"]?.boolValue == true
            if isRequired { required.append(argument) }
            let (style, explode) = parameterStyle(parameter, location: where_)
            bindings.append(
                ParameterBinding(
                    argument: argument, name: name, location: where_, required: isRequired, style: style, explode: explode,
                    allowReserved: parameter["allowReserved"]?.boolValue ?? false, serializeAsJSON: asJSON))
        }

        let missing = placeholders(in: path).filter { placeholder in !bindings.contains { $0.location == .path && $0.name == placeholder } }
        if let first = missing.first {
            throw UnsupportedSchema(reason: "path parameter {\(first)} is not declared")
        }

        // Request body.
        var body: BodyBinding?
        var bodySchema: JSONValue?
        var bodyRequired = false
        var mediaType = "application/json"
        var encoding = BodyEncoding.json
        if let requestBody = operation["requestBody"] {
            let resolved = try converter.dereference(requestBody)
            bodyRequired = resolved["required"]?.boolValue ?? false
            let content = resolved["content"]?.objectValue ?? [:]
            if let (type, media) = pickMediaType(content) {
                mediaType = type
                encoding = type.contains("json") ? .json : type == "application/x-www-form-urlencoded" ? .form : .text
                bodySchema = try converter.convert(media["schema"] ?? [:], mode: .input)
            } else if bodyRequired {
                throw UnsupportedSchema(reason: "request body media types \(content.keys.sorted().joined(separator: ", ")) are not supported")
            }
        } else if let swaggerBody {
            bodyRequired = swaggerBody["required"]?.boolValue ?? false
            bodySchema = try converter.convert(swaggerBody["schema"] ?? [:], mode: .input)
        } else if !formFields.isEmpty {
            let consumes = (operation["consumes"] ?? document["consumes"])?.arrayValue?.compactMap(\.stringValue) ?? []
            if consumes.contains("multipart/form-data") && !consumes.contains("application/x-www-form-urlencoded") {
                if formFields.contains(where: { $0.1["type"]?.stringValue == "file" }) {
                    throw UnsupportedSchema(reason: "multipart/form-data file uploads are not supported")
                }
            }
            mediaType = "application/x-www-form-urlencoded"
            encoding = .form
            var fieldProperties: JSONObject = [:]
            var fieldRequired: [JSONValue] = []
            for (name, parameter, isRequired) in formFields {
                fieldProperties[name] = try converter.convert(swaggerParameterSchema(parameter), mode: .input)
                if isRequired { fieldRequired.append(.string(name)) }
            }
            bodySchema = ["type": "object", "properties": .object(fieldProperties), "required": .array(fieldRequired)]
            bodyRequired = !fieldRequired.isEmpty
        }
        if let schema = bodySchema {
            let bodyProperties = schema["properties"]?.objectValue
            let isPlainObject =
                bodyProperties != nil && schema["allOf"] == nil && schema["oneOf"] == nil && schema["anyOf"] == nil
                && schema["type"]?.stringValue.map { $0 == "object" } ?? true
            if encoding != .text, isPlainObject, let bodyProperties {
                var mapping: [String: String] = [:]
                let bodyRequiredNames = Set(schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                for (property, propertySchema) in bodyProperties.sorted(by: { $0.key < $1.key }) {
                    let argument = properties[property] == nil ? property : "body_\(property)"
                    properties[argument] = propertySchema
                    mapping[argument] = property
                    if bodyRequired && bodyRequiredNames.contains(property) { required.append(argument) }
                }
                body = BodyBinding(mediaType: mediaType, encoding: encoding, required: bodyRequired, source: .flattened(mapping))
            } else {
                let argument = properties["body"] == nil ? "body" : "requestBody"
                var described = schema
                if case .object(var members) = schema, members["description"] == nil {
                    members["description"] = .string("The request body (\(mediaType)).")
                    described = .object(members)
                }
                properties[argument] = described
                if bodyRequired { required.append(argument) }
                body = BodyBinding(mediaType: mediaType, encoding: encoding, required: bodyRequired, source: .argument(argument))
            }
        }

        var inputSchema: JSONObject = [
            "type": "object",
            "properties": .object(properties),
            "additionalProperties": false,
        ]
        if !required.isEmpty { inputSchema["required"] = .array(required.map(JSONValue.string)) }

        // Responses, success first; the first JSON object success response gives the output schema.
        var responses: [ResponseDescription] = []
        var outputSchema: JSONValue?
        let documented = (operation["responses"]?.objectValue ?? [:]).sorted { a, b in
            (a.key.hasPrefix("2") ? 0 : a.key == "default" ? 1 : 2, a.key) < (b.key.hasPrefix("2") ? 0 : b.key == "default" ? 1 : 2, b.key)
        }
        for (status, raw) in documented {
            guard let response = try? converter.dereference(raw) else { continue }
            var media: (String, JSONValue)?
            if let content = response["content"]?.objectValue {
                media = pickMediaType(content, preferJSON: true)
            } else if let schema = response["schema"] {
                let produces = (operation["produces"] ?? document["produces"])?.arrayValue?.compactMap(\.stringValue) ?? []
                media = (produces.first { $0.contains("json") } ?? "application/json", ["schema": schema, "example": response["examples"]?["application/json"] ?? .null])
            }
            let schema = try? media.flatMap { try $0.1["schema"].map { try converter.convert($0, mode: .raw) } }
            var example = media?.1["example"]
            if example == .null { example = nil }
            if example == nil, let examples = media?.1["examples"]?.objectValue, let first = examples.keys.sorted().first {
                example = (try? converter.dereference(examples[first] ?? .null))?["value"]
            }
            responses.append(ResponseDescription(status: status, mediaType: media?.0, schema: schema ?? nil, example: example))
            if outputSchema == nil, status.hasPrefix("2"), let media, media.0.contains("json"), let raw = media.1["schema"] {
                let converted = try? converter.convert(raw, mode: .output)
                if let converted, converted["type"]?.stringValue == "object" || (converted["type"] == nil && converted["properties"] != nil) {
                    outputSchema = converted
                }
            }
        }

        let summary = operation["summary"]?.stringValue?.trimmed
        let details = operation["description"]?.stringValue?.trimmed
        var description = [summary, details].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "\n\n")
        if description.isEmpty { description = "\(method) \(path)" }
        if operation["deprecated"]?.boolValue == true { description = "Deprecated. " + description }

        var annotations = ToolAnnotations(title: summary.flatMap { $0.isEmpty ? nil : $0 }, openWorldHint: true)
        switch method {
        case "GET", "HEAD", "OPTIONS":
            annotations.readOnlyHint = true
        case "DELETE":
            annotations.readOnlyHint = false
            annotations.destructiveHint = true
            annotations.idempotentHint = true
        case "PUT":
            annotations.readOnlyHint = false
            annotations.idempotentHint = true
        default:
            annotations.readOnlyHint = false
        }
        let definition = ToolDefinition(
            name: "", title: annotations.title, description: description, inputSchema: .object(inputSchema), outputSchema: outputSchema,
            annotations: annotations)
        let http = HTTPOperation(
            method: method, pathTemplate: path, operationID: operation["operationId"]?.stringValue, parameters: bindings, body: body,
            responses: responses)
        return OpenAPITool(definition: definition, binding: http)
    }

    typealias BodyEncoding = BodyBinding.Encoding

    /// JSON first (`application/json`, `*/*+json`), then form, then text.
    static func pickMediaType(_ content: JSONObject, preferJSON: Bool = true) -> (String, JSONValue)? {
        let keys = content.keys.sorted()
        let lowered = keys.map { ($0, $0.lowercased().split(separator: ";").first.map(String.init) ?? $0.lowercased()) }
        if let json = lowered.first(where: { $0.1 == "application/json" }) ?? lowered.first(where: { $0.1.hasSuffix("+json") || $0.1.hasSuffix("/json") }) {
            return content[json.0].map { (json.1, $0) }
        }
        if let form = lowered.first(where: { $0.1 == "application/x-www-form-urlencoded" }) { return content[form.0].map { (form.1, $0) } }
        if let text = lowered.first(where: { $0.1.hasPrefix("text/") }) { return content[text.0].map { (text.1, $0) } }
        if let any = lowered.first(where: { $0.1 == "*/*" }) { return content[any.0].map { ("application/json", $0) } }
        return nil
    }

    /// Swagger 2.0 parameters carry their schema inline.
    static func swaggerParameterSchema(_ parameter: JSONValue) -> JSONValue {
        var schema: JSONObject = [:]
        for key in ["type", "format", "items", "enum", "default", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                    "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems", "multipleOf"] {
            if let value = parameter[key] { schema[key] = value }
        }
        return .object(schema)
    }

    /// Whether a header parameter is annotated `x-mcp-header`, so that MCP 2026-07-28 clients
    /// mirror it into `Mcp-Param-{name}` where proxies can route on it: a string, integer or
    /// boolean whose name is a header token, never one that looks like a credential, once per name.
    static func mirrorsAsMCPHeader(_ name: String, schema: JSONValue, taken: inout Set<String>) -> Bool {
        guard let type = schema["type"]?.stringValue, ["string", "integer", "boolean"].contains(type), HTTPField.Name(name) != nil else { return false }
        let lowered = name.lowercased()
        let sensitive = ["auth", "key", "token", "secret", "password", "cookie", "session", "credential", "signature"]
        guard !sensitive.contains(where: { lowered.contains($0) }) else { return false }
        return taken.insert(lowered).inserted
    }

    static func parameterStyle(_ parameter: JSONValue, location: ParameterBinding.Location) -> (ParameterBinding.Style, Bool) {
        if let format = parameter["collectionFormat"]?.stringValue {
            switch format {
            case "multi": return (.form, true)
            case "ssv": return (.spaceDelimited, false)
            case "pipes": return (.pipeDelimited, false)
            default: return (location == .query || location == .cookie ? .form : .simple, false)
            }
        }
        let defaultStyle: ParameterBinding.Style = location == .query || location == .cookie ? .form : .simple
        let style = parameter["style"]?.stringValue.flatMap(ParameterBinding.Style.init(rawValue:)) ?? defaultStyle
        let explode = parameter["explode"]?.boolValue ?? (style == .form)
        return (style, explode)
    }

    static func placeholders(in path: String) -> [String] {
        var names: [String] = []
        var current: String?
        for c in path {
            if c == "{" {
                current = ""
            } else if c == "}" {
                if let name = current { names.append(name) }
                current = nil
            } else if current != nil {
                current?.append(c)
            }
        }
        return names
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let first = s.first, first.isWhitespace { s.removeFirst() }
        while let last = s.last, last.isWhitespace { s.removeLast() }
        return String(s)
    }

    func caseInsensitiveEquals(_ other: String) -> Bool {
        lowercased() == other.lowercased()
    }
}
