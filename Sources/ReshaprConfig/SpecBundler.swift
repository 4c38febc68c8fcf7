import Foundation
import ReshaprJSON

/// Bundles an OpenAPI or Swagger description kept in several files (a root whose path items,
/// parameters, schemas… are `$ref`s into other files, Redocly or Swagger split layouts) into one
/// document, as the tool compiler reads it.
///
/// Every `$ref` is resolved against the file that holds it (RFC 3986), at any depth. The parts
/// of other files that are referenced move under ``bundleKey`` in the root, and every ref to
/// them, or written inside them, becomes a local one (`#/x-reshapr-bundled/Pet`). Files stay
/// inside the configuration root; a ref to a file that cannot be read is an error naming both
/// files. Remote refs (`https://…`) are left as they are: the gateway fetches nothing, and the
/// compiler skips what needs them with a message saying so.
struct SpecBundler {
    /// Where the referenced parts of other files go in the bundled document.
    static let bundleKey = "x-reshapr-bundled"
    /// Files one description may span.
    static let maxFiles = 2_000
    /// Nesting the rewrite walks; the parsers stop well before it.
    static let maxDepth = 600

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads and parses a file, by its path relative to the configuration root.
    let read: (String) -> Result<JSONValue, FileAccessError>
    private var documents: [String: JSONValue] = [:]
    /// Bundle member names by `file#pointer`.
    private var names: [String: String] = [:]
    private var taken: Set<String> = []
    private var pending: [(file: String, pointer: String, name: String, from: String)] = []
    private var bundled: JSONObject = [:]

    init(read: @escaping (String) -> Result<JSONValue, FileAccessError>) {
        self.read = read
    }

    /// `root`, read from `file`, with the parts of other files it references brought in.
    /// Returns `root` unchanged when it references no other file.
    mutating func bundle(_ root: JSONValue, file: String) throws(Failure) -> JSONValue {
        documents[file] = root
        var result = try rewrite(root, in: file, root: file, depth: 0)
        while let next = pending.popLast() {
            let document = try load(next.file, referencedFrom: next.from)
            guard let target = document.value(atPointer: next.pointer) else {
                throw Failure(description: "\(next.from): $ref \(next.file)#\(next.pointer) points to nothing in \(next.file)")
            }
            bundled[next.name] = try rewrite(target, in: next.file, root: file, depth: 0)
        }
        if !bundled.isEmpty, case .object(var members) = result {
            members[Self.bundleKey] = .object(bundled)
            result = .object(members)
        }
        return result
    }

    private mutating func load(_ file: String, referencedFrom referrer: String) throws(Failure) -> JSONValue {
        if let document = documents[file] { return document }
        guard documents.count < Self.maxFiles else {
            throw Failure(description: "the description spans more than \(Self.maxFiles) files; bundle it into fewer")
        }
        switch read(file) {
        case .success(let document):
            documents[file] = document
            return document
        case .failure(let error):
            throw Failure(description: "\(referrer) refers to \(file), which cannot be read: \(error)")
        }
    }

    /// `value` with every `$ref` made local to the bundled document.
    private mutating func rewrite(_ value: JSONValue, in file: String, root: String, depth: Int) throws(Failure) -> JSONValue {
        guard depth < Self.maxDepth else { throw Failure(description: "\(file) nests deeper than \(Self.maxDepth) levels") }
        switch value {
        case .object(var members):
            for (key, member) in members {
                if key == "$ref", case .string(let ref) = member {
                    members[key] = .string(try localRef(ref, in: file, root: root))
                } else {
                    members[key] = try rewrite(member, in: file, root: root, depth: depth + 1)
                }
            }
            return .object(members)
        case .array(let items):
            var rewritten: [JSONValue] = []
            rewritten.reserveCapacity(items.count)
            for item in items { rewritten.append(try rewrite(item, in: file, root: root, depth: depth + 1)) }
            return .array(rewritten)
        default:
            return value
        }
    }

    /// The local ref that stands for `ref`, written in `file`.
    private mutating func localRef(_ ref: String, in file: String, root: String) throws(Failure) -> String {
        if Self.isRemote(ref) { return ref }
        let hash = ref.firstIndex(of: "#")
        let pathPart = hash.map { String(ref[..<$0]) } ?? ref
        let pointer = hash.map { String(ref[ref.index(after: $0)...]) } ?? ""
        let target: String
        if pathPart.isEmpty {
            target = file
        } else {
            let decoded = pathPart.removingPercentEncoding ?? pathPart
            switch RelativePath.resolve(decoded, from: file) {
            case .success(let resolved): target = resolved
            case .failure(let error): throw Failure(description: "\(file): $ref \(ref): \(error)")
            }
        }
        if target == root { return "#" + pointer }
        let key = target + "#" + pointer
        if let name = names[key] { return "#/\(Self.bundleKey)/" + name }
        let name = uniqueName(for: target, pointer: pointer)
        names[key] = name
        pending.append((target, pointer, name, file))
        return "#/\(Self.bundleKey)/" + name
    }

    /// A readable member name: the pointer's last token (`Pet`), else the file's name without
    /// its extension (`pets`), made unique with `_2`, `_3`….
    private mutating func uniqueName(for file: String, pointer: String) -> String {
        var base = pointer.split(separator: "/").last.map { String($0).replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~") } ?? ""
        if base.isEmpty {
            let fileName = file.split(separator: "/").last.map(String.init) ?? file
            base = fileName.split(separator: ".").first.map(String.init) ?? fileName
        }
        // Names stay plain, so that the ref that names them needs no escaping.
        base = String(base.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") ? $0 : "_" })
        var name = base
        var n = 2
        while taken.contains(name) {
            name = "\(base)_\(n)"
            n += 1
        }
        taken.insert(name)
        return name
    }

    static func isRemote(_ ref: String) -> Bool {
        guard let colon = ref.firstIndex(of: ":") else { return false }
        let scheme = ref[..<colon]
        return !scheme.isEmpty && scheme.allSatisfy { $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." } && !scheme.contains("/")
    }

    /// Whether any `$ref` of `value` names another file (so that bundling has work to do).
    static func referencesOtherFiles(_ value: JSONValue, depth: Int = 0) -> Bool {
        guard depth < maxDepth else { return false }
        switch value {
        case .object(let members):
            for (key, member) in members {
                if key == "$ref", case .string(let ref) = member {
                    if !ref.hasPrefix("#") && !isRemote(ref) { return true }
                } else if referencesOtherFiles(member, depth: depth + 1) {
                    return true
                }
            }
            return false
        case .array(let items):
            return items.contains { referencesOtherFiles($0, depth: depth + 1) }
        default:
            return false
        }
    }
}
