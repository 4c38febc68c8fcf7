import OrderedCollections
import ReshaprJSON

/// What a `ToolsOutputFilters` entry (or a plan's `tools.overrides.<tool>.output`) does to a
/// tool's canonical JSON answer, in this order: keep only the `jsonRetain` branches, apply the
/// `jsonPatches`, and with `convertToToon` give the result as TOON text.
public struct OutputFilter: Sendable, Hashable {
    /// The branches kept; `nil` keeps the whole document.
    public let retain: [JSONPointer]?
    public let patches: [JSONPatchOperation]
    public let convertToToon: Bool
    private let retainTree: RetainNode?

    /// Operations one filter may hold.
    public static let maxPatches = 1000

    public init(retain: [JSONPointer]? = nil, patches: [JSONPatchOperation] = [], convertToToon: Bool = false) {
        self.retain = retain
        self.patches = patches
        self.convertToToon = convertToToon
        retainTree = retain.map(RetainNode.init(pointers:))
    }

    /// Reads `{jsonRetain, jsonPatches, convertToToon}`; errors name the field, relative to `field`.
    public init(spec: JSONValue, at field: JSONPath = .root) throws(OutputFilterError) {
        guard case .object(let members) = spec else { throw OutputFilterError(field, "must be an object with jsonRetain, jsonPatches or convertToToon") }
        for key in members.keys where !["jsonRetain", "jsonPatches", "convertToToon"].contains(key) {
            throw OutputFilterError(field.appending(key), "is not a filter field (jsonRetain, jsonPatches, convertToToon)")
        }
        var retain: [JSONPointer]?
        if let raw = members["jsonRetain"] {
            guard case .array(let entries) = raw, !entries.isEmpty else {
                throw OutputFilterError(field.appending("jsonRetain"), "must be a non-empty list of JSON Pointers")
            }
            var pointers: [JSONPointer] = []
            for (index, entry) in entries.enumerated() {
                let at = field.appending("jsonRetain").appending(index: index)
                guard let text = entry.stringValue else { throw OutputFilterError(at, "must be a JSON Pointer string such as \"/name\"") }
                pointers.append(try JSONPointer.checked(text, at: at))
            }
            retain = pointers
        }
        var patches: [JSONPatchOperation] = []
        if let raw = members["jsonPatches"] {
            guard case .array(let entries) = raw else { throw OutputFilterError(field.appending("jsonPatches"), "must be a list of RFC 6902 operations") }
            guard entries.count <= Self.maxPatches else { throw OutputFilterError(field.appending("jsonPatches"), "holds \(entries.count) operations; at most \(Self.maxPatches)") }
            for (index, entry) in entries.enumerated() {
                patches.append(try JSONPatchOperation(entry, at: field.appending("jsonPatches").appending(index: index)))
            }
        }
        var toon = false
        if let raw = members["convertToToon"] {
            guard let flag = raw.boolValue else { throw OutputFilterError(field.appending("convertToToon"), "must be true or false") }
            toon = flag
        }
        self.init(retain: retain, patches: patches, convertToToon: toon)
    }

    /// What a filter made of one answer.
    public struct Outcome: Sendable {
        public var document: JSONValue
        /// The index of the `test` operation that failed and stopped the patches there.
        public var stoppedAt: Int?
        /// Operations that found nothing to act on (a missing path) and were passed over.
        public var skipped: [Int]
    }

    /// Applies the filter to a canonical JSON answer.
    ///
    /// A failed `test` stops the sequence: the answer is the document as the operations before
    /// it left it, so that `test` works as a guard ("go on only if"). Any other operation that
    /// finds nothing to act on in this answer (an optional field absent, an index past the end)
    /// is passed over and the sequence goes on; RFC 6902 would fail the whole patch, which would
    /// turn a missing optional field into a failed tool call.
    public func apply(to answer: JSONValue) -> Outcome {
        var document = answer
        if let retainTree { document = retainTree.apply(to: answer) ?? Self.emptyContainer(like: answer) }
        var skipped: [Int] = []
        for (index, operation) in patches.enumerated() {
            do {
                try operation.apply(to: &document)
            } catch .testFailed {
                return Outcome(document: document, stoppedAt: index, skipped: skipped)
            } catch {
                skipped.append(index)
            }
        }
        return Outcome(document: document, stoppedAt: nil, skipped: skipped)
    }

    static func emptyContainer(like value: JSONValue) -> JSONValue {
        if case .array = value { return .array([]) }
        return .emptyObject
    }

    /// The `outputSchema` of the filtered tool: `nil` when the result is TOON text, when the
    /// filtered answer may not be an object, or when the schema cannot be followed through the
    /// filter (combinators and references on the way). Then no schema is advertised rather than
    /// one the answers might contradict.
    public func outputSchema(from schema: JSONValue?) -> JSONValue? {
        guard !convertToToon, let schema else { return nil }
        var current = schema
        if let retainTree {
            guard let retained = SchemaShaper.retain(schema, retainTree) else { return nil }
            current = retained
        }
        // Every place where the sequence may stop gives a possible shape: before each `test`, and the end.
        var shapes: [JSONValue] = []
        for operation in patches {
            if case .test = operation { shapes.append(current) }
            guard let next = SchemaShaper.apply(operation, to: current) else { return nil }
            current = next
        }
        shapes.append(current)
        var union = shapes[0]
        for shape in shapes.dropFirst() { union = SchemaShaper.union(union, shape) }
        guard SchemaShaper.describesObjectsOnly(union) else { return nil }
        return union
    }
}

/// A filter that cannot be read, with the field at fault.
public struct OutputFilterError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: JSONPath
    public var message: String

    public init(_ path: JSONPath, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isRoot ? message : "\(path): \(message)" }
}

/// The `jsonRetain` pointers as a tree: a node is kept whole when a pointer ends there.
struct RetainNode: Sendable, Hashable {
    var whole = false
    var children: OrderedDictionary<String, RetainNode> = [:]

    init() {}

    init(pointers: [JSONPointer]) {
        for pointer in pointers { insert(pointer.tokens[...]) }
    }

    private mutating func insert(_ tokens: ArraySlice<String>) {
        guard let first = tokens.first else {
            whole = true
            return
        }
        children[first, default: RetainNode()].insert(tokens.dropFirst())
    }

    /// The kept part of `value`, or `nil` when no pointer resolves inside it. Objects keep
    /// their members' order and arrays their elements' order, without the elements not named.
    func apply(to value: JSONValue) -> JSONValue? {
        if whole { return value }
        switch value {
        case .object(let members):
            var kept = JSONObject()
            for (key, member) in members {
                if let node = children[key], let part = node.apply(to: member) { kept[key] = part }
            }
            if kept.isEmpty { return nil }
            return .object(kept)
        case .array(let elements):
            var kept: [JSONValue] = []
            for (index, element) in elements.enumerated() {
                if let node = children[String(index)], let part = node.apply(to: element) { kept.append(part) }
            }
            if kept.isEmpty { return nil }
            return .array(kept)
        default:
            return nil
        }
    }

    /// The children named by array indexes, merged: what `items` must describe.
    var indexedChildren: RetainNode {
        var merged = RetainNode()
        for (token, node) in children where JSONPointer.index(token) != nil { merged.merge(node) }
        return merged
    }

    private mutating func merge(_ other: RetainNode) {
        whole = whole || other.whole
        for (token, node) in other.children { children[token, default: RetainNode()].merge(node) }
    }
}
