import ReshaprJSON

/// Follows an output filter through a tool's JSON Schema, so that the advertised `outputSchema`
/// describes the filtered answers. Every function answers `nil` when it cannot follow the
/// schema (a `$ref`, a combinator or a tuple on the way): the caller then advertises none.
/// Recursion is bounded by the filter's pointers, at most ``JSONPointer/maxTokens`` deep.
enum SchemaShaper {
    /// Keywords that make a schema node more than `type` + `properties`/`items`.
    static let opaqueKeywords: Set<String> = ["$ref", "$dynamicRef", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "prefixItems", "dependentSchemas"]

    static func isOpaque(_ members: JSONObject) -> Bool {
        members.keys.contains { opaqueKeywords.contains($0) }
    }

    /// The schema of what ``RetainNode/apply(to:)`` keeps.
    static func retain(_ schema: JSONValue, _ node: RetainNode) -> JSONValue? {
        if node.whole { return schema }
        guard case .object(var members) = schema else { return Self.unlessFalse(schema) }
        if members.isEmpty { return schema }
        guard !isOpaque(members) else { return nil }
        let types = typeNames(members)
        let object = types.contains("object") || members["properties"] != nil
        let array = types.contains("array") || members["items"] != nil
        guard !(object && array) else { return nil }
        if object {
            let properties = members["properties"]?.objectValue ?? [:]
            let additional = members["additionalProperties"]
            let required = Set(members["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            var kept = JSONObject()
            var keptRequired: [JSONValue] = []
            for (token, child) in node.children {
                let sub: JSONValue
                if let declared = properties[token] {
                    sub = declared
                } else if let additional, additional != .bool(true) {
                    if additional == .bool(false) { continue }
                    sub = additional
                } else {
                    sub = .emptyObject
                }
                guard let shaped = retain(sub, child) else { return nil }
                kept[token] = shaped
                // Only a member kept whole is there whenever it was; a partly kept one may vanish.
                if child.whole, required.contains(token) { keptRequired.append(.string(token)) }
            }
            for key in ["properties", "required", "additionalProperties", "patternProperties", "propertyNames", "minProperties", "maxProperties", "dependentRequired", "unevaluatedProperties"] {
                members[key] = nil
            }
            members["properties"] = .object(kept)
            if !keptRequired.isEmpty { members["required"] = .array(keptRequired) }
            members["additionalProperties"] = .bool(false)
            return .object(members)
        }
        if array {
            let items = members["items"] ?? .emptyObject
            guard let shaped = retain(items, node.indexedChildren) else { return nil }
            for key in ["items", "minItems", "maxItems", "contains", "minContains", "maxContains", "uniqueItems", "unevaluatedItems"] { members[key] = nil }
            members["items"] = shaped
            return .object(members)
        }
        // A pointer below a primitive resolves to nothing; the member is then dropped.
        return schema
    }

    /// `nil` for the `false` schema (nothing can be there), else the schema.
    static func unlessFalse(_ schema: JSONValue) -> JSONValue? {
        if schema == .bool(false) { return nil }
        return schema
    }

    static func typeNames(_ members: JSONObject) -> Set<String> {
        switch members["type"] {
        case .string(let name)?: return [name]
        case .array(let names)?: return Set(names.compactMap(\.stringValue))
        default: return []
        }
    }

    /// The schema after one patch operation, whether it applied or was passed over.
    static func apply(_ operation: JSONPatchOperation, to schema: JSONValue) -> JSONValue? {
        switch operation {
        case .test:
            return schema
        case .add(let path, let value), .replace(let path, let value):
            return place(constant(value), at: path.tokens[...], in: schema, replacing: { if case .replace = operation { true } else { false } }())
        case .remove(let path):
            return removing(path.tokens[...], from: schema)
        case .copy(let from, let path):
            guard let source = locate(from.tokens[...], in: schema) else { return nil }
            return place(source, at: path.tokens[...], in: schema, replacing: false)
        case .move(let from, let path):
            guard let source = locate(from.tokens[...], in: schema), let without = removing(from.tokens[...], from: schema) else { return nil }
            return place(source, at: path.tokens[...], in: without, replacing: false)
        }
    }

    /// The schema of a literal value written by a patch.
    static func constant(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object, .array: return ["const": value]
        default: return ["type": .string(value.typeName == "integer" ? "number" : value.typeName), "const": value]
        }
    }

    /// The schema of the value at `tokens`; `{}` (anything) where the schema does not say.
    static func locate(_ tokens: ArraySlice<String>, in schema: JSONValue) -> JSONValue? {
        guard let token = tokens.first else { return schema }
        guard case .object(let members) = schema else {
            // `true` allows anything below; `false` nothing.
            if schema == .bool(false) { return nil }
            return .emptyObject
        }
        if members.isEmpty { return .emptyObject }
        guard !isOpaque(members) else { return nil }
        if let child = members["properties"]?[token] { return locate(tokens.dropFirst(), in: child) }
        if let items = members["items"], JSONPointer.index(token) != nil { return locate(tokens.dropFirst(), in: items) }
        if let additional = members["additionalProperties"], case .object = additional { return locate(tokens.dropFirst(), in: additional) }
        return .emptyObject
    }

    /// The schema once a value of schema `value` is put at `tokens`. An object member takes the
    /// new schema (or, when the write may not happen, either); an array's items take either.
    static func place(_ value: JSONValue, at tokens: ArraySlice<String>, in schema: JSONValue, replacing: Bool) -> JSONValue? {
        guard let token = tokens.first else { return value }
        guard case .object(var members) = schema else { return Self.unlessFalse(schema) }
        if members.isEmpty { return schema }
        guard !isOpaque(members) else { return nil }
        let rest = tokens.dropFirst()
        if members["items"] != nil || typeNames(members).contains("array"), token == "-" || JSONPointer.index(token) != nil {
            let items = members["items"] ?? .emptyObject
            guard let placed = place(value, at: rest, in: items, replacing: replacing) else { return nil }
            members["items"] = rest.isEmpty ? union(items, placed) : placed
            if !replacing { members["maxItems"] = nil }
            return .object(members)
        }
        var properties = members["properties"]?.objectValue ?? [:]
        var existing = properties[token]
        if existing == nil, let additional = members["additionalProperties"], case .object = additional { existing = additional }
        if rest.isEmpty {
            // `add` over an absent member, `copy` or `move` from an absent source: the member may keep its old value.
            if let existing, !replacing { properties[token] = union(existing, value) } else { properties[token] = value }
        } else {
            guard let placed = place(value, at: rest, in: existing ?? .emptyObject, replacing: replacing) else { return nil }
            properties[token] = placed
        }
        members["properties"] = .object(properties)
        members["maxProperties"] = nil
        return .object(members)
    }

    /// The schema once the value at `tokens` is removed.
    static func removing(_ tokens: ArraySlice<String>, from schema: JSONValue) -> JSONValue? {
        guard let token = tokens.first else { return nil }
        guard case .object(var members) = schema else { return Self.unlessFalse(schema) }
        if members.isEmpty { return schema }
        guard !isOpaque(members) else { return nil }
        let rest = tokens.dropFirst()
        if let items = members["items"], JSONPointer.index(token) != nil {
            if rest.isEmpty {
                members["minItems"] = nil
                members["contains"] = nil
            } else {
                // One element loses a part; the others keep theirs.
                guard let shaped = removing(rest, from: items) else { return nil }
                members["items"] = union(items, shaped)
            }
            return .object(members)
        }
        var properties = members["properties"]?.objectValue ?? [:]
        if rest.isEmpty {
            properties[token] = nil
            if let required = members["required"]?.arrayValue {
                let left = required.filter { $0 != .string(token) }
                members["required"] = nil
                if !left.isEmpty { members["required"] = .array(left) }
            }
            members["minProperties"] = nil
            // Without additionalProperties: false, a removed member could still match a pattern; nothing else changes.
        } else {
            guard let child = properties[token] else { return .object(members) }
            guard let shaped = removing(rest, from: child) else { return nil }
            properties[token] = shaped
        }
        members["properties"] = .object(properties)
        return .object(members)
    }

    /// A schema accepting what either accepts: objects merge member by member (a member is
    /// required only when both require it), anything else becomes `anyOf`.
    static func union(_ a: JSONValue, _ b: JSONValue) -> JSONValue {
        if a == b { return a }
        if a == .emptyObject || a == .bool(true) { return a }
        if b == .emptyObject || b == .bool(true) { return b }
        guard case .object(let left) = a, case .object(let right) = b, !isOpaque(left), !isOpaque(right),
            typeNames(left) == ["object"], typeNames(right) == ["object"]
        else { return ["anyOf": [a, b]] }
        var merged = JSONObject()
        merged["type"] = "object"
        var properties = left["properties"]?.objectValue ?? [:]
        for (key, schema) in right["properties"]?.objectValue ?? [:] {
            properties[key] = properties[key].map { union($0, schema) } ?? schema
        }
        merged["properties"] = .object(properties)
        let required = Set(left["required"]?.arrayValue?.compactMap(\.stringValue) ?? []).intersection(right["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        if !required.isEmpty { merged["required"] = .array(required.sorted().map(JSONValue.string)) }
        if left["additionalProperties"] == .bool(false), right["additionalProperties"] == .bool(false) { merged["additionalProperties"] = false }
        return .object(merged)
    }

    /// Whether every value the schema accepts is an object (what `structuredContent` must be).
    static func describesObjectsOnly(_ schema: JSONValue) -> Bool {
        guard case .object(let members) = schema else { return false }
        if let branches = members["anyOf"]?.arrayValue { return branches.allSatisfy(describesObjectsOnly) }
        return typeNames(members) == ["object"]
    }
}
