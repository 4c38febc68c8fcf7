import Foundation
import ReshaprJSON

/// The files an OpenAPI or Swagger description spans: its root and every file its `$ref`s
/// reach, at any depth, each ref resolved against the file that holds it (RFC 3986). This is
/// what the CLI sends (`reshapr import -f root.yaml`) and what the control plane fetches
/// (`-u URL`); the gateway reads the same tree back and bundles it (``SpecBundler``).
///
/// Paths are relative to the deepest folder that holds every file of the description's own
/// origin, so that refs climbing out of the root's folder (`../common/errors.yaml`) keep
/// working once the files sit in a service folder. Files fetched from another origin (with
/// ``RemoteRefs/fetch``) go under `_remote/<host>/…`, and the refs to them are rewritten: those
/// documents are sent as JSON.
public struct SpecFileSet: Sendable {
    public struct File: Sendable, Equatable {
        public var path: String
        public var content: [UInt8]
    }

    /// What to do with a `$ref` to another origin (an `https://` ref in a local file).
    public enum RemoteRefs: Sendable {
        /// Refuse it with this advice (the gateway fetches nothing: it may be air-gapped).
        case refuse(advice: String)
        /// Fetch it now and store it with the description.
        case fetch
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The root's path among ``files``.
    public var root: String
    /// Every file, the root first.
    public var files: [File]

    public static let maxFiles = SpecBundler.maxFiles
    /// Folder of the files fetched from another origin.
    static let remoteFolder = "_remote"

    /// Collects the description rooted at `root` (a `file:` or `http(s):` URL), reading each file
    /// with `load`. A root that is not JSON or YAML (GraphQL SDL, a protobuf descriptor) is the
    /// only file of its set.
    public static func collect(
        root: URL, remote: RemoteRefs, maxBytes: Int = 32 << 20, load: (URL) async throws -> [UInt8]
    ) async throws(Failure) -> SpecFileSet {
        let root = withoutFragment(root)
        var order: [URL] = []
        var contents: [URL: [UInt8]] = [:]
        var documents: [URL: JSONValue] = [:]
        var queue: [(url: URL, from: URL?)] = [(root, nil)]
        /// Files with a ref to another origin: their refs are rewritten to the stored tree.
        var crossOriginReferrers: Set<URL> = []
        var total = 0
        while let (url, referrer) = queue.popLast() {
            guard contents[url] == nil else { continue }
            guard order.count < maxFiles else { throw Failure(description: "the description spans more than \(maxFiles) files; bundle it into fewer") }
            let bytes: [UInt8]
            do {
                bytes = try await load(url)
            } catch {
                let origin = referrer.map { "\(display($0)) refers to \(display(url)), which" } ?? display(url)
                throw Failure(description: "\(origin) cannot be read: \(error)")
            }
            total += bytes.count
            guard total <= maxBytes else { throw Failure(description: "the description's files add up to more than \(maxBytes >> 20) MiB") }
            order.append(url)
            contents[url] = bytes
            let document: JSONValue
            switch LoadRun.singleObject(bytes) {
            case .success(let value): document = value
            case .failure(let error):
                if referrer == nil { return SpecFileSet(root: fileName(url), files: [File(path: fileName(url), content: bytes)]) }
                throw Failure(description: "\(display(url)), referenced from \(display(referrer ?? url)), \(error)")
            }
            documents[url] = document
            var refs: [String] = []
            try collectRefs(document, into: &refs, file: url, depth: 0)
            for ref in refs {
                let target = try resolve(ref, in: url)
                if !sameOrigin(target, url) {
                    crossOriginReferrers.insert(url)
                    if case .refuse(let advice) = remote { throw Failure(description: "\(display(url)): $ref \(ref) is remote; \(advice)") }
                    guard ["http", "https"].contains(target.scheme?.lowercased() ?? "") else {
                        throw Failure(description: "\(display(url)): $ref \(ref) is neither a relative path nor an http(s) URL")
                    }
                }
                if contents[target] == nil { queue.append((target, url)) }
            }
        }
        let paths = try assignPaths(order, root: root)
        var files: [File] = []
        for url in order {
            guard let path = paths[url], let bytes = contents[url] else { continue }
            if let document = documents[url], !sameOrigin(url, root) || crossOriginReferrers.contains(url) {
                let rewritten = rewrite(document, in: url, paths: paths, depth: 0)
                files.append(File(path: path, content: rewritten.serializedBytes(pretty: true)))
            } else {
                files.append(File(path: path, content: bytes))
            }
        }
        return SpecFileSet(root: paths[root] ?? fileName(root), files: files)
    }

    /// Why the files of a stored description (paths relative to its folder) do not hold
    /// together: a ref to a file that is not among them, or to nothing in it; `nil` when they do.
    public static func problem(root: String, files: [String: [UInt8]]) -> String? {
        guard let bytes = files[root], case .success(let document) = LoadRun.singleObject(bytes), SpecBundler.referencesOtherFiles(document) else {
            return nil
        }
        var bundler = SpecBundler { path in
            guard let content = files[path] else { return .failure(FileAccessError(description: "it is not among the files sent")) }
            return LoadRun.singleObject(content)
        }
        do throws(SpecBundler.Failure) {
            _ = try bundler.bundle(document, file: root)
            return nil
        } catch {
            return error.description
        }
    }

    /// Whether `path` can be a file of a service folder: relative, without `.`, `..`, empty or
    /// hidden parts (the sync writes nothing else).
    public static func isStorablePath(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return !path.isEmpty && parts.count <= 32 && !path.utf8.contains(0) && !path.contains("\\")
            && !parts.contains(where: { $0.isEmpty || $0.hasPrefix(".") || $0.utf8.count > 255 })
    }

    // MARK: - Refs and URLs

    static func collectRefs(_ value: JSONValue, into refs: inout [String], file: URL, depth: Int) throws(Failure) {
        guard depth < SpecBundler.maxDepth else { throw Failure(description: "\(display(file)) nests deeper than \(SpecBundler.maxDepth) levels") }
        switch value {
        case .object(let members):
            for (key, member) in members {
                if key == "$ref", case .string(let ref) = member {
                    if !ref.hasPrefix("#") { refs.append(ref) }
                } else {
                    try collectRefs(member, into: &refs, file: file, depth: depth + 1)
                }
            }
        case .array(let items):
            for item in items { try collectRefs(item, into: &refs, file: file, depth: depth + 1) }
        default:
            break
        }
    }

    /// The file a ref names, written in `file`.
    static func resolve(_ ref: String, in file: URL) throws(Failure) -> URL {
        let pathPart = String(ref.prefix { $0 != "#" })
        let encoded = pathPart.addingPercentEncoding(withAllowedCharacters: .urlAllowed) ?? pathPart
        guard let url = URL(string: pathPart, relativeTo: file) ?? URL(string: encoded, relativeTo: file) else {
            throw Failure(description: "\(display(file)): $ref \(ref) is not a valid URI reference")
        }
        if url.scheme?.lowercased() == "file", pathPart.hasPrefix("/") || pathPart.lowercased().hasPrefix("file:") {
            throw Failure(description: "\(display(file)): $ref \(ref) is an absolute path; write it relative to the file that holds it")
        }
        return withoutFragment(url.absoluteURL.standardized)
    }

    static func withoutFragment(_ url: URL) -> URL {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: true) else { return url }
        components.fragment = nil
        return components.url ?? url
    }

    static func sameOrigin(_ a: URL, _ b: URL) -> Bool {
        a.scheme?.lowercased() == b.scheme?.lowercased() && a.host?.lowercased() == b.host?.lowercased() && a.port == b.port
    }

    static func display(_ url: URL) -> String { url.isFileURL ? url.path : url.absoluteString }

    static func fileName(_ url: URL) -> String {
        let name = url.lastPathComponent
        return name.isEmpty || name == "/" ? "openapi.yaml" : name
    }

    /// Paths relative to the deepest folder holding every file of the root's origin; the
    /// others under `_remote/<host>/`.
    static func assignPaths(_ urls: [URL], root: URL) throws(Failure) -> [URL: String] {
        let local = urls.filter { sameOrigin($0, root) }
        var base = Array(root.pathComponents.dropLast())
        for url in local {
            let folder = url.pathComponents.dropLast()
            var common = 0
            while common < min(base.count, folder.count), base[common] == folder[common] { common += 1 }
            base = Array(base.prefix(common))
        }
        var paths: [URL: String] = [:]
        var taken: Set<String> = []
        for url in urls {
            let path: String
            if sameOrigin(url, root) {
                path = url.pathComponents.dropFirst(base.count).joined(separator: "/")
            } else {
                let host = (url.host ?? "host") + (url.port.map { "_\($0)" } ?? "")
                let parts = url.pathComponents.filter { $0 != "/" }
                path = ([remoteFolder, host] + (parts.isEmpty ? ["index.yaml"] : parts)).joined(separator: "/")
            }
            guard isStorablePath(path) else {
                throw Failure(description: "\(display(url)) would be stored as \(path), which has an empty or hidden part (a name starting with '.'); rename it")
            }
            guard taken.insert(path).inserted else { throw Failure(description: "two files of the description would both be stored as \(path)") }
            paths[url] = path
        }
        return paths
    }

    /// `document` with every ref to another origin made relative to the stored tree.
    static func rewrite(_ value: JSONValue, in file: URL, paths: [URL: String], depth: Int) -> JSONValue {
        guard depth < SpecBundler.maxDepth else { return value }
        switch value {
        case .object(var members):
            for (key, member) in members {
                if key == "$ref", case .string(let ref) = member, !ref.hasPrefix("#"), let target = try? resolve(ref, in: file),
                    let from = paths[file], let to = paths[target]
                {
                    let fragment = ref.firstIndex(of: "#").map { String(ref[$0...]) } ?? ""
                    members[key] = .string(relativePath(from: from, to: to) + fragment)
                } else {
                    members[key] = rewrite(member, in: file, paths: paths, depth: depth + 1)
                }
            }
            return .object(members)
        case .array(let items):
            return .array(items.map { rewrite($0, in: file, paths: paths, depth: depth + 1) })
        default:
            return value
        }
    }

    /// The relative reference from the file at `from` to the file at `to` (both relative paths).
    static func relativePath(from: String, to: String) -> String {
        let source = from.split(separator: "/").dropLast()
        let target = to.split(separator: "/")
        var common = 0
        while common < min(source.count, target.count - 1), source[source.startIndex + common] == target[common] { common += 1 }
        let ups = Array(repeating: "..", count: source.count - common)
        return (ups + target.dropFirst(common).map(String.init)).joined(separator: "/")
    }
}

extension CharacterSet {
    /// Characters that may stand unescaped in a URI reference.
    static let urlAllowed = CharacterSet.urlPathAllowed.union(.urlQueryAllowed).union(CharacterSet(charactersIn: "%"))
}
