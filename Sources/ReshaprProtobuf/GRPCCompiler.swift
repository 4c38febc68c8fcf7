import ReshaprJSON
import ReshaprTools

/// What a gRPC tool calls: one unary method.
public struct GRPCMethodBinding: Sendable, Hashable {
    /// `package.Service`.
    public var service: String
    public var method: String
    public var inputType: String
    public var outputType: String
    /// What mock mode answers: the output message with sample values.
    public var mockResponse: JSONValue
}

/// Compiles the services of a descriptor set into MCP tools, one per unary method. The input
/// schema follows the proto3 JSON mapping of the request message; streaming methods are skipped
/// with the reason.
public enum GRPCCompiler {
    public static func compile(_ pool: DescriptorPool, rules: ToolSelectionRules = ToolSelectionRules()) -> ToolCatalog<GRPCMethodBinding> {
        let schemas = ProtoSchema(pool: pool)
        let candidates = pool.methods.map { method in
            let shortService = method.service.split(separator: ".").last.map(String.init) ?? method.service
            return ToolCandidate<GRPCMethodBinding>(
                selectors: [method.name, "\(method.service)/\(method.name)", "\(shortService)/\(method.name)"],
                defaultName: ToolName.sanitize(method.name), signature: "\(method.service)/\(method.name)"
            ) { () throws(UnsupportedOperation) in
                guard !method.clientStreaming, !method.serverStreaming else {
                    let kind = method.clientStreaming && method.serverStreaming ? "bidirectional" : method.clientStreaming ? "client" : "server"
                    throw UnsupportedOperation(reason: "\(kind)-streaming methods are not exposed as tools; only unary methods are")
                }
                let definition = ToolDefinition(
                    name: method.name,
                    description: method.comment ?? "Calls \(method.service)/\(method.name) (gRPC): \(method.inputType) -> \(method.outputType).",
                    inputSchema: schemas.schema(forMessage: method.inputType, seen: [], depth: 0),
                    outputSchema: schemas.schema(forMessage: method.outputType, seen: [], depth: 0),
                    annotations: ToolAnnotations(title: "\(shortService).\(method.name)", openWorldHint: true))
                return CompiledTool(
                    definition: definition,
                    binding: GRPCMethodBinding(
                        service: method.service, method: method.name, inputType: method.inputType, outputType: method.outputType,
                        mockResponse: schemas.sample(message: method.outputType, depth: 0)))
            }
        }
        return ToolCatalog.select(candidates, rules: rules)
    }
}

/// JSON Schemas and sample values of messages, in the proto3 JSON mapping.
struct ProtoSchema {
    let pool: DescriptorPool
    static let maxDepth = 8

    func schema(forMessage typeName: String, seen: Set<String>, depth: Int) -> JSONValue {
        if let wellKnown = Self.wellKnownSchema(typeName) { return wellKnown }
        guard let message = pool.messages[typeName] else { return [:] }
        guard !seen.contains(typeName), depth < Self.maxDepth else { return ["type": "object", "description": .string("\(typeName) (recursive)")] }
        var properties: JSONObject = [:]
        for field in message.fields {
            properties[field.jsonName] = schema(forField: field, seen: seen.union([typeName]), depth: depth + 1)
        }
        return ["type": "object", "properties": .object(properties), "additionalProperties": false, "description": .string(typeName)]
    }

    func schema(forField field: ProtoField, seen: Set<String>, depth: Int) -> JSONValue {
        if field.repeated, let entry = pool.messages[field.typeName], entry.isMapEntry, let value = entry.field(number: 2) {
            return ["type": "object", "additionalProperties": single(value, seen: seen, depth: depth)]
        }
        let item = single(field, seen: seen, depth: depth)
        return field.repeated ? ["type": "array", "items": item] : item
    }

    func single(_ field: ProtoField, seen: Set<String>, depth: Int) -> JSONValue {
        switch field.type {
        case .double, .float: return ["type": "number"]
        case .int32, .sint32, .sfixed32: return ["type": "integer", "minimum": .integer(Int(Int32.min)), "maximum": .integer(Int(Int32.max))]
        case .uint32, .fixed32: return ["type": "integer", "minimum": 0, "maximum": .integer(Int(UInt32.max))]
        case .int64, .sint64, .sfixed64: return ["type": ["string", "integer"], "pattern": "^-?[0-9]+$", "description": "64-bit integer (a string in JSON)"]
        case .uint64, .fixed64: return ["type": ["string", "integer"], "pattern": "^[0-9]+$", "description": "64-bit unsigned integer (a string in JSON)"]
        case .bool: return ["type": "boolean"]
        case .string: return ["type": "string"]
        case .bytes: return ["type": "string", "contentEncoding": "base64"]
        case .enumeration:
            let names = pool.enums[field.typeName]?.values.map { JSONValue.string($0.name) } ?? []
            return ["type": "string", "enum": .array(names)]
        case .message, .group:
            return schema(forMessage: field.typeName, seen: seen, depth: depth)
        }
    }

    static func wellKnownSchema(_ typeName: String) -> JSONValue? {
        switch typeName {
        case "google.protobuf.Timestamp": return ["type": "string", "format": "date-time", "description": "RFC 3339 timestamp"]
        case "google.protobuf.Duration": return ["type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?s$", "description": "duration in seconds, e.g. 1.5s"]
        case "google.protobuf.Struct": return ["type": "object"]
        case "google.protobuf.Value": return [:]
        case "google.protobuf.ListValue": return ["type": "array"]
        case "google.protobuf.Empty": return ["type": "object", "additionalProperties": false]
        case "google.protobuf.FieldMask": return ["type": "string", "description": "comma-separated field paths"]
        case "google.protobuf.DoubleValue", "google.protobuf.FloatValue": return ["type": ["number", "null"]]
        case "google.protobuf.Int32Value", "google.protobuf.UInt32Value": return ["type": ["integer", "null"]]
        case "google.protobuf.Int64Value", "google.protobuf.UInt64Value": return ["type": ["string", "integer", "null"]]
        case "google.protobuf.BoolValue": return ["type": ["boolean", "null"]]
        case "google.protobuf.StringValue", "google.protobuf.BytesValue": return ["type": ["string", "null"]]
        default: return nil
        }
    }

    func sample(message typeName: String, depth: Int) -> JSONValue {
        switch typeName {
        case "google.protobuf.Timestamp": return "2026-01-01T00:00:00Z"
        case "google.protobuf.Duration": return "1s"
        case "google.protobuf.FieldMask": return ""
        default: break
        }
        if let wrapped = Transcoder.wrappers[typeName] {
            return wrapped == .string || wrapped == .bytes ? "string" : wrapped == .bool ? true : 1
        }
        guard let message = pool.messages[typeName], depth < 3 else { return .object([:]) }
        var object: JSONObject = [:]
        for field in message.fields {
            let value: JSONValue
            switch field.type {
            case .double, .float: value = 1.5
            case .int32, .sint32, .sfixed32, .uint32, .fixed32: value = 1
            case .int64, .sint64, .sfixed64, .uint64, .fixed64: value = "1"
            case .bool: value = true
            case .string: value = "string"
            case .bytes: value = ""
            case .enumeration:
                // Proto3's first value is the "unspecified" zero: a real one reads better.
                let values = pool.enums[field.typeName]?.values ?? []
                value = (values.first { $0.number != 0 } ?? values.first).map { .string($0.name) } ?? 0
            case .message, .group:
                if let entry = pool.messages[field.typeName], entry.isMapEntry { value = .object([:]) } else { value = sample(message: field.typeName, depth: depth + 1) }
            }
            object[field.jsonName] = field.repeated && !(pool.messages[field.typeName]?.isMapEntry ?? false) ? [value] : value
        }
        return .object(object)
    }
}
