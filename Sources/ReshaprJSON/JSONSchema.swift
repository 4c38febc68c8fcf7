import Foundation
import Synchronization

/// A schema that cannot be compiled: an unsupported keyword, a bad `$ref`, a bad pattern.
public struct JSONSchemaError: Error, Sendable, CustomStringConvertible {
    /// Where in the schema: `<schema $id>#<JSON pointer>`.
    public var location: String
    public var message: String

    public init(location: String, message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "invalid schema at \(location): \(message)" }
}

/// One way an instance fails its schema.
public struct JSONSchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// Location of the offending value in the instance.
    public var path: JSONPath
    public var message: String

    public init(path: JSONPath, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isRoot ? message : "\(path): \(message)" }
}

/// A compiled JSON Schema (draft 2020-12) validator.
///
/// Implemented keywords: `type`, `enum`, `const`, the numeric, string, array and object
/// assertions (`minimum` … `multipleOf`, `minLength`, `maxLength`, `pattern`, `items`,
/// `prefixItems`, `contains`, `minItems`, `maxItems`, `uniqueItems`, `properties`,
/// `patternProperties`, `additionalProperties`, `propertyNames`, `required`,
/// `dependentRequired`, `dependentSchemas`, `minProperties`, `maxProperties`), the applicators
/// `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else`, and `$ref` to `$defs` or to other
/// registered schema resources by `$id`. Annotations (`title`, `format`, `default`, `x-*` …)
/// are accepted and not asserted. In strict mode any other keyword is a compile error, so a
/// schema cannot silently ask for checks that are not made.
public struct JSONSchemaValidator: Sendable {
    private let root: SchemaNode
    private let table: [String: SchemaNode]

    /// Compiles `schema`; `resources` are other schema documents its `$ref`s may point to, each
    /// identified by its `$id`.
    public init(schema: JSONValue, resources: [JSONValue] = [], strict: Bool = true) throws(JSONSchemaError) {
        var compiler = SchemaCompiler(strict: strict)
        for resource in resources { try compiler.register(resource) }
        let rootURI = try compiler.register(schema)
        root = try compiler.compile(uri: rootURI)
        try compiler.compilePendingReferences()
        table = compiler.compiled
    }

    /// All violations of the schema by `instance`; empty when it is valid. Messages about a
    /// value at a path for which `redacting` is true describe it without quoting it (its kind
    /// and length only), for values that may be secrets.
    public func validate(_ instance: JSONValue, redacting: ((JSONPath) -> Bool)? = nil) -> [JSONSchemaViolation] {
        var violations: [JSONSchemaViolation] = []
        var context = ValidationContext(table: table)
        context.redact = redacting
        context.validate(instance, against: root, at: .root, into: &violations)
        return violations
    }

    public func isValid(_ instance: JSONValue) -> Bool {
        var violations: [JSONSchemaViolation] = []
        var context = ValidationContext(table: table, stopAtFirst: true)
        context.validate(instance, against: root, at: .root, into: &violations)
        return violations.isEmpty
    }
}

/// `NSRegularExpression` is immutable and documented thread-safe for matching.
struct Pattern: @unchecked Sendable {
    let source: String
    let regex: NSRegularExpression

    func matches(_ s: String) -> Bool {
        regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }

    /// Compiled patterns by source, shared by every schema of the process: specs repeat the same
    /// patterns across operations and files, and compiling one (ICU) costs more than a lookup.
    /// Bounded, since patterns come from configuration files.
    private static let compiled = Mutex<[String: Pattern]>([:])

    static func compile(_ source: String) throws -> Pattern {
        if let known = compiled.withLock({ $0[source] }) { return known }
        let pattern = Pattern(source: source, regex: try NSRegularExpression(pattern: source))
        compiled.withLock { cache in
            if cache.count >= 10_000 { cache.removeAll() }
            cache[source] = pattern
        }
        return pattern
    }
}

/// One compiled (sub)schema.
final class SchemaNode: Sendable {
    enum Kind: Sendable {
        case alwaysValid
        case alwaysInvalid
        case assertions
    }

    let kind: Kind
    let storage: Storage

    struct Storage: Sendable {
        var types: Set<String>?
        var enumValues: [JSONValue]?
        var constValue: JSONValue?
        var minimum: Double?
        var maximum: Double?
        var exclusiveMinimum: Double?
        var exclusiveMaximum: Double?
        var multipleOf: Double?
        var minLength: Int?
        var maxLength: Int?
        var pattern: Pattern?
        var items: SchemaNode?
        var prefixItems: [SchemaNode] = []
        var contains: SchemaNode?
        var minContains: Int?
        var maxContains: Int?
        var minItems: Int?
        var maxItems: Int?
        var uniqueItems = false
        var properties: [String: SchemaNode] = [:]
        var patternProperties: [(Pattern, SchemaNode)] = []
        var additionalProperties: SchemaNode?
        var propertyNames: SchemaNode?
        var required: [String] = []
        var dependentRequired: [String: [String]] = [:]
        var dependentSchemas: [String: SchemaNode] = [:]
        var minProperties: Int?
        var maxProperties: Int?
        var allOf: [SchemaNode] = []
        var anyOf: [SchemaNode] = []
        var oneOf: [SchemaNode] = []
        var not: SchemaNode?
        var ifSchema: SchemaNode?
        var thenSchema: SchemaNode?
        var elseSchema: SchemaNode?
        var ref: String?
    }

    init(kind: Kind, storage: Storage = Storage()) {
        self.kind = kind
        self.storage = storage
    }

    /// True when the node only says "these fields are required": used to word `anyOf`/`oneOf` errors.
    var requiredOnly: [String]? {
        guard kind == .assertions, !storage.required.isEmpty, storage.types == nil, storage.properties.isEmpty,
            storage.allOf.isEmpty, storage.anyOf.isEmpty, storage.oneOf.isEmpty, storage.ref == nil,
            storage.not == nil, storage.ifSchema == nil
        else { return nil }
        return storage.required
    }
}

struct SchemaCompiler {
    let strict: Bool
    private(set) var resources: JSONObject = [:]
    private(set) var compiled: [String: SchemaNode] = [:]
    private var pendingReferences: [String] = []

    static let annotationKeywords: Set<String> = [
        "$schema", "$id", "$comment", "$defs", "definitions", "title", "description", "default", "examples",
        "deprecated", "readOnly", "writeOnly", "format", "contentMediaType", "contentEncoding", "contentSchema",
        "$vocabulary", "example", "markdownDescription", "nullable", "discriminator", "xml", "externalDocs",
    ]

    init(strict: Bool) {
        self.strict = strict
    }

    /// Registers a schema resource under its `$id` (or a local name when it has none); returns that URI.
    @discardableResult
    mutating func register(_ resource: JSONValue) throws(JSONSchemaError) -> String {
        let id = resource["$id"]?.stringValue ?? "urn:reshapr:schema:\(resources.count)"
        let uri = Self.stripFragment(id)
        resources[uri] = resource
        return uri
    }

    mutating func compile(uri: String) throws(JSONSchemaError) -> SchemaNode {
        if let node = compiled[uri] { return node }
        let (base, fragment) = Self.split(uri)
        guard let resource = resources[base] else {
            throw JSONSchemaError(location: uri, message: "no schema registered with $id \(base)")
        }
        guard let value = resource.value(atPointer: fragment) else {
            throw JSONSchemaError(location: uri, message: "$ref target \(fragment) does not exist")
        }
        let node = try compileNode(value, base: base, pointer: fragment)
        compiled[uri] = node
        return node
    }

    mutating func compilePendingReferences() throws(JSONSchemaError) {
        while let uri = pendingReferences.popLast() {
            if compiled[uri] == nil { _ = try compile(uri: uri) }
        }
    }

    private mutating func compileNode(_ value: JSONValue, base: String, pointer: String) throws(JSONSchemaError) -> SchemaNode {
        func fail(_ message: String) -> JSONSchemaError {
            JSONSchemaError(location: base + "#" + pointer, message: message)
        }
        switch value {
        case .bool(true): return SchemaNode(kind: .alwaysValid)
        case .bool(false): return SchemaNode(kind: .alwaysInvalid)
        case .object: break
        default: throw fail("a schema must be an object or a boolean, found \(value.typeName)")
        }
        guard let object = value.objectValue else { throw fail("a schema must be an object") }
        var s = SchemaNode.Storage()

        func sub(_ key: String) throws(JSONSchemaError) -> SchemaNode? {
            guard let v = object[key] else { return nil }
            return try compileNode(v, base: base, pointer: pointer + "/" + key)
        }
        func subArray(_ key: String) throws(JSONSchemaError) -> [SchemaNode] {
            guard let v = object[key] else { return [] }
            guard let array = v.arrayValue, !array.isEmpty else { throw fail("\(key) must be a non-empty array of schemas") }
            var nodes: [SchemaNode] = []
            for (i, element) in array.enumerated() {
                nodes.append(try compileNode(element, base: base, pointer: pointer + "/\(key)/\(i)"))
            }
            return nodes
        }
        func subMap(_ key: String) throws(JSONSchemaError) -> [String: SchemaNode] {
            guard let v = object[key] else { return [:] }
            guard let map = v.objectValue else { throw fail("\(key) must be an object of schemas") }
            var nodes: [String: SchemaNode] = [:]
            for (name, element) in map {
                nodes[name] = try compileNode(element, base: base, pointer: pointer + "/\(key)/" + JSONPath.escapeToken(name))
            }
            return nodes
        }
        func number(_ key: String) throws(JSONSchemaError) -> Double? {
            guard let v = object[key] else { return nil }
            guard let d = v.doubleValue else { throw fail("\(key) must be a number") }
            return d
        }
        func count(_ key: String) throws(JSONSchemaError) -> Int? {
            guard let v = object[key] else { return nil }
            guard let i = v.intValue, i >= 0 else { throw fail("\(key) must be a non-negative integer") }
            return i
        }
        func pattern(_ source: String) throws(JSONSchemaError) -> Pattern {
            do {
                return try Pattern.compile(source)
            } catch {
                throw fail("invalid regular expression \(JSONValue.string(source))")
            }
        }

        for key in object.keys {
            switch key {
            case "type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
                "minLength", "maxLength", "pattern", "items", "prefixItems", "contains", "minContains", "maxContains",
                "minItems", "maxItems", "uniqueItems", "properties", "patternProperties", "additionalProperties",
                "propertyNames", "required", "dependentRequired", "dependentSchemas", "minProperties", "maxProperties",
                "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$ref":
                continue
            default:
                if Self.annotationKeywords.contains(key) || key.hasPrefix("x-") { continue }
                if strict { throw fail("unsupported keyword \(key)") }
            }
        }

        switch object["type"] {
        case nil: break
        case .string(let t)?: s.types = [t]
        case .array(let ts)?:
            var set: Set<String> = []
            for t in ts {
                guard let name = t.stringValue else { throw fail("type must be a string or an array of strings") }
                set.insert(name)
            }
            s.types = set
        default: throw fail("type must be a string or an array of strings")
        }
        if let types = s.types {
            let known: Set<String> = ["null", "boolean", "object", "array", "number", "string", "integer"]
            if let bad = types.first(where: { !known.contains($0) }) { throw fail("unknown type \(bad)") }
        }
        if let e = object["enum"] {
            guard let values = e.arrayValue else { throw fail("enum must be an array") }
            s.enumValues = values
        }
        s.constValue = object["const"]
        s.minimum = try number("minimum")
        s.maximum = try number("maximum")
        s.exclusiveMinimum = try number("exclusiveMinimum")
        s.exclusiveMaximum = try number("exclusiveMaximum")
        s.multipleOf = try number("multipleOf")
        if let m = s.multipleOf, m <= 0 { throw fail("multipleOf must be greater than 0") }
        s.minLength = try count("minLength")
        s.maxLength = try count("maxLength")
        if let p = object["pattern"] {
            guard let source = p.stringValue else { throw fail("pattern must be a string") }
            s.pattern = try pattern(source)
        }
        s.items = try sub("items")
        s.prefixItems = try subArray("prefixItems")
        s.contains = try sub("contains")
        s.minContains = try count("minContains")
        s.maxContains = try count("maxContains")
        s.minItems = try count("minItems")
        s.maxItems = try count("maxItems")
        if let u = object["uniqueItems"] {
            guard let b = u.boolValue else { throw fail("uniqueItems must be a boolean") }
            s.uniqueItems = b
        }
        s.properties = try subMap("properties")
        if let pp = object["patternProperties"]?.objectValue {
            for (source, element) in pp.sorted(by: { $0.key < $1.key }) {
                let node = try compileNode(element, base: base, pointer: pointer + "/patternProperties/" + JSONPath.escapeToken(source))
                s.patternProperties.append((try pattern(source), node))
            }
        }
        s.additionalProperties = try sub("additionalProperties")
        s.propertyNames = try sub("propertyNames")
        if let r = object["required"] {
            guard let names = r.arrayValue?.compactMap(\.stringValue), names.count == r.arrayValue?.count else {
                throw fail("required must be an array of strings")
            }
            s.required = names
        }
        if let dr = object["dependentRequired"]?.objectValue {
            for (name, list) in dr {
                s.dependentRequired[name] = list.arrayValue?.compactMap(\.stringValue) ?? []
            }
        }
        s.dependentSchemas = try subMap("dependentSchemas")
        s.minProperties = try count("minProperties")
        s.maxProperties = try count("maxProperties")
        s.allOf = try subArray("allOf")
        s.anyOf = try subArray("anyOf")
        s.oneOf = try subArray("oneOf")
        s.not = try sub("not")
        s.ifSchema = try sub("if")
        s.thenSchema = try sub("then")
        s.elseSchema = try sub("else")
        if let r = object["$ref"] {
            guard let ref = r.stringValue else { throw fail("$ref must be a string") }
            let uri = Self.resolve(ref, against: base)
            s.ref = uri
            pendingReferences.append(uri)
        }
        return SchemaNode(kind: .assertions, storage: s)
    }

    static func stripFragment(_ uri: String) -> String {
        split(uri).0
    }

    static func split(_ uri: String) -> (String, String) {
        guard let hash = uri.firstIndex(of: "#") else { return (uri, "") }
        return (String(uri[..<hash]), String(uri[uri.index(after: hash)...]))
    }

    static func resolve(_ ref: String, against base: String) -> String {
        if ref.hasPrefix("#") { return base + ref }
        if ref.contains("://") || ref.hasPrefix("urn:") { return ref.contains("#") ? ref : ref + "#" }
        let directory: Substring
        if let slash = base.lastIndex(of: "/") { directory = base[...slash] } else { directory = "" }
        let resolved = String(directory) + ref
        return resolved.contains("#") ? resolved : resolved + "#"
    }


}

struct ValidationContext {
    let table: [String: SchemaNode]
    var stopAtFirst = false
    /// Paths whose values messages must not quote.
    var redact: ((JSONPath) -> Bool)?
    /// Guards against `$ref` cycles that consume no input (`{"$ref": "#"}`).
    private var refDepth = 0

    init(table: [String: SchemaNode], stopAtFirst: Bool = false) {
        self.table = table
        self.stopAtFirst = stopAtFirst
    }

    mutating func isValid(_ instance: JSONValue, against node: SchemaNode, at path: JSONPath) -> Bool {
        var scratch: [JSONSchemaViolation] = []
        let saved = stopAtFirst
        stopAtFirst = true
        validate(instance, against: node, at: path, into: &scratch)
        stopAtFirst = saved
        return scratch.isEmpty
    }

    mutating func validate(_ instance: JSONValue, against node: SchemaNode, at path: JSONPath, into out: inout [JSONSchemaViolation]) {
        switch node.kind {
        case .alwaysValid: return
        case .alwaysInvalid:
            out.append(JSONSchemaViolation(path: path, message: "is not allowed here"))
            return
        case .assertions: break
        }
        let s = node.storage
        func report(_ message: String, at p: JSONPath = path) {
            out.append(JSONSchemaViolation(path: p, message: message))
        }
        func done() -> Bool { stopAtFirst && !out.isEmpty }
        let hidden = redact?(path) == true
        func shown(_ value: JSONValue) -> String { hidden ? Self.describeRedacted(value) : Self.describe(value) }
        func shownNumber(_ value: JSONValue) -> String { hidden ? Self.describeRedacted(value) : "\(value)" }

        if let ref = s.ref {
            if refDepth > 64 {
                report("schema reference cycle too deep")
                return
            }
            if let target = table[ref] {
                refDepth += 1
                validate(instance, against: target, at: path, into: &out)
                refDepth -= 1
            }
            if done() { return }
        }

        if let types = s.types, !Self.matches(instance, types: types) {
            report("expected \(types.sorted().joined(separator: " or ")), got \(shown(instance))"
                + (types.contains("string") && instance.doubleValue != nil ? " (quote the value in YAML to make it a string)" : ""))
            return
        }
        if let values = s.enumValues, !values.contains(instance) {
            var message = "must be one of \(values.map(\.description).joined(separator: ", ")), got \(shown(instance))"
            if let text = instance.stringValue,
                let hint = values.compactMap(\.stringValue).first(where: { $0.lowercased() == text.lowercased() })
            {
                message += "; did you mean \"\(hint)\"?"
            }
            report(message)
        }
        if let c = s.constValue, c != instance {
            report("must be \(c.description), got \(shown(instance))")
        }
        if done() { return }

        switch instance {
        case .integer, .number:
            guard let d = instance.doubleValue else { break }
            if let m = s.minimum, d < m { report("must be at least \(JSONValue.number(m)), got \(shownNumber(instance))") }
            if let m = s.maximum, d > m { report("must be at most \(JSONValue.number(m)), got \(shownNumber(instance))") }
            if let m = s.exclusiveMinimum, d <= m { report("must be greater than \(JSONValue.number(m)), got \(shownNumber(instance))") }
            if let m = s.exclusiveMaximum, d >= m { report("must be less than \(JSONValue.number(m)), got \(shownNumber(instance))") }
            if let m = s.multipleOf {
                let q = d / m
                if !q.isFinite || abs(q - q.rounded()) > 1e-9 { report("must be a multiple of \(JSONValue.number(m))") }
            }
        case .string(let text):
            if s.minLength != nil || s.maxLength != nil {
                let length = text.unicodeScalars.count
                if let m = s.minLength, length < m {
                    report(m == 1 ? "must not be empty" : "must be at least \(m) characters long")
                }
                if let m = s.maxLength, length > m { report("must be at most \(m) characters long, got \(length)") }
            }
            if let p = s.pattern, !p.matches(text) {
                report("\(shown(instance)) does not match the pattern \(JSONValue.string(p.source))")
            }
        case .array(let elements):
            if let m = s.minItems, elements.count < m { report("must have at least \(m) item\(m == 1 ? "" : "s")") }
            if let m = s.maxItems, elements.count > m { report("must have at most \(m) items, got \(elements.count)") }
            if s.uniqueItems {
                outer: for i in elements.indices {
                    for j in elements.indices where j > i && elements[i] == elements[j] {
                        report("items \(i) and \(j) are equal; items must be unique")
                        break outer
                    }
                }
            }
            for (i, element) in elements.enumerated() {
                if i < s.prefixItems.count {
                    validate(element, against: s.prefixItems[i], at: path.appending(index: i), into: &out)
                } else if let items = s.items {
                    validate(element, against: items, at: path.appending(index: i), into: &out)
                }
                if done() { return }
            }
            if let contains = s.contains {
                var matched = 0
                for (i, element) in elements.enumerated() where isValid(element, against: contains, at: path.appending(index: i)) {
                    matched += 1
                }
                let minimum = s.minContains ?? 1
                if matched < minimum { report("must contain at least \(minimum) matching item\(minimum == 1 ? "" : "s")") }
                if let maximum = s.maxContains, matched > maximum { report("must contain at most \(maximum) matching items") }
            }
        case .object(let members):
            for name in s.required where members[name] == nil {
                report("required field is missing", at: path.appending(name))
            }
            for (name, dependents) in s.dependentRequired.sorted(by: { $0.key < $1.key }) where members[name] != nil {
                for dependent in dependents where members[dependent] == nil {
                    report("required when \(name) is set", at: path.appending(dependent))
                }
            }
            if let m = s.minProperties, members.count < m {
                report(m == 1 ? "must not be empty" : "must have at least \(m) fields")
            }
            if let m = s.maxProperties, members.count > m { report("must have at most \(m) fields, got \(members.count)") }
            if done() { return }
            for name in members.keys.sorted() {
                guard let member = members[name] else { continue }
                let memberPath = path.appending(name)
                if let names = s.propertyNames, !isValid(.string(name), against: names, at: memberPath) {
                    report("field name \(JSONValue.string(name)) is not allowed", at: memberPath)
                }
                var evaluated = false
                if let property = s.properties[name] {
                    evaluated = true
                    validate(member, against: property, at: memberPath, into: &out)
                }
                for (pattern, schema) in s.patternProperties where pattern.matches(name) {
                    evaluated = true
                    validate(member, against: schema, at: memberPath, into: &out)
                }
                if !evaluated, let additional = s.additionalProperties {
                    if additional.kind == .alwaysInvalid {
                        var message = "unknown field"
                        if let suggestion = closestMatch(to: name, in: Array(s.properties.keys)) {
                            message += "; did you mean \"\(suggestion)\"?"
                        } else if !s.properties.isEmpty {
                            message += " (allowed: \(s.properties.keys.sorted().joined(separator: ", ")))"
                        }
                        report(message, at: memberPath)
                    } else {
                        validate(member, against: additional, at: memberPath, into: &out)
                    }
                }
                if done() { return }
            }
            for (name, schema) in s.dependentSchemas.sorted(by: { $0.key < $1.key }) where members[name] != nil {
                validate(instance, against: schema, at: path, into: &out)
            }
        default:
            break
        }
        if done() { return }

        for sub in s.allOf {
            validate(instance, against: sub, at: path, into: &out)
            if done() { return }
        }
        if !s.anyOf.isEmpty {
            applyAlternatives(s.anyOf, exactlyOne: false, instance: instance, path: path, into: &out)
        }
        if !s.oneOf.isEmpty {
            applyAlternatives(s.oneOf, exactlyOne: true, instance: instance, path: path, into: &out)
        }
        if let not = s.not, isValid(instance, against: not, at: path) {
            if let names = not.requiredOnly {
                report("\(names.joined(separator: ", ")) must not be set here")
            } else {
                report("must not match the excluded form")
            }
        }
        if let condition = s.ifSchema {
            if isValid(instance, against: condition, at: path) {
                if let then = s.thenSchema { validate(instance, against: then, at: path, into: &out) }
            } else if let otherwise = s.elseSchema {
                validate(instance, against: otherwise, at: path, into: &out)
            }
        }
    }

    private mutating func applyAlternatives(
        _ branches: [SchemaNode], exactlyOne: Bool, instance: JSONValue, path: JSONPath, into out: inout [JSONSchemaViolation]
    ) {
        var results: [[JSONSchemaViolation]] = []
        let saved = stopAtFirst
        stopAtFirst = false
        for branch in branches {
            var branchViolations: [JSONSchemaViolation] = []
            validate(instance, against: branch, at: path, into: &branchViolations)
            results.append(branchViolations)
        }
        stopAtFirst = saved
        let passing = results.filter(\.isEmpty).count
        let requiredSets = branches.compactMap(\.requiredOnly)
        let allRequiredOnly = requiredSets.count == branches.count
        let names = requiredSets.flatMap { $0 }.joined(separator: ", ")
        if passing == 0 {
            if allRequiredOnly {
                out.append(JSONSchemaViolation(path: path, message: "must set \(exactlyOne ? "exactly" : "at least") one of: \(names)"))
            } else if let best = results.min(by: { Self.rank($0, at: path) < Self.rank($1, at: path) }) {
                out.append(contentsOf: best)
            }
        } else if exactlyOne && passing > 1 {
            if allRequiredOnly {
                out.append(JSONSchemaViolation(path: path, message: "must set exactly one of: \(names), not several"))
            } else {
                out.append(JSONSchemaViolation(path: path, message: "matches \(passing) of the allowed forms; it must match exactly one"))
            }
        }
    }

    /// Orders failed alternatives by how close they came: a branch that rejected the value's
    /// type outright is a worse explanation than one that accepted the type and found a problem inside.
    static func rank(_ violations: [JSONSchemaViolation], at path: JSONPath) -> (Int, Int) {
        let typeRejected = violations.contains { $0.path == path && $0.message.hasPrefix("expected ") }
        return (typeRejected ? 1 : 0, violations.count)
    }

    static func matches(_ instance: JSONValue, types: Set<String>) -> Bool {
        switch instance {
        case .null: return types.contains("null")
        case .bool: return types.contains("boolean")
        case .integer: return types.contains("integer") || types.contains("number")
        case .number(let d): return types.contains("number") || (types.contains("integer") && d.rounded() == d)
        case .string: return types.contains("string")
        case .array: return types.contains("array")
        case .object: return types.contains("object")
        }
    }

    /// A value's kind and size, without the value.
    static func describeRedacted(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return "a string of \(s.unicodeScalars.count) characters (value not shown)"
        case .integer, .number: return "a number (value not shown)"
        case .bool: return "a boolean (value not shown)"
        default: return describe(value)
        }
    }

    /// A short rendering of a value for messages: long strings and containers are abbreviated.
    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .string(let s):
            let short = s.count > 40 ? String(s.prefix(40)) + "…" : s
            return "string " + JSONValue.string(short).serialized()
        case .array(let a): return "an array of \(a.count) item\(a.count == 1 ? "" : "s")"
        case .object: return "an object"
        case .null: return "null"
        case .bool(let b): return "boolean \(b)"
        case .integer, .number: return "number \(value)"
        }
    }
}

/// The candidate nearest to `word` by edit distance, when it is close enough to be a likely typo.
public func closestMatch(to word: String, in candidates: [String]) -> String? {
    let target = Array(word.lowercased())
    var best: (String, Int)?
    for candidate in candidates.sorted() {
        let c = Array(candidate.lowercased())
        var previous = Array(0...c.count)
        for (i, a) in target.enumerated() {
            var current = [i + 1]
            for (j, b) in c.enumerated() {
                current.append(Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (a == b ? 0 : 1)))
            }
            previous = current
        }
        let distance = previous[c.count]
        if distance <= Swift.max(1, Swift.min(3, c.count / 3)), distance < (best?.1 ?? Int.max) {
            best = (candidate, distance)
        }
    }
    return best?.0
}
