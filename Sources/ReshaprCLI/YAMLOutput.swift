import ReshaprJSON
import Yams

/// JSON values printed as YAML (`-o yaml`). Strings stay plain only where YAML would read them
/// back as the same string; others are double-quoted.
enum YAMLOutput {
    static func text(_ value: JSONValue) -> String {
        (try? Yams.serialize(node: node(value), indent: 2, allowUnicode: true)) ?? value.serialized(pretty: true) + "\n"
    }

    static func node(_ value: JSONValue) -> Node {
        switch value {
        case .null: return .scalar(Node.Scalar("null", .implicit, .plain))
        case .bool(let flag): return .scalar(Node.Scalar(flag ? "true" : "false", .implicit, .plain))
        case .integer, .number: return .scalar(Node.Scalar(value.serialized(), .implicit, .plain))
        case .string(let text): return .scalar(Node.Scalar(text, .implicit, isPlain(text) ? .plain : .doubleQuoted))
        case .array(let items): return .sequence(Node.Sequence(items.map(node)))
        case .object(let members): return .mapping(Node.Mapping(members.map { (node(.string($0.key)), node($0.value)) }))
        }
    }

    private static let reserved: Set<String> = ["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"]

    static func isPlain(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last,
            first.properties.isAlphabetic || first == "/", last != " ", last != ":",
            !reserved.contains(text.lowercased()), Double(text) == nil, !text.contains(": "), !text.contains(" #")
        else { return false }
        return text.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || " _./:@-".unicodeScalars.contains($0) }
    }
}
