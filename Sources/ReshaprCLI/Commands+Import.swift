import ArgumentParser
import Foundation
import NIOHTTP1
import ReshaprConfig
import ReshaprFetch
import ReshaprJSON

/// `reshapr import`: a service from an API description, and with `--be` a served endpoint.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a service from an OpenAPI, Swagger, GraphQL or protobuf description, a file or a URL (type detected); with --be, also serve it.",
        discussion: """
            A description split over files is sent whole: the CLI follows its $refs (relative to the \
            file that holds each) and sends every file they name, keeping the layout. A remote $ref \
            (https://…) is refused, since gateways fetch nothing; --bundle fetches it now and stores \
            it with the description. With --url, the control plane fetches the description and the \
            files its relative $refs name on the same host, with --secret's token or user and password.

            With --be, the service is also given a configuration plan named default (default-<service>-\
            <version> when default is taken; that backend, the --io/--eo operations, the --bs secret's \
            token as a bearer token) and an exposition on the organization's default gateway group, \
            and the MCP endpoint URL is printed: one command from a spec to a served endpoint.
            """)
    @Option(name: .shortAndLong, help: "The API description: a file (the files its $refs name are sent too), a folder holding it, or a .zip of that folder.")
    var file: String?
    @Option(name: .shortAndLong, help: "The URL of an API description, fetched by the control plane with the files its relative $refs name.")
    var url: String?
    @Option(name: .shortAndLong, help: "With --url: the secret (token, or username and password) the URL needs.") var secret: String?
    @Flag(help: "Fetch the remote $refs (https://…) now and store them with the description (the gateway fetches nothing).") var bundle = false
    @Option(name: [.customLong("sn"), .customLong("name")], help: "Service name (default: from the artifact).") var name: String?
    @Option(name: [.customLong("sv"), .customLong("version")], help: "Service version (default: from the artifact).") var version: String?
    @Option(name: [.customLong("be"), .customLong("backend-endpoint")], help: "Backend base URL: also create the default plan and exposition.")
    var backendEndpoint: String?
    @Option(name: [.customLong("io"), .customLong("include-operations")], help: "With --be: the operations to expose, as a JSON array.")
    var includeOperations: String?
    @Option(name: [.customLong("eo"), .customLong("exclude-operations")], help: "With --be: the operations to hide, as a JSON array.")
    var excludeOperations: String?
    @Option(name: [.customLong("bs"), .customLong("backend-secret")], help: "With --be: a secret whose token the backend takes as a bearer token (NAME, or NAME/KEY).")
    var backendSecret: String?

    func validate() throws {
        guard (file == nil) != (url == nil) else { throw ValidationError("give one of --file and --url") }
        if secret != nil, url == nil { throw ValidationError("--secret goes with --url") }
        if bundle, file == nil { throw ValidationError("--bundle goes with --file") }
        if backendEndpoint == nil, includeOperations != nil || excludeOperations != nil || backendSecret != nil {
            throw ValidationError("--io, --eo and --bs go with --be")
        }
        _ = try operations(includeOperations, "--io")
        _ = try operations(excludeOperations, "--eo")
    }

    /// A JSON array of operation names given on the command line.
    func operations(_ text: String?, _ flag: String) throws -> [JSONValue]? {
        guard let text else { return nil }
        guard case .array(let items)? = try? JSONParser.parse(Array(text.utf8)), items.allSatisfy({ $0.stringValue != nil }) else {
            throw ValidationError("\(flag) must be a JSON array of operation names, such as '[\"getPetById\"]'")
        }
        return items
    }

    func run() async throws {
        let client = try session()
        var body: JSONObject = [:]
        if let url {
            body["url"] = .string(url)
            if let secret { body["secret"] = .string(secret) }
        } else if let file {
            let set = try await Self.description(at: file, bundle: bundle)
            body["artifacts"] = [.object(payload(name: "fileName", set.root, Data(set.files[0].content)))]
            if set.files.count > 1 {
                body["files"] = .array(set.files.dropFirst().map { .object(payload(name: "path", $0.path, Data($0.content))) })
                print("📦 \(set.root) and the \(set.files.count - 1) files its $refs name")
            }
        }
        if let name { body["name"] = .string(name) }
        if let version { body["version"] = .string(version) }
        let service = try await client.call(.POST, "/api/v1/services", .object(body))
        let serviceID = service["id"]?.stringValue ?? "?"
        print("✅ Service '\(service["name"]?.stringValue ?? "?")' \(service["version"]?.stringValue ?? "") (\(service["type"]?.stringValue ?? "")) imported with ID: \(serviceID)")
        guard let backendEndpoint else { return }

        // Plan names are the organization's: `default` goes to the first service imported this
        // way, the next ones get `default-<service>-<version>`.
        let taken = Set((try await client.call(.GET, "/api/v1/configuration-plans").arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        let planName = taken.contains("default") ? "default-\(service["name"]?.stringValue ?? serviceID)-\(service["version"]?.stringValue ?? "")" : "default"
        var plan: JSONObject = ["name": .string(planName), "serviceId": .string(serviceID), "backend": ["endpoint": .string(backendEndpoint)]]
        var tools: JSONObject = [:]
        if let include = try operations(includeOperations, "--io") { tools["include"] = .array(include) }
        if let exclude = try operations(excludeOperations, "--eo") { tools["exclude"] = .array(exclude) }
        if !tools.isEmpty { plan["tools"] = .object(tools) }
        if let backendSecret {
            let parts = backendSecret.split(separator: "/", maxSplits: 1).map(String.init)
            plan["backendSecurity"] = ["type": "bearer", "secretRef": ["name": .string(parts.first ?? ""), "key": .string(parts.count > 1 ? parts[1] : "token")]]
        }
        let created = try await client.call(.POST, "/api/v1/configuration-plans", .object(plan))
        let planID = created["id"]?.stringValue ?? "?"
        print("✅ Configuration '\(planName)' created with ID: \(planID)")

        let groups = try await client.call(.GET, "/api/v1/gateway-groups").arrayValue ?? []
        guard let group = groups.first(where: { $0["name"] == "Default Gateway Group" }) ?? groups.first, let groupID = group["id"]?.stringValue else {
            throw ServerError(description: "the organization has no gateway group to expose the service on; create one with reshapr gateway-group create")
        }
        let exposition = try await client.call(.POST, "/api/v1/expositions", ["configurationId": .string(planID), "gatewayGroupId": .string(groupID)])
        let expositionID = exposition["id"]?.stringValue ?? "?"
        let listed = try await client.call(.GET, "/api/v1/expositions").arrayValue?.first { $0["id"]?.stringValue == expositionID }
        let urls = (listed?["endpoints"]?.arrayValue ?? []).compactMap(\.stringValue)
        print("✅ Exposition created with ID: \(expositionID) on gateway group '\(group["name"]?.stringValue ?? groupID)'")
        if urls.isEmpty {
            print("MCP endpoint path: \(listed?["path"]?.stringValue ?? "?") (no gateway of the group is connected yet)")
        } else {
            print("MCP endpoint: \(urls.joined(separator: " "))")
        }
    }

    /// The description at `path` (a file, or a folder holding one) with the files it refers to.
    static func description(at path: String, bundle: Bool) async throws -> SpecFileSet {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ValidationError("cannot read \(path): no such file") }
        var unpacked: String?
        defer { if let unpacked { try? FileManager.default.removeItem(atPath: unpacked) } }
        let root: String
        if isDirectory.boolValue {
            root = try rootFile(in: path)
        } else if path.lowercased().hasSuffix(".zip") {
            let (temporary, folder) = try unzip(path)
            unpacked = temporary
            root = try rootFile(in: folder)
        } else {
            root = path
        }
        let advice = "the gateway fetches nothing (it may be air-gapped): import with --bundle to fetch it now and store it with the description"
        do {
            return try await SpecFileSet.collect(root: URL(fileURLWithPath: root), remote: bundle ? .fetch : .refuse(advice: advice)) { url in
                if url.isFileURL { return try readFile(url.path) }
                return try await Download().get(url)
            }
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// Unpacks a .zip into a new temporary folder; the folder to read is its one top folder
    /// when it has nothing else.
    /// Entries with hidden parts (`__MACOSX/._x`, `.git/`) are left out.
    static func unzip(_ path: String) throws -> (temporary: String, folder: String) {
        let entries: [(path: String, content: [UInt8])]
        do {
            entries = try ZipArchive.entries(try readFile(path))
        } catch let error as ZipArchive.Failure {
            throw ValidationError("\(path): \(error)")
        }
        let folder = FileManager.default.temporaryDirectory.path + "/reshapr-import-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for entry in entries where SpecFileSet.isStorablePath(entry.path) && !entry.path.hasPrefix("__MACOSX/") {
            let target = folder + "/" + entry.path
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: target, contents: Data(entry.content)) else { throw ValidationError("cannot unpack \(entry.path) of \(path)") }
        }
        let top = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }
        var isDirectory: ObjCBool = false
        if top.count == 1, let only = top.first, FileManager.default.fileExists(atPath: folder + "/" + only, isDirectory: &isDirectory), isDirectory.boolValue {
            return (folder, folder + "/" + only)
        }
        return (folder, folder)
    }

    /// The API description of a folder: `openapi.*` or `swagger.*`, else the one JSON or YAML
    /// file that says `openapi:` or `swagger:`; at the folder's top, else one folder down.
    static func rootFile(in folder: String) throws -> String {
        var found = descriptions(in: folder)
        if found.isEmpty {
            let children = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
            found = children.flatMap { descriptions(in: folder + "/" + $0) }
        }
        guard found.count == 1, let only = found.first else {
            throw ValidationError(
                found.isEmpty
                    ? "\(folder) holds no OpenAPI or Swagger description; give the root file with -f"
                    : "\(folder) holds several descriptions (\(found.joined(separator: ", "))); give the root file with -f")
        }
        return only
    }

    /// The descriptions at the top of a folder: the conventional name alone when there is one.
    static func descriptions(in folder: String) -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        let documents = names.filter { name in ["yaml", "yml", "json"].contains((name as NSString).pathExtension.lowercased()) }
        if let conventional = documents.first(where: { ["openapi", "swagger"].contains(($0 as NSString).deletingPathExtension.lowercased()) }) {
            return [folder + "/" + conventional]
        }
        return documents.filter { name in
            guard let text = try? String(contentsOfFile: folder + "/" + name, encoding: .utf8) else { return false }
            return text.split(separator: "\n", maxSplits: 200).contains { $0.hasPrefix("openapi:") || $0.hasPrefix("swagger:") || $0.contains("\"openapi\"") || $0.contains("\"swagger\"") }
        }.map { folder + "/" + $0 }
    }
}

/// A local file's bytes, refusing what no description would be (over 32 MiB, not a file).
func readFile(_ path: String, limit: Int = 32 << 20) throws -> [UInt8] {
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { throw ValidationError("no such file") }
    guard attributes[.type] as? FileAttributeType == .typeRegular else { throw ValidationError("\(path) is not a regular file") }
    guard let size = attributes[.size] as? Int, size <= limit else { throw ValidationError("\(path) is larger than \(limit >> 20) MiB") }
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
    return [UInt8](data)
}

/// `{<name>, content}` of a file to send (`contentBase64` when it is not text).
func payload(name key: String, _ name: String, _ data: Data) -> JSONObject {
    var object: JSONObject = [key: .string(name)]
    if let text = String(data: data, encoding: .utf8) { object["content"] = .string(text) } else { object["contentBase64"] = .string(data.base64EncodedString()) }
    return object
}
