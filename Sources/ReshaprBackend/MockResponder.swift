import ReshaprJSON
import ReshaprOpenAPI

/// Answers an operation the way its spec says it would: the documented example of the first
/// success response, else a value generated from its schema.
public enum MockResponder {
    public static func respond(to operation: HTTPOperation) -> BackendResponse {
        guard let response = operation.responses.first(where: \.isSuccess) ?? operation.responses.first(where: { $0.status == "default" }) else {
            return BackendResponse(status: 204, headers: [], body: [])
        }
        let status = Int(response.status) ?? 200
        guard let mediaType = response.mediaType else {
            return BackendResponse(status: status == 200 && operation.method == "DELETE" ? 204 : status, headers: [], body: [])
        }
        let value = response.example ?? response.schema.map { generate($0, depth: 0) } ?? .null
        if mediaType.contains("json") {
            return BackendResponse(status: status, headers: [("Content-Type", mediaType)], body: Array(value.serialized().utf8))
        }
        return BackendResponse(status: status, headers: [("Content-Type", mediaType)], body: Array((value.stringValue ?? value.serialized()).utf8))
    }

    /// A plausible value for a schema: its example, default, first enum value, or a typed placeholder.
    static func generate(_ schema: JSONValue, depth: Int) -> JSONValue {
        if let example = schema["examples"]?.arrayValue?.first { return example }
        if let example = schema["example"] { return example }
        if let value = schema["default"] { return value }
        if let value = schema["const"] { return value }
        if let first = schema["enum"]?.arrayValue?.first { return first }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let branches = schema[key]?.arrayValue, !branches.isEmpty {
                if key != "allOf" { return generate(branches[0], depth: depth + 1) }
                var merged: JSONObject = [:]
                for branch in branches {
                    if case .object(let members) = generate(branch, depth: depth + 1) { merged.merge(members) { a, _ in a } }
                }
                return .object(merged)
            }
        }
        let type = schema["type"]?.stringValue ?? schema["type"]?.arrayValue?.first { $0 != "null" }?.stringValue
            ?? (schema["properties"] != nil ? "object" : nil)
        switch type {
        case "object":
            guard depth < 6 else { return .object([:]) }
            var object: JSONObject = [:]
            for (name, property) in schema["properties"]?.objectValue ?? [:] {
                object[name] = generate(property, depth: depth + 1)
            }
            return .object(object)
        case "array":
            guard depth < 6, let items = schema["items"] else { return .array([]) }
            return .array([generate(items, depth: depth + 1)])
        case "integer":
            return .integer(schema["minimum"]?.intValue ?? 1)
        case "number":
            return .number(schema["minimum"]?.doubleValue ?? 1.5)
        case "boolean":
            return .bool(true)
        case "string":
            switch schema["format"]?.stringValue {
            case "date-time": return "2026-01-01T00:00:00Z"
            case "date": return "2026-01-01"
            case "email": return "user@example.com"
            case "uuid": return "00000000-0000-4000-8000-000000000000"
            case "uri", "url": return "https://example.com/"
            default: return "string"
            }
        default:
            return .null
        }
    }
}
