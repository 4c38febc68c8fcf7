import ReshaprJSON
import Yams

/// One document of a file, converted to JSON, with the line of every value when the file was YAML.
struct ParsedDocument {
    var value: JSONValue
    /// 1-based line of each value, by path (YAML only, and only when asked for).
    var lines: [JSONPath: Int]

    func line(of path: JSONPath) -> Int? {
        var current = path
        while true {
            if let line = lines[current] { return line }
            guard !current.components.isEmpty else { return nil }
            current = JSONPath(Array(current.components.dropLast()))
        }
    }
}

/// A file that is not well-formed YAML or JSON.
struct DocumentSyntaxError: Error, CustomStringConvertible {
    var description: String
    var line: Int?
}

/// Reads YAML (any number of documents) and JSON text into `JSONValue`s.
enum DocumentReader {
    /// Largest number of values one file may expand to; guards against alias ("billion laughs") bombs.
    static let maxValues = 2_000_000

    /// Parses `bytes`; JSON is recognised by its first character, anything else is read as YAML.
    static func parse(_ bytes: [UInt8], recordLines: Bool) throws(DocumentSyntaxError) -> [ParsedDocument] {
        var start = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }
        while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
        if start < bytes.count, bytes[start] == UInt8(ascii: "{") || bytes[start] == UInt8(ascii: "[") {
            do {
                return [ParsedDocument(value: try JSONParser.parse(bytes), lines: [:])]
            } catch {
                throw DocumentSyntaxError(description: error.description, line: error.line)
            }
        }
        return try parseYAML(bytes, recordLines: recordLines)
    }

    static func parseYAML(_ bytes: [UInt8], recordLines: Bool) throws(DocumentSyntaxError) -> [ParsedDocument] {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DocumentSyntaxError(description: "file is not valid UTF-8 text", line: nil)
        }
        var documents: [ParsedDocument] = []
        do {
            var budget = maxValues
            for node in try Yams.compose_all(yaml: text) {
                var converter = YAMLConverter(recordLines: recordLines, budget: budget)
                let value = try converter.convert(node, at: .root)
                budget = converter.budget
                documents.append(ParsedDocument(value: value, lines: converter.lines))
            }
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
    let recordLines: Bool
    var budget: Int
    var lines: [JSONPath: Int] = [:]

    init(recordLines: Bool, budget: Int) {
        self.recordLines = recordLines
        self.budget = budget
    }

    mutating func convert(_ node: Node, at path: JSONPath) throws(DocumentSyntaxError) -> JSONValue {
        budget -= 1
        if budget < 0 {
            throw DocumentSyntaxError(
                description: "document expands to more than \(DocumentReader.maxValues) values (check for alias loops)", line: nil)
        }
        if recordLines, let mark = node.mark { lines[path] = mark.line }
        switch node {
        case .scalar(let scalar):
            return Self.scalarValue(scalar)
        case .sequence(let sequence):
            var array: [JSONValue] = []
            array.reserveCapacity(sequence.count)
            for (i, element) in sequence.enumerated() {
                array.append(try convert(element, at: path.appending(index: i)))
            }
            return .array(array)
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            var merged: [String: JSONValue] = [:]
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let keyScalar) = keyNode else {
                    throw DocumentSyntaxError(
                        description: "mapping key at \(path.isRoot ? "top level" : path.description) is not a plain value",
                        line: keyNode.mark?.line)
                }
                if (keyScalar.string == "<<" && keyScalar.style == .plain) {
                    try merge(valueNode, into: &merged, at: path)
                    continue
                }
                let key = keyScalar.string
                let value = try convert(valueNode, at: path.appending(key))
                if object.updateValue(value, forKey: key) != nil {
                    throw DocumentSyntaxError(
                        description: "duplicate key \"\(key)\" in \(path.isRoot ? "the document" : path.description)",
                        line: keyNode.mark?.line)
                }
            }
            for (key, value) in merged where object[key] == nil { object[key] = value }
            return .object(object)
        case .alias:
            throw DocumentSyntaxError(description: "unresolved YAML alias", line: node.mark?.line)
        }
    }

    private mutating func merge(_ node: Node, into merged: inout [String: JSONValue], at path: JSONPath) throws(DocumentSyntaxError) {
        let sources: [Node]
        if case .sequence(let sequence) = node { sources = Array(sequence) } else { sources = [node] }
        for source in sources {
            guard case .object(let members) = try convert(source, at: path) else {
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
