import GraphQL
import ReshaprJSON
import ReshaprTools

/// What a GraphQL tool sends: one operation document selecting one root field.
public struct GraphQLOperation: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case query
        case mutation
    }

    public var kind: Kind
    /// The root field the tool calls.
    public var field: String
    public var operationName: String
    /// The whole operation: `query getPet($id: ID!) { pet(id: $id) { id name } }`.
    public var document: String
    /// Tool arguments that are GraphQL variables (all of them).
    public var variables: [String]
    /// What mock mode answers: `data` shaped like the selection, with sample values.
    public var mockData: JSONValue
}

/// Why a GraphQL schema could not be read.
public struct GraphQLSchemaError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// The GraphQL source of a service: SDL text, or an introspection result.
public enum GraphQLSource: Sendable {
    case sdl(String)
    case introspection(JSONValue)
}

/// Compiles a GraphQL schema into MCP tools: one per field of the query and mutation types.
///
/// Arguments become the input schema (input objects, enums and lists included, non-null without
/// default means required). The selection set is generated to `selectionDepth` levels: leaf
/// fields, then objects below them, skipping fields that need arguments and cutting cycles;
/// unions and interfaces get `__typename` and inline fragments. A plan may give a field its own
/// selection (`tools.overrides.<field>.selection`). Every operation is validated against the
/// schema; one that fails is skipped with the validator's message.
public enum GraphQLCompiler {
    public static let defaultSelectionDepth = 2

    public static func compile(
        _ source: GraphQLSource, rules: ToolSelectionRules = ToolSelectionRules(), selectionDepth: Int = defaultSelectionDepth,
        selections: [String: String] = [:]
    ) throws(GraphQLSchemaError) -> ToolCatalog<GraphQLOperation> {
        let sdl: String
        switch source {
        case .sdl(let text):
            sdl = text
        case .introspection(let document):
            do {
                sdl = try IntrospectionPrinter.sdl(from: document)
            } catch {
                throw GraphQLSchemaError(description: error.reason)
            }
        }
        let document: Document
        let schema: GraphQLSchema
        do {
            document = try parse(source: sdl)
            schema = try buildASTSchema(documentAST: document)
        } catch {
            throw GraphQLSchemaError(description: "invalid GraphQL schema: \(describe(error))")
        }
        let model = SchemaModel(document: document)
        var candidates: [ToolCandidate<GraphQLOperation>] = []
        for (kind, root) in [(GraphQLOperation.Kind.query, model.queryType), (.mutation, model.mutationType)] {
            guard let root, let type = model[root] else { continue }
            for field in type.fields {
                let selection = selections[field.name] ?? selections["\(kind.rawValue) \(field.name)"]
                candidates.append(
                    ToolCandidate(
                        selectors: [field.name, "\(kind.rawValue) \(field.name)"], defaultName: ToolName.sanitize(field.name),
                        signature: "\(kind.rawValue) \(field.name)"
                    ) { () throws(UnsupportedOperation) in
                        try compileField(field, kind: kind, model: model, schema: schema, depth: max(1, selectionDepth), selection: selection)
                    })
            }
        }
        return ToolCatalog.select(candidates, rules: rules)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? GraphQLError {
            let location = error.locations.first.map { " (line \($0.line), column \($0.column))" } ?? ""
            return error.message + location
        }
        return "\(error)"
    }

    static func compileField(
        _ field: FieldDef, kind: GraphQLOperation.Kind, model: SchemaModel, schema: GraphQLSchema, depth: Int, selection override: String?
    ) throws(UnsupportedOperation) -> CompiledTool<GraphQLOperation> {
        guard let returnType = model[field.type.namedType] else {
            throw UnsupportedOperation(reason: "its type \(field.type.namedType) is not defined")
        }
        let selection: String
        if let override {
            selection = override.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if returnType.kind == .scalar || returnType.kind == .enumeration {
            selection = ""
        } else {
            selection = Selection.generate(for: returnType.name, model: model, depth: depth, path: [])
        }
        let variables = field.arguments.map { "$\($0.name): \($0.type)" }
        let arguments = field.arguments.map { "\($0.name): $\($0.name)" }
        let operationName = ToolName.sanitize(field.name).replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: ".", with: "_")
        var text = "\(kind.rawValue) \(operationName)"
        if !variables.isEmpty { text += "(" + variables.joined(separator: ", ") + ")" }
        text += " { \(field.name)"
        if !arguments.isEmpty { text += "(" + arguments.joined(separator: ", ") + ")" }
        if !selection.isEmpty { text += " " + selection }
        text += " }"

        let operation: Document
        do {
            operation = try parse(source: text)
        } catch {
            throw UnsupportedOperation(reason: "the selection does not parse: \(describe(error))")
        }
        let problems = validate(schema: schema, ast: operation)
        guard problems.isEmpty else {
            throw UnsupportedOperation(reason: "the operation is not valid: " + problems.prefix(3).map { describe($0) }.joined(separator: "; "))
        }

        var properties: JSONObject = [:]
        var required: [JSONValue] = []
        for argument in field.arguments {
            var schema = InputSchema.schema(for: argument.type, model: model, seen: [])
            if let description = argument.description { schema["description"] = .string(description) }
            properties[argument.name] = .object(schema)
            if argument.type.isNonNull && !argument.hasDefault { required.append(.string(argument.name)) }
        }
        var inputSchema: JSONObject = ["type": "object", "properties": .object(properties), "additionalProperties": false]
        if !required.isEmpty { inputSchema["required"] = .array(required) }

        let isQuery = kind == .query
        let description = field.description ?? "GraphQL \(kind.rawValue) \(field.name): returns \(field.type)."
        let definition = ToolDefinition(
            name: field.name, description: description, inputSchema: .object(inputSchema),
            annotations: ToolAnnotations(
                title: "\(kind.rawValue) \(field.name)", readOnlyHint: isQuery, destructiveHint: isQuery ? nil : true,
                idempotentHint: isQuery ? true : nil, openWorldHint: true))
        let mock = Mock.data(for: operation, model: model, rootType: (isQuery ? model.queryType : model.mutationType) ?? "")
        return CompiledTool(
            definition: definition,
            binding: GraphQLOperation(
                kind: kind, field: field.name, operationName: operationName, document: text, variables: field.arguments.map(\.name), mockData: mock))
    }
}

/// Generated selection sets.
enum Selection {
    /// The selection of `typeName`, `depth` levels deep; types already on `path` are not
    /// entered again. Never empty: `{ __typename }` when nothing else can be selected.
    static func generate(for typeName: String, model: SchemaModel, depth: Int, path: Set<String>) -> String {
        guard let type = model[typeName] else { return "{ __typename }" }
        var parts: [String] = []
        switch type.kind {
        case .union:
            parts.append("__typename")
            for member in type.possibleTypes where !path.contains(member) {
                let inner = depth > 1 ? generate(for: member, model: model, depth: depth - 1, path: path.union([typeName])) : leaves(of: member, model: model)
                if inner != "{ __typename }" { parts.append("... on \(member) \(inner)") }
            }
        case .object, .interface:
            if type.kind == .interface { parts.append("__typename") }
            for field in type.fields where !field.deprecated {
                // A field that needs arguments cannot be selected without inventing values.
                if field.arguments.contains(where: { $0.type.isNonNull && !$0.hasDefault }) { continue }
                guard let fieldType = model[field.type.namedType] else { continue }
                switch fieldType.kind {
                case .scalar, .enumeration:
                    parts.append(field.name)
                case .object, .interface, .union:
                    guard depth > 1, !path.contains(fieldType.name), fieldType.name != typeName else { continue }
                    parts.append("\(field.name) " + generate(for: fieldType.name, model: model, depth: depth - 1, path: path.union([typeName])))
                case .inputObject:
                    continue
                }
            }
        default:
            break
        }
        if parts.isEmpty || parts == ["__typename"] && type.kind != .union { return "{ __typename }" }
        return "{ " + parts.joined(separator: " ") + " }"
    }

    static func leaves(of typeName: String, model: SchemaModel) -> String {
        generate(for: typeName, model: model, depth: 1, path: [])
    }
}

/// JSON Schema of GraphQL input types.
enum InputSchema {
    static func schema(for type: TypeRef, model: SchemaModel, seen: Set<String>) -> JSONObject {
        switch type {
        case .nonNull(let inner):
            return schema(for: inner, model: model, seen: seen)
        case .list(let inner):
            return ["type": "array", "items": .object(schema(for: inner, model: model, seen: seen))]
        case .named(let name):
            switch name {
            case "Int": return ["type": "integer", "minimum": .integer(Int(Int32.min)), "maximum": .integer(Int(Int32.max))]
            case "Float": return ["type": "number"]
            case "String": return ["type": "string"]
            case "Boolean": return ["type": "boolean"]
            case "ID": return ["type": ["string", "integer"], "description": .string("ID")]
            default: break
            }
            guard let definition = model[name] else { return [:] }
            switch definition.kind {
            case .enumeration:
                var result: JSONObject = ["type": "string", "enum": .array(definition.enumValues.map(JSONValue.string))]
                if let description = definition.description { result["description"] = .string(description) }
                return result
            case .inputObject:
                guard !seen.contains(name) else { return ["type": "object", "description": .string("\(name) (recursive; see above)")] }
                var properties: JSONObject = [:]
                var required: [JSONValue] = []
                for field in definition.inputFields {
                    var fieldSchema = schema(for: field.type, model: model, seen: seen.union([name]))
                    if let description = field.description { fieldSchema["description"] = .string(description) }
                    properties[field.name] = .object(fieldSchema)
                    if field.type.isNonNull && !field.hasDefault { required.append(.string(field.name)) }
                }
                var result: JSONObject = ["type": "object", "properties": .object(properties), "additionalProperties": false]
                if !required.isEmpty { result["required"] = .array(required) }
                if let description = definition.description { result["description"] = .string(description) }
                return result
            default:
                return ["description": .string("\(name) (custom scalar)\(definition.description.map { ": \($0)" } ?? "")")]
            }
        }
    }
}

/// Sample answers for mock mode, shaped by the operation's selection.
enum Mock {
    static func data(for document: Document, model: SchemaModel, rootType: String) -> JSONValue {
        guard let operation = document.definitions.first as? OperationDefinition else { return .object([:]) }
        return value(of: operation.selectionSet, typeName: rootType, model: model)
    }

    static func value(of selectionSet: SelectionSet, typeName: String, model: SchemaModel) -> JSONValue {
        guard let type = model[typeName] else { return .object([:]) }
        var object: JSONObject = [:]
        for selection in selectionSet.selections {
            switch selection {
            case let field as Field:
                let key = field.alias?.value ?? field.name.value
                if field.name.value == "__typename" {
                    object[key] = .string(type.kind == .object ? type.name : type.possibleTypes.first ?? type.name)
                    continue
                }
                let candidates = type.kind == .union ? [] : type.fields
                guard let definition = candidates.first(where: { $0.name == field.name.value }) else { continue }
                object[key] = sample(definition.type, selection: field.selectionSet, model: model)
            case let fragment as InlineFragment:
                // The first member of an abstract type stands for all.
                let target = fragment.typeCondition?.name.value ?? typeName
                if type.kind == .object && target != type.name { continue }
                if case .object(let members) = value(of: fragment.selectionSet, typeName: target, model: model) {
                    object.merge(members) { old, _ in old }
                }
                if type.kind != .object { return .object(object) }
            default:
                continue
            }
        }
        return .object(object)
    }

    static func sample(_ type: TypeRef, selection: SelectionSet?, model: SchemaModel) -> JSONValue {
        switch type {
        case .nonNull(let inner): return sample(inner, selection: selection, model: model)
        case .list(let inner): return [sample(inner, selection: selection, model: model)]
        case .named(let name):
            switch name {
            case "Int": return 1
            case "Float": return 1.5
            case "String": return "string"
            case "Boolean": return true
            case "ID": return "1"
            default: break
            }
            guard let definition = model[name] else { return .null }
            switch definition.kind {
            case .enumeration: return definition.enumValues.first.map(JSONValue.string) ?? .null
            case .object, .interface, .union:
                guard let selection else { return .object([:]) }
                let concrete = definition.kind == .object ? name : definition.possibleTypes.first ?? name
                return value(of: selection, typeName: concrete, model: model)
            default: return "value"
            }
        }
    }
}

/// Reads a GraphQL response (`{"data": ..., "errors": [...]}`).
public enum GraphQLResponse {
    /// `errors` as one line each: message, then path and location when present.
    public static func errorMessages(_ response: JSONValue) -> [String] {
        (response["errors"]?.arrayValue ?? []).map { error in
            var text = error["message"]?.stringValue ?? error.serialized()
            if let path = error["path"]?.arrayValue, !path.isEmpty {
                text += " (at " + path.map { $0.stringValue ?? $0.serialized() }.joined(separator: ".") + ")"
            }
            return text
        }
    }
}
