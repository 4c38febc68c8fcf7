import GraphQL
import ReshaprJSON

/// A GraphQL type reference: a named type, possibly wrapped in lists and non-null.
indirect enum TypeRef: Sendable, Hashable, CustomStringConvertible {
    case named(String)
    case list(TypeRef)
    case nonNull(TypeRef)

    /// The type as written in GraphQL (`[Pet!]!`), for variable definitions.
    var description: String {
        switch self {
        case .named(let name): return name
        case .list(let inner): return "[\(inner)]"
        case .nonNull(let inner): return "\(inner)!"
        }
    }

    var namedType: String {
        switch self {
        case .named(let name): return name
        case .list(let inner), .nonNull(let inner): return inner.namedType
        }
    }

    var isNonNull: Bool {
        if case .nonNull = self { return true }
        return false
    }

    init(_ ast: GraphQL.`Type`) {
        switch ast {
        case let named as NamedType: self = .named(named.name.value)
        case let list as ListType: self = .list(TypeRef(list.type))
        case let nonNull as NonNullType: self = .nonNull(TypeRef(nonNull.type))
        default: self = .named("String")
        }
    }
}

/// An argument or input field.
struct InputValue: Sendable, Hashable {
    var name: String
    var description: String?
    var type: TypeRef
    var hasDefault: Bool
}

struct FieldDef: Sendable, Hashable {
    var name: String
    var description: String?
    var arguments: [InputValue]
    var type: TypeRef
    var deprecated: Bool
}

enum TypeKind: Sendable, Hashable {
    case scalar
    case object
    case interface
    case union
    case enumeration
    case inputObject
}

struct TypeDef: Sendable, Hashable {
    var name: String
    var kind: TypeKind
    var description: String?
    var fields: [FieldDef] = []
    var inputFields: [InputValue] = []
    var enumValues: [String] = []
    /// Union members, or the object types implementing an interface.
    var possibleTypes: [String] = []
    var interfaces: [String] = []
}

/// The parts of a GraphQL schema that tools are made from, read from SDL (through the GraphQL
/// package's parser) or from an introspection result.
struct SchemaModel: Sendable {
    var types: [String: TypeDef]
    var queryType: String?
    var mutationType: String?

    static let builtInScalars: Set<String> = ["Int", "Float", "String", "Boolean", "ID"]

    subscript(name: String) -> TypeDef? { types[name] }

    /// Builds the model from a parsed SDL document, merging `extend` definitions.
    init(document: Document) {
        var types: [String: TypeDef] = [:]
        for scalar in Self.builtInScalars { types[scalar] = TypeDef(name: scalar, kind: .scalar) }
        var query: String?
        var mutation: String?
        var sawSchema = false

        func fields(_ definitions: [FieldDefinition]) -> [FieldDef] {
            definitions.map { field in
                FieldDef(
                    name: field.name.value, description: field.description?.value, arguments: field.arguments.map(inputValue), type: TypeRef(field.type),
                    deprecated: field.directives.contains { $0.name.value == "deprecated" })
            }
        }
        func inputValue(_ value: InputValueDefinition) -> InputValue {
            InputValue(name: value.name.value, description: value.description?.value, type: TypeRef(value.type), hasDefault: value.defaultValue != nil)
        }
        func merge(_ definition: TypeDef) {
            guard var existing = types[definition.name] else {
                types[definition.name] = definition
                return
            }
            existing.fields += definition.fields
            existing.inputFields += definition.inputFields
            existing.enumValues += definition.enumValues
            existing.possibleTypes += definition.possibleTypes
            existing.interfaces += definition.interfaces
            types[definition.name] = existing
        }
        func add(_ definition: any Definition) {
            switch definition {
            case let schema as SchemaDefinition:
                sawSchema = true
                for operation in schema.operationTypes {
                    switch operation.operation {
                    case .query: query = operation.type.name.value
                    case .mutation: mutation = operation.type.name.value
                    default: break
                    }
                }
            case let object as ObjectTypeDefinition:
                merge(
                    TypeDef(
                        name: object.name.value, kind: .object, description: object.description?.value, fields: fields(object.fields),
                        interfaces: object.interfaces.map(\.name.value)))
            case let interface as InterfaceTypeDefinition:
                merge(TypeDef(name: interface.name.value, kind: .interface, description: interface.description?.value, fields: fields(interface.fields)))
            case let union as UnionTypeDefinition:
                merge(TypeDef(name: union.name.value, kind: .union, description: union.description?.value, possibleTypes: union.types.map(\.name.value)))
            case let enumeration as EnumTypeDefinition:
                merge(
                    TypeDef(
                        name: enumeration.name.value, kind: .enumeration, description: enumeration.description?.value,
                        enumValues: enumeration.values.map(\.name.value)))
            case let input as InputObjectTypeDefinition:
                merge(TypeDef(name: input.name.value, kind: .inputObject, description: input.description?.value, inputFields: input.fields.map(inputValue)))
            case let scalar as ScalarTypeDefinition:
                merge(TypeDef(name: scalar.name.value, kind: .scalar, description: scalar.description?.value))
            case let ext as TypeExtensionDefinition: add(ext.definition)
            case let ext as InterfaceExtensionDefinition: add(ext.definition)
            case let ext as UnionExtensionDefinition: add(ext.definition)
            case let ext as EnumExtensionDefinition: add(ext.definition)
            case let ext as InputObjectExtensionDefinition: add(ext.definition)
            case let ext as SchemaExtensionDefinition: add(ext.definition)
            default: break
            }
        }
        for definition in document.definitions { add(definition) }
        if !sawSchema {
            query = types["Query"] != nil ? "Query" : nil
            mutation = types["Mutation"] != nil ? "Mutation" : nil
        }
        // Interfaces know their implementations, for selections on abstract types.
        for object in types.values where object.kind == .object {
            for interface in object.interfaces { types[interface]?.possibleTypes.append(object.name) }
        }
        self.types = types
        queryType = query
        mutationType = mutation
    }
}

/// Turns an introspection result (`{"data": {"__schema": ...}}` or `{"__schema": ...}`) into
/// SDL, so that both artifact types go through the same parser and validation.
enum IntrospectionPrinter {
    struct Failure: Error {
        var reason: String
    }

    static func sdl(from document: JSONValue) throws(Failure) -> String {
        guard let schema = document["data"]?["__schema"] ?? document["__schema"] else {
            throw Failure(reason: "not an introspection result: no __schema (expected {\"data\": {\"__schema\": ...}})")
        }
        guard let types = schema["types"]?.arrayValue else { throw Failure(reason: "__schema.types is missing") }
        var out: [String] = []
        var roots: [String] = []
        if let query = schema["queryType"]?["name"]?.stringValue { roots.append("query: \(query)") }
        if let mutation = schema["mutationType"]?["name"]?.stringValue { roots.append("mutation: \(mutation)") }
        if let subscription = schema["subscriptionType"]?["name"]?.stringValue { roots.append("subscription: \(subscription)") }
        guard !roots.isEmpty else { throw Failure(reason: "__schema.queryType is missing") }
        out.append("schema { \(roots.joined(separator: " ")) }")
        for type in types {
            guard let name = type["name"]?.stringValue, !name.hasPrefix("__") else { continue }
            let header = description(type["description"])
            switch type["kind"]?.stringValue {
            case "SCALAR":
                if !SchemaModel.builtInScalars.contains(name) { out.append(header + "scalar \(name)") }
            case "OBJECT":
                let interfaces = (type["interfaces"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
                let implements = interfaces.isEmpty ? "" : " implements " + interfaces.joined(separator: " & ")
                out.append(header + "type \(name)\(implements) {\n" + (try fields(type["fields"])) + "\n}")
            case "INTERFACE":
                out.append(header + "interface \(name) {\n" + (try fields(type["fields"])) + "\n}")
            case "UNION":
                let members = (type["possibleTypes"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
                out.append(header + "union \(name) = " + members.joined(separator: " | "))
            case "ENUM":
                let values = (type["enumValues"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
                out.append(header + "enum \(name) { " + values.joined(separator: " ") + " }")
            case "INPUT_OBJECT":
                var inputs: [String] = []
                for input in type["inputFields"]?.arrayValue ?? [] { inputs.append("  " + (try inputValue(input))) }
                out.append(header + "input \(name) {\n" + inputs.joined(separator: "\n") + "\n}")
            default:
                throw Failure(reason: "type \(name) has an unknown kind")
            }
        }
        return out.joined(separator: "\n\n") + "\n"
    }

    static func fields(_ value: JSONValue?) throws(Failure) -> String {
        var lines: [String] = []
        for field in value?.arrayValue ?? [] {
            guard let name = field["name"]?.stringValue else { throw Failure(reason: "a field has no name") }
            var arguments: [String] = []
            for argument in field["args"]?.arrayValue ?? [] { arguments.append(try inputValue(argument)) }
            let argumentList = arguments.isEmpty ? "" : "(" + arguments.joined(separator: ", ") + ")"
            let deprecated = field["isDeprecated"]?.boolValue == true ? " @deprecated" : ""
            lines.append(description(field["description"], indent: "  ") + "  \(name)\(argumentList): \(try typeRef(field["type"]))\(deprecated)")
        }
        return lines.joined(separator: "\n")
    }

    static func inputValue(_ value: JSONValue) throws(Failure) -> String {
        guard let name = value["name"]?.stringValue else { throw Failure(reason: "an argument has no name") }
        let defaultValue = value["defaultValue"]?.stringValue.map { " = \($0)" } ?? ""
        return "\(name): \(try typeRef(value["type"]))\(defaultValue)"
    }

    static func typeRef(_ value: JSONValue?, depth: Int = 0) throws(Failure) -> String {
        guard let value, depth < 16 else { throw Failure(reason: "a type reference is missing or too deep") }
        switch value["kind"]?.stringValue {
        case "NON_NULL": return try typeRef(value["ofType"], depth: depth + 1) + "!"
        case "LIST": return "[" + (try typeRef(value["ofType"], depth: depth + 1)) + "]"
        default:
            guard let name = value["name"]?.stringValue else { throw Failure(reason: "a type reference has no name") }
            return name
        }
    }

    static func description(_ value: JSONValue?, indent: String = "") -> String {
        guard let text = value?.stringValue, !text.isEmpty else { return "" }
        return indent + "\"\"\"" + text.replacingOccurrences(of: "\"\"\"", with: "\\\"\"\"") + "\"\"\"\n"
    }
}
