import Foundation
import ReshaprJSON

/// Raised when a schema cannot be turned into JSON Schema; the operation is skipped with it.
struct UnsupportedSchema: Error {
    var reason: String
}

/// Turns OpenAPI 3.0, 3.1 and Swagger 2.0 schema objects into self-contained JSON Schema:
/// local `$ref`s are inlined, recursion is cut at the first repetition, and OpenAPI-only
/// keywords (`nullable`, boolean `exclusiveMinimum`, `example`, `discriminator` …) are mapped
/// or dropped.
struct SchemaConverter {
    enum Mode {
        /// Request side: `readOnly` properties are left out.
        case input
        /// Response side: `writeOnly` properties are left out, `required` is dropped so that
        /// backends that omit fields do not fail their own calls.
        case output
        /// Keep everything, for mock value generation.
        case raw
    }

    let document: JSONValue
    let isOpenAPI30: Bool
    static let maxDepth = 24

    init(document: JSONValue) {
        self.document = document
        let version = document["openapi"]?.stringValue ?? ""
        isOpenAPI30 = version.hasPrefix("3.0") || document["swagger"] != nil
    }

    /// Resolves a local `$ref` (`#/components/...`, `#/definitions/...`).
    func resolve(_ ref: String) throws(UnsupportedSchema) -> JSONValue {
        guard ref.hasPrefix("#") else {
            // The loader brings in the other files of the configuration directory; what is left is remote.
            throw UnsupportedSchema(
                reason: "$ref \(ref) is remote, and the gateway fetches nothing (air-gapped); bundle the description into the configuration "
                    + "directory (`reshapr import -f root.yaml --bundle` fetches it and stores it with the description, as `redocly bundle` does)")
        }
        guard let target = document.value(atPointer: String(ref.dropFirst())) else {
            throw UnsupportedSchema(reason: "$ref \(ref) points to nothing")
        }
        return target
    }

    /// Follows `$ref` chains of parameters, request bodies and responses.
    func dereference(_ value: JSONValue) throws(UnsupportedSchema) -> JSONValue {
        var current = value
        var seen: Set<String> = []
        while let ref = current["$ref"]?.stringValue {
            guard seen.insert(ref).inserted else { throw UnsupportedSchema(reason: "$ref cycle at \(ref)") }
            current = try resolve(ref)
        }
        return current
    }

    func convert(_ schema: JSONValue, mode: Mode) throws(UnsupportedSchema) -> JSONValue {
        try convert(schema, mode: mode, stack: [], depth: 0)
    }

    private func convert(_ schema: JSONValue, mode: Mode, stack: [String], depth: Int) throws(UnsupportedSchema) -> JSONValue {
        switch schema {
        case .bool: return schema
        case .object: break
        default: return .object([:])
        }
        guard let object = schema.objectValue else { return .object([:]) }
        if let ref = object["$ref"]?.stringValue {
            let name = ref.split(separator: "/").last.map(String.init) ?? ref
            if stack.contains(ref) || depth >= Self.maxDepth {
                return ["description": .string("\(name) (recursive; not expanded further)")]
            }
            var target = try convert(try resolve(ref), mode: mode, stack: stack + [ref], depth: depth + 1)
            // OpenAPI 3.1 allows siblings of $ref; descriptions are the useful ones.
            if let description = object["description"], case .object(var members) = target {
                members["description"] = description
                target = .object(members)
            }
            return target
        }
        if depth >= Self.maxDepth { return ["description": "(nesting too deep; not expanded further)"] }

        var out: JSONObject = [:]
        var requiredByProperty: [JSONValue] = []
        let next = depth + 1
        for (key, value) in object {
            switch key {
            case "type":
                if value.stringValue?.lowercased() == "file" {
                    out["type"] = "string"
                    out["format"] = "binary"
                } else {
                    out["type"] = Self.normalizedType(value)
                }
            case "multipleOf", "maximum", "minimum", "maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties":
                out[key] = Self.normalizedNumber(value)
            case "format", "description", "title", "default", "enum", "const", "uniqueItems", "deprecated", "examples", "contentMediaType",
                "contentEncoding":
                out[key] = value
            case "pattern":
                // Keep only patterns our validator (and most clients) can compile.
                if let source = value.stringValue, (try? NSRegularExpression(pattern: source)) != nil { out[key] = value }
            case "exclusiveMaximum", "exclusiveMinimum":
                if let flag = value.boolValue {
                    let bound = key == "exclusiveMaximum" ? "maximum" : "minimum"
                    if flag, let limit = object[bound] { out[key] = limit }
                } else {
                    out[key] = Self.normalizedNumber(value)
                }
            case "example":
                if object["examples"] == nil { out["examples"] = [value] }
            case "items":
                out[key] = try convert(value, mode: mode, stack: stack, depth: next)
            case "prefixItems", "allOf", "anyOf", "oneOf":
                var converted: [JSONValue] = []
                for element in value.arrayValue ?? [] { converted.append(try convert(element, mode: mode, stack: stack, depth: next)) }
                out[key] = .array(converted)
            case "not", "additionalProperties", "propertyNames", "contains", "if", "then", "else":
                out[key] = try convert(value, mode: mode, stack: stack, depth: next)
            case "properties", "patternProperties":
                var converted: JSONObject = [:]
                for (name, property) in value.objectValue ?? [:] {
                    let resolved = (try? dereference(property)) ?? property
                    if mode == .input, resolved["readOnly"]?.boolValue == true { continue }
                    if mode == .output, resolved["writeOnly"]?.boolValue == true { continue }
                    converted[name] = try convert(property, mode: mode, stack: stack, depth: next)
                    // A Swagger habit found in OpenAPI 3.0 documents: `required: true` on the
                    // property itself, meaning what the parent's `required` list says.
                    if key == "properties", mode != .output, resolved["required"]?.boolValue == true { requiredByProperty.append(.string(name)) }
                }
                out[key] = .object(converted)
            case "required":
                if mode != .output, let names = value.arrayValue { out[key] = .array(names.filter { $0.stringValue != nil }) }
            default:
                continue
            }
        }
        if !requiredByProperty.isEmpty {
            let listed = out["required"]?.arrayValue ?? []
            out["required"] = .array(listed + requiredByProperty.filter { !listed.contains($0) }.sorted { ($0.stringValue ?? "") < ($1.stringValue ?? "") })
        }
        if let properties = out["properties"]?.objectValue, let required = out["required"]?.arrayValue {
            let kept = required.filter { $0.stringValue.map { properties[$0] != nil } ?? false }
            out["required"] = kept.isEmpty ? nil : .array(kept)
        }
        if isOpenAPI30, object["nullable"]?.boolValue == true || object["x-nullable"]?.boolValue == true {
            if let type = out["type"]?.stringValue {
                out["type"] = [.string(type), "null"]
            } else if let types = out["type"]?.arrayValue, !types.contains("null") {
                out["type"] = .array(types + ["null"])
            }
            if let values = out["enum"]?.arrayValue, !values.contains(.null) { out["enum"] = .array(values + [.null]) }
        }
        return .object(out)
    }

    static let jsonTypes: Set<String> = ["string", "number", "integer", "boolean", "array", "object", "null"]

    /// `"String"` and `" integer"` as the JSON Schema type names they mean; other values are
    /// kept, and an unknown type then fails validator compilation (the tool is refused).
    static func normalizedType(_ value: JSONValue) -> JSONValue {
        func normalize(_ name: String) -> String {
            let lowered = name.trimmingCharacters(in: .whitespaces).lowercased()
            return jsonTypes.contains(lowered) ? lowered : name
        }
        switch value {
        case .string(let name): return .string(normalize(name))
        case .array(let names): return .array(names.map { $0.stringValue.map { .string(normalize($0)) } ?? $0 })
        default: return value
        }
    }

    /// `"10"` written for a numeric keyword, as the number it spells; other values are kept.
    static func normalizedNumber(_ value: JSONValue) -> JSONValue {
        guard let text = value.stringValue?.trimmingCharacters(in: .whitespaces), let number = Double(text), number.isFinite else { return value }
        if let integer = Int(text) { return .integer(integer) }
        return .number(number)
    }
}
