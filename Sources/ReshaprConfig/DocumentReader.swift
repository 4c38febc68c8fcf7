import ReshaprJSON
import Yams

/// One document of a file, converted to JSON. For YAML the node tree is kept so that the line
/// of any value can be found when an error needs it, at no cost when none does.
struct ParsedDocument {
    var value: JSONValue
    var node: Node?

    /// 1-based line of the value at `path`, or of its nearest ancestor that has one.
    func line(of path: JSONPath) -> Int? {
        guard var current = node else { return nil }
        var line = current.mark?.line
        for component in path.components {
            switch (component, current) {
            case (.key(let key), .mapping(let mapping)):
                guard let next = mapping.first(where: { $0.key.string == key })?.value else { return line }
                current = next
            case (.index(let index), .sequence(let sequence)):
                guard index < sequence.count else { return line }
                current = sequence[index]
            default:
                return line
            }
            line = current.mark?.line ?? line
        }
        return line
    }
}

/// A file that is not well-formed YAML or JSON.
struct DocumentSyntaxError: Error, CustomStringConvertible {
    var description: String
    var line: Int?
}

/// Reads YAML (any number of documents) and JSON text into `JSONValue`s.
enum DocumentReader {
    /// Largest number of values a YAML file may expand to, against alias ("billion laughs") bombs.
    /// Without aliases a file cannot hold more values than it has bytes, so real files never reach it.
    static func maxValues(forBytes count: Int) -> Int {
        max(100_000, count)
    }

    /// Parses `bytes`; JSON is recognised by its first character, anything else is read as YAML.
    /// Text that starts like JSON but is not (a YAML flow mapping, `{type: integer}`) is read as
    /// YAML, and fails with the JSON parser's message when it is not YAML either.
    static func parse(_ bytes: [UInt8], keepNodes: Bool) throws(DocumentSyntaxError) -> [ParsedDocument] {
        var start = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }
        while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
        if start < bytes.count, bytes[start] == UInt8(ascii: "{") || bytes[start] == UInt8(ascii: "[") {
            do {
                return [ParsedDocument(value: try JSONParser.parse(bytes), node: nil)]
            } catch {
                let jsonError = DocumentSyntaxError(description: error.description, line: error.line)
                do {
                    return try parseYAML(bytes, keepNodes: keepNodes)
                } catch _ {
                    throw jsonError
                }
            }
        }
        return try parseYAML(bytes, keepNodes: keepNodes)
    }

    static func parseYAML(_ bytes: [UInt8], keepNodes: Bool) throws(DocumentSyntaxError) -> [ParsedDocument] {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DocumentSyntaxError(description: "file is not valid UTF-8 text", line: nil)
        }
        var documents: [ParsedDocument] = []
        do {
            var converter = YAMLConverter(limit: maxValues(forBytes: bytes.count))
            var sequence = try Yams.compose_all(yaml: text)
            while let node = sequence.next() {
                documents.append(ParsedDocument(value: try converter.convert(node), node: keepNodes ? node : nil))
            }
            // The sequence ends at the first syntax error and keeps it rather than throwing.
            if let error = sequence.error { throw error }
        } catch let error as YamlError {
            throw Self.describe(error)
        } catch let error as DocumentSyntaxError {
            throw error
        } catch {
            throw DocumentSyntaxError(description: "malformed YAML: \(error)", line: nil)
        }
        return documents
    }

    private static func describe(_ error: YamlError) -> DocumentSyntaxError {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var text = "malformed YAML at line \(mark.line), column \(mark.column): \(problem)"
            if let context { text += " (\(context.text) at line \(context.mark.line))" }
            return DocumentSyntaxError(description: text, line: mark.line)
        case .reader(let problem, let offset, _, _):
            return DocumentSyntaxError(description: "unreadable YAML text: \(problem)\(offset.map { " at byte \($0)" } ?? "")", line: nil)
        default:
            return DocumentSyntaxError(description: "malformed YAML: \(error)", line: nil)
        }
    }
}

/// Converts a YAML node tree into JSON values using the YAML 1.2 core schema's scalar types.
private struct YAMLConverter {
    /// Most values the file may expand to; aliases count every time they are expanded.
    let limit: Int
    private var converted = 0

    init(limit: Int) {
        self.limit = limit
    }

    mutating func convert(_ node: Node) throws(DocumentSyntaxError) -> JSONValue {
        converted += 1
        if converted > limit {
            throw DocumentSyntaxError(description: "YAML aliases expand to more than \(limit) values", line: node.mark?.line)
        }
        switch node {
        case .scalar(let scalar):
            return Self.scalarValue(scalar)
        case .sequence(let sequence):
            var array: [JSONValue] = []
            array.reserveCapacity(sequence.count)
            for element in sequence { array.append(try convert(element)) }
            return .array(array)
        case .mapping(let mapping):
            var object: JSONObject = [:]
            var merged: JSONObject = [:]
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let keyScalar) = keyNode else {
                    throw DocumentSyntaxError(description: "mapping keys must be plain values", line: keyNode.mark?.line)
                }
                if keyScalar.string == "<<" && keyScalar.style == .plain {
                    try merge(valueNode, into: &merged)
                    continue
                }
                let key = keyScalar.string
                if object.updateValue(try convert(valueNode), forKey: key) != nil {
                    throw DocumentSyntaxError(description: "duplicate key \"\(key)\"", line: keyNode.mark?.line)
                }
            }
            for (key, value) in merged where object[key] == nil { object[key] = value }
            return .object(object)
        case .alias:
            throw DocumentSyntaxError(description: "unresolved YAML alias", line: node.mark?.line)
        }
    }

    /// YAML merge keys (`<<: *defaults`): keys of the merged mappings that the mapping does not set itself.
    private mutating func merge(_ node: Node, into merged: inout JSONObject) throws(DocumentSyntaxError) {
        let sources: [Node]
        if case .sequence(let sequence) = node { sources = Array(sequence) } else { sources = [node] }
        for source in sources {
            guard case .object(let members) = try convert(source) else {
                throw DocumentSyntaxError(description: "merge key '<<' must refer to a mapping", line: source.mark?.line)
            }
            for (key, value) in members where merged[key] == nil { merged[key] = value }
        }
    }

    static func scalarValue(_ scalar: Node.Scalar) -> JSONValue {
        let text = scalar.string
        var tag = scalar.tag.rawValue
        if tag == Tag.Name.implicit.rawValue {
            tag = Resolver.default.resolveTag(of: .scalar(scalar)).rawValue
        }
        switch tag {
        case Tag.Name.null.rawValue:
            return .null
        case Tag.Name.bool.rawValue:
            return Bool.construct(from: scalar).map(JSONValue.bool) ?? .string(text)
        case Tag.Name.int.rawValue:
            if let i = Int.construct(from: scalar) { return .integer(i) }
            return Double.construct(from: scalar).map(JSONValue.number) ?? .string(text)
        case Tag.Name.float.rawValue:
            guard let d = Double.construct(from: scalar), d.isFinite else { return .string(text) }
            return .number(d)
        default:
            return .string(text)
        }
    }
}
