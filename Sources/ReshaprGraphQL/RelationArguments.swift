import GraphQL
import ReshaprJSON
import ReshaprTools

extension GraphQLOperation {
    /// The same operation with arguments set on nested fields of its selection: for each field
    /// name, every field of that name below the root field gets the arguments (replacing any
    /// of the same name). Used by custom tools' `__relation_<field>` entries.
    public func settingArguments(_ relations: [String: JSONObject]) throws(UnsupportedOperation) -> GraphQLOperation {
        guard !relations.isEmpty else { return self }
        let ast: Document
        do {
            ast = try parse(source: document)
        } catch {
            throw UnsupportedOperation(reason: "the operation does not parse: \(error)")
        }
        // Edits as (UTF-8 range, replacement), applied from the end so that offsets stay valid.
        var edits: [(range: Range<Int>, text: String)] = []
        var found: Set<String> = []
        var pending: [SelectionSet] = []
        for case let operation as OperationDefinition in ast.definitions {
            for case let root as Field in operation.selectionSet.selections {
                if let nested = root.selectionSet { pending.append(nested) }
            }
        }
        while let set = pending.popLast() {
            for selection in set.selections {
                if let fragment = selection as? InlineFragment {
                    pending.append(fragment.selectionSet)
                    continue
                }
                guard let field = selection as? Field else { continue }
                if let nested = field.selectionSet { pending.append(nested) }
                guard let arguments = relations[field.name.value], let nameEnd = field.name.loc?.end else { continue }
                found.insert(field.name.value)
                var written: Set<String> = []
                for argument in field.arguments {
                    guard let value = arguments[argument.name.value], let range = argument.loc.map({ $0.start..<$0.end }) else { continue }
                    edits.append((range, argument.name.value + ": " + Self.literal(value)))
                    written.insert(argument.name.value)
                }
                let added = arguments.filter { !written.contains($0.key) }.map { $0.key + ": " + Self.literal($0.value) }
                guard !added.isEmpty else { continue }
                if let last = field.arguments.last?.loc?.end {
                    edits.append((last..<last, ", " + added.joined(separator: ", ")))
                } else {
                    edits.append((nameEnd..<nameEnd, "(" + added.joined(separator: ", ") + ")"))
                }
            }
        }
        if let missing = relations.keys.sorted().first(where: { !found.contains($0) }) {
            throw UnsupportedOperation(reason: "the selection of \(field) has no field \(missing)")
        }
        var bytes = Array(document.utf8)
        for edit in edits.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
            guard edit.range.upperBound <= bytes.count else { continue }
            bytes.replaceSubrange(edit.range, with: Array(edit.text.utf8))
        }
        var copy = self
        copy.document = String(decoding: bytes, as: UTF8.self)
        return copy
    }

    /// A JSON value written as a GraphQL input literal (object keys unquoted).
    static func literal(_ value: JSONValue) -> String {
        switch value {
        case .object(let members):
            return "{" + members.map { key, member in key + ": " + literal(member) }.joined(separator: ", ") + "}"
        case .array(let elements):
            return "[" + elements.map(literal).joined(separator: ", ") + "]"
        default:
            // Strings, numbers, booleans and null are written alike in JSON and GraphQL.
            return value.serialized()
        }
    }
}
