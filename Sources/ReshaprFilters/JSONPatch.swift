import ReshaprJSON

/// One RFC 6902 operation.
public enum JSONPatchOperation: Sendable, Hashable {
    case add(path: JSONPointer, value: JSONValue)
    case remove(path: JSONPointer)
    case replace(path: JSONPointer, value: JSONValue)
    case move(from: JSONPointer, path: JSONPointer)
    case copy(from: JSONPointer, path: JSONPointer)
    case test(path: JSONPointer, value: JSONValue)

    public var name: String {
        switch self {
        case .add: return "add"
        case .remove: return "remove"
        case .replace: return "replace"
        case .move: return "move"
        case .copy: return "copy"
        case .test: return "test"
        }
    }

    public var path: JSONPointer {
        switch self {
        case .add(let path, _), .remove(let path), .replace(let path, _), .move(_, let path), .copy(_, let path), .test(let path, _): return path
        }
    }

    /// Reads one operation object (`{op, path, value, from}`); `at` locates it in messages.
    public init(_ spec: JSONValue, at field: JSONPath) throws(OutputFilterError) {
        guard case .object(let members) = spec else { throw OutputFilterError(field, "must be an object with 'op' and 'path'") }
        guard let op = members["op"]?.stringValue else { throw OutputFilterError(field.appending("op"), "is required: add, remove, replace, move, copy or test") }
        func pointer(_ key: String) throws(OutputFilterError) -> JSONPointer {
            guard let text = members[key]?.stringValue else { throw OutputFilterError(field.appending(key), "is required for '\(op)' and must be a JSON Pointer") }
            return try JSONPointer.checked(text, at: field.appending(key))
        }
        func value() throws(OutputFilterError) -> JSONValue {
            guard let value = members["value"] else { throw OutputFilterError(field.appending("value"), "is required for '\(op)'") }
            return value
        }
        switch op {
        case "add": self = .add(path: try pointer("path"), value: try value())
        case "remove": self = .remove(path: try pointer("path"))
        case "replace": self = .replace(path: try pointer("path"), value: try value())
        case "move":
            let from = try pointer("from")
            let path = try pointer("path")
            if path.tokens.count > from.tokens.count, Array(path.tokens.prefix(from.tokens.count)) == from.tokens {
                throw OutputFilterError(field.appending("path"), "cannot move a value into one of its own children (\(from) into \(path))")
            }
            self = .move(from: from, path: path)
        case "copy": self = .copy(from: try pointer("from"), path: try pointer("path"))
        case "test": self = .test(path: try pointer("path"), value: try value())
        default: throw OutputFilterError(field.appending("op"), "'\(op)' is not an RFC 6902 operation (add, remove, replace, move, copy, test)")
        }
    }

    /// Why an operation did not apply to a document.
    enum Failure: Error {
        case testFailed
        case noTarget
    }

    /// Applies the operation to `document` in place. On failure the document is unchanged.
    func apply(to document: inout JSONValue) throws(Failure) {
        switch self {
        case .add(let path, let value):
            try Self.add(value, at: path, in: &document)
        case .remove(let path):
            _ = try Self.remove(path, from: &document)
        case .replace(let path, let value):
            guard path.resolve(in: document) != nil else { throw .noTarget }
            guard let last = path.tokens.last else {
                document = value
                return
            }
            // In place, so that an object member keeps its position.
            try Self.withContainer(of: path.tokens.dropLast(), in: &document) { container throws(Failure) in
                switch container {
                case .object(var members):
                    container = .null
                    members[last] = value
                    container = .object(members)
                case .array(var elements):
                    guard let index = JSONPointer.index(last), index < elements.count else { throw .noTarget }
                    container = .null
                    elements[index] = value
                    container = .array(elements)
                default:
                    throw .noTarget
                }
            }
        case .move(let from, let path):
            guard let value = from.resolve(in: document) else { throw .noTarget }
            var copy = document
            _ = try Self.remove(from, from: &copy)
            try Self.add(value, at: path, in: &copy)
            document = copy
        case .copy(let from, let path):
            guard let value = from.resolve(in: document) else { throw .noTarget }
            try Self.add(value, at: path, in: &document)
        case .test(let path, let value):
            guard path.resolve(in: document) == value else { throw .testFailed }
        }
    }

    static func add(_ value: JSONValue, at path: JSONPointer, in document: inout JSONValue) throws(Failure) {
        guard let last = path.tokens.last else {
            document = value
            return
        }
        try withContainer(of: path.tokens.dropLast(), in: &document) { container throws(Failure) in
            switch container {
            case .object(var members):
                container = .null
                members[last] = value
                container = .object(members)
            case .array(var elements):
                let index = last == "-" ? elements.count : JSONPointer.index(last)
                guard let index, index <= elements.count else { throw .noTarget }
                container = .null
                elements.insert(value, at: index)
                container = .array(elements)
            default:
                throw .noTarget
            }
        }
    }

    static func remove(_ path: JSONPointer, from document: inout JSONValue) throws(Failure) -> JSONValue {
        guard let last = path.tokens.last else { throw .noTarget }
        var removed = JSONValue.null
        try withContainer(of: path.tokens.dropLast(), in: &document) { container throws(Failure) in
            switch container {
            case .object(var members):
                guard let value = members[last] else { throw .noTarget }
                container = .null
                members.removeValue(forKey: last)
                removed = value
                container = .object(members)
            case .array(var elements):
                guard let index = JSONPointer.index(last), index < elements.count else { throw .noTarget }
                container = .null
                removed = elements.remove(at: index)
                container = .array(elements)
            default:
                throw .noTarget
            }
        }
        return removed
    }

    /// Runs `body` on the value at `tokens`, in place. Recursion is bounded by the pointer's
    /// length, which ``JSONPointer/checked(_:at:)`` limits.
    static func withContainer(
        of tokens: ArraySlice<String>, in value: inout JSONValue, _ body: (inout JSONValue) throws(Failure) -> Void
    ) throws(Failure) {
        guard let first = tokens.first else {
            try body(&value)
            return
        }
        switch value {
        case .object(var members):
            guard var child = members[first] else { throw .noTarget }
            // Take the child out so that it is mutated without a copy.
            value = .null
            members[first] = .null
            defer {
                members[first] = child
                value = .object(members)
            }
            try withContainer(of: tokens.dropFirst(), in: &child, body)
        case .array(var elements):
            guard let index = JSONPointer.index(first), index < elements.count else { throw .noTarget }
            var child = elements[index]
            value = .null
            elements[index] = .null
            defer {
                elements[index] = child
                value = .array(elements)
            }
            try withContainer(of: tokens.dropFirst(), in: &child, body)
        default:
            throw .noTarget
        }
    }
}

extension JSONPointer {
    /// Pointers of a filter go at most this deep, which bounds the recursion that follows them.
    public static let maxTokens = 64

    /// Parses a pointer from a filter, naming `field` when it is invalid or too deep.
    static func checked(_ text: String, at field: JSONPath) throws(OutputFilterError) -> JSONPointer {
        let pointer: JSONPointer
        do {
            pointer = try JSONPointer(text)
        } catch {
            throw OutputFilterError(field, error.description)
        }
        guard pointer.tokens.count <= maxTokens else { throw OutputFilterError(field, "a pointer may go at most \(maxTokens) levels deep") }
        return pointer
    }
}
