import ReshaprJSON

/// A problem found in the configuration directory, located as precisely as the loader can:
/// file (relative to the root), document index in that file (1-based), field path, and line.
///
/// Printed as `plans/petstore.yaml#1 spec.service.version: service petstore 1.1 not found (line 8)`.
public struct ConfigIssue: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case error
        case warning
    }

    public var severity: Severity
    /// Path of the file relative to the configuration root; `nil` for the directory as a whole.
    public var file: String?
    /// 1-based index of the YAML document within the file.
    public var document: Int?
    /// 1-based line of the offending value, when known.
    public var line: Int?
    public var path: JSONPath
    public var message: String

    public init(
        severity: Severity = .error, file: String?, document: Int? = nil, line: Int? = nil, path: JSONPath = .root,
        message: String
    ) {
        self.severity = severity
        self.file = file
        self.document = document
        self.line = line
        self.path = path
        self.message = message
    }

    /// `file#document`, the prefix of the printed form.
    public var location: String {
        guard let file else { return "(configuration directory)" }
        guard let document else { return file }
        return "\(file)#\(document)"
    }

    public var description: String {
        var text = location
        text += path.isRoot ? ": " : " \(path): "
        text += message
        if let line { text += " (line \(line))" }
        return text
    }

    public var json: JSONValue {
        var object: JSONObject = [
            "severity": .string(severity.rawValue),
            "message": .string(message),
            "text": .string(description),
        ]
        if let file { object["file"] = .string(file) }
        if let document { object["document"] = .integer(document) }
        if let line { object["line"] = .integer(line) }
        if !path.isRoot { object["field"] = .string(path.description) }
        return .object(object)
    }
}

/// Where a resource was read from.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// Path relative to the configuration root.
    public var file: String
    /// 1-based document index.
    public var document: Int

    public var description: String { "\(file)#\(document)" }
}
