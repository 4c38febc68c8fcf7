import Foundation
import ReshaprJSON

/// Loads a configuration directory (ARCHITECTURE.md section 1) into a `Configuration`.
///
/// Every `*.yaml`, `*.yml` and `*.json` file under the root (recursively, following symlinks,
/// skipping names that start with `.`) is examined; its documents with
/// `apiVersion: reshapr.io/v1` are resources. Other files are read only when a resource
/// references them, by a path relative to the referencing file that must stay inside the root.
public struct ConfigLoader: Sendable {
    public var root: String
    public var options: LoaderOptions

    public init(root: String, options: LoaderOptions = LoaderOptions()) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        self.options = options
    }

    /// Loads the directory. Throws only when the root itself cannot be read; every other
    /// problem is an issue of the returned configuration.
    public func load() throws(ConfigDirectoryError) -> Configuration {
        do {
            guard case .directory = try FileAccess.type(of: root) else {
                throw ConfigDirectoryError(path: root, reason: "is not a directory")
            }
        } catch let error as FileAccessError {
            throw ConfigDirectoryError(path: root, reason: error.description == "No such file or directory" ? "does not exist" : error.description)
        } catch let error as ConfigDirectoryError {
            throw error
        } catch {
            throw ConfigDirectoryError(path: root, reason: "\(error)")
        }
        // In the AtomicWriter layout, the revision a load pinned may be removed while it reads
        // (the writer keeps two old revisions; a slow read under fast publishing can outlast
        // them). A load that found errors while `..data` moved on is made again on the new one.
        var attempt = 0
        while true {
            var run = LoadRun(root: root, options: options)
            let configuration = run.load()
            attempt += 1
            guard attempt < 5, !configuration.errors.isEmpty, let pinned = run.pinnedRevision, pinned != LoadRun.currentRevision(root) else {
                return configuration
            }
        }
    }
}

/// The state of one load: collected resources, issues and caches. Used once, then dropped.
struct LoadRun {
    let root: String
    let options: LoaderOptions

    var issues: [ConfigIssue] = []
    var unreadableFiles: Set<String> = []
    var filesScanned = 0
    var resourceDocuments = 0
    /// The resource documents read, for locating errors found after parsing.
    var documents: [SourceLocation: ParsedDocument] = [:]

    var services: [ServiceKey: [Candidate<JSONValue>]] = [:]
    var plans: [ResourceName: [Candidate<JSONValue>]] = [:]
    var expositions: [ResourceName: [Candidate<JSONValue>]] = [:]
    var secrets: [ResourceName: [Candidate<JSONValue>]] = [:]
    var gateways: [Candidate<JSONValue>] = []
    /// Resources that exist but failed validation, with where they are: references to them
    /// are reported as "invalid" rather than "not found".
    var invalid: [InvalidKey: SourceLocation] = [:]

    var artifactCache: [String: Result<ArtifactContent, FileAccessError>] = [:]
    /// Top-level names that are symlinks into `..data/` (the AtomicWriter layout), resolved
    /// once through the revision `..data` points to when the load starts, so that a swap
    /// during the load cannot mix two revisions.
    var pinnedLinks: [String: String] = [:]
    /// The revision folder the load reads, in the AtomicWriter layout.
    var pinnedRevision: String?

    struct ServiceKey: Hashable {
        var org: String
        var name: String
        var version: String
    }

    struct InvalidKey: Hashable {
        var kind: ResourceKind
        var name: ResourceName
        var version: String?
    }

    struct Candidate<T> {
        var value: T
        var metadata: Metadata
        var location: SourceLocation
    }

    init(root: String, options: LoaderOptions) {
        self.root = root
        self.options = options
    }

    // MARK: - Issues

    mutating func report(_ location: SourceLocation, _ path: JSONPath, _ message: String, severity: ConfigIssue.Severity = .error) {
        let line = documents[location]?.line(of: path)
        issues.append(ConfigIssue(severity: severity, file: location.file, document: location.document, line: line, path: path, message: message))
    }

    mutating func reportFile(_ file: String, _ message: String, line: Int? = nil, severity: ConfigIssue.Severity = .error) {
        issues.append(ConfigIssue(severity: severity, file: file, line: line, message: message))
    }

    // MARK: - Load

    mutating func load() -> Configuration {
        pinRevision()
        var files: [String] = []
        if case .directory(let rootID)? = try? FileAccess.type(of: root) {
            scan(relative: "", chain: [rootID], into: &files)
        }
        filesScanned = files.count
        for file in files { readResources(in: file) }

        let validServices = resolveServices()
        let validSecrets = resolveSecrets()
        let validPlans = resolvePlans(services: validServices, secrets: validSecrets)
        let (served, failed) = resolveExpositions(plans: validPlans)
        let gateway = resolveGateway()

        if resourceDocuments == 0 {
            issues.append(
                ConfigIssue(
                    severity: .warning, file: nil,
                    message: files.isEmpty
                        ? "no YAML or JSON files found" : "no \(resourceAPIVersion) resources found in \(files.count) file\(files.count == 1 ? "" : "s")"
                ))
        }

        var counts: [ResourceKind: Int] = [:]
        counts[.service] = validServices.count
        counts[.secret] = validSecrets.count
        counts[.configurationPlan] = validPlans.count
        counts[.exposition] = served.count
        counts[.gateway] = gateway.source == nil ? 0 : 1

        issues.sort { a, b in
            (a.file ?? "", a.document ?? 0, a.path.description, a.message) < (b.file ?? "", b.document ?? 0, b.path.description, b.message)
        }
        return Configuration(
            root: root, expositions: served.sorted { $0.path < $1.path }, gateway: gateway, resourceCounts: counts,
            issues: issues, failedExpositions: failed, unreadableFiles: unreadableFiles, filesScanned: filesScanned,
            resourceDocuments: resourceDocuments)
    }

    // MARK: - Scanning

    static let resourceExtensions: Set<String> = ["yaml", "yml", "json"]

    static func hasResourceExtension(_ name: String) -> Bool {
        guard let dot = name.lastIndex(of: ".") else { return false }
        return resourceExtensions.contains(name[name.index(after: dot)...].lowercased())
    }

    func absolute(_ relative: String) -> String {
        guard !relative.isEmpty else { return root }
        let first = relative.prefix { $0 != "/" }
        if let pinned = pinnedLinks[String(first)] { return root + "/" + pinned + relative.dropFirst(first.count) }
        return root + "/" + relative
    }

    /// The revision folder `..data` points to now, if the root uses the AtomicWriter layout.
    static func currentRevision(_ root: String) -> String? {
        guard let revision = try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/..data"), !revision.contains("/") else { return nil }
        return revision
    }

    /// Resolves `..data` once, if the root uses the AtomicWriter layout.
    mutating func pinRevision() {
        guard let revision = Self.currentRevision(root) else { return }
        pinnedRevision = revision
        for name in (try? FileAccess.list(root)) ?? [] where !name.hasPrefix(".") {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + name), target.hasPrefix("..data/") else { continue }
            pinnedLinks[name] = revision + "/" + target.dropFirst("..data/".count)
        }
    }

    /// Collects candidate files below `relative`. `chain` holds the directories being walked,
    /// so that a symlink back to one of them is not followed forever.
    mutating func scan(relative: String, chain: Set<FileAccess.DirectoryID>, into files: inout [String]) {
        let names: [String]
        do {
            names = try FileAccess.list(absolute(relative))
        } catch {
            reportFile(relative.isEmpty ? "." : relative + "/", "cannot read directory: \(error)")
            return
        }
        for name in names where !name.hasPrefix(".") {
            let child = relative.isEmpty ? name : relative + "/" + name
            let wanted = Self.hasResourceExtension(name)
            do {
                switch try FileAccess.type(of: absolute(child)) {
                case .directory(let id):
                    if chain.contains(id) {
                        reportFile(child + "/", "symbolic link loop; not followed", severity: .warning)
                    } else if chain.count >= 32 {
                        reportFile(child + "/", "directories nested more than 32 deep; not read", severity: .warning)
                    } else {
                        scan(relative: child, chain: chain.union([id]), into: &files)
                    }
                case .file:
                    if wanted { files.append(child) }
                case .other:
                    if wanted {
                        reportFile(child, "cannot read: not a regular file")
                        unreadableFiles.insert(child)
                    }
                }
            } catch {
                if wanted {
                    reportFile(child, "cannot read: \(error)")
                    unreadableFiles.insert(child)
                }
            }
        }
    }

    // MARK: - Reading resource documents

    static let marker = Array("reshapr.io/".utf8)

    static func mentionsReshapr(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { haystack in
            guard haystack.count >= marker.count, let first = marker.first else { return false }
            var i = 0
            let last = haystack.count - marker.count
            while i <= last {
                if haystack[i] == first {
                    var j = 1
                    while j < marker.count && haystack[i + j] == marker[j] { j += 1 }
                    if j == marker.count { return true }
                }
                i += 1
            }
            return false
        }
    }

    mutating func readResources(in file: String) {
        let bytes: [UInt8]
        do {
            bytes = try FileAccess.readAll(absolute(file), limit: options.maxFileSize)
        } catch {
            reportFile(file, "cannot read: \(error)")
            unreadableFiles.insert(file)
            return
        }
        // A file that never mentions our apiVersion holds no resource: skip parsing it
        // (large artifacts are parsed only when a Service references them).
        guard Self.mentionsReshapr(bytes) else { return }
        let parsed: [ParsedDocument]
        do {
            parsed = try DocumentReader.parse(bytes, keepNodes: true)
        } catch {
            reportFile(file, error.description, line: error.line)
            unreadableFiles.insert(file)
            return
        }
        for (index, document) in parsed.enumerated() {
            readResource(document, at: SourceLocation(file: file, document: index + 1))
        }
    }

    mutating func readResource(_ document: ParsedDocument, at location: SourceLocation) {
        guard case .object(let object) = document.value, let apiVersion = object["apiVersion"]?.stringValue,
            apiVersion.hasPrefix("reshapr.io/")
        else { return }
        documents[location] = document
        resourceDocuments += 1
        guard apiVersion == resourceAPIVersion else {
            report(location, JSONPath.root.appending("apiVersion"), "unsupported apiVersion \"\(apiVersion)\"; this gateway reads \(resourceAPIVersion)")
            return
        }
        let kindPath = JSONPath.root.appending("kind")
        guard let kindValue = object["kind"] else {
            report(location, kindPath, "required field is missing")
            return
        }
        guard let kindName = kindValue.stringValue, let kind = ResourceKind(rawValue: kindName) else {
            let known = ResourceKind.allCases.map(\.rawValue)
            var message = "unknown kind \(kindValue)"
            if let text = kindValue.stringValue, let suggestion = closestMatch(to: text, in: known) {
                message += "; did you mean \"\(suggestion)\"?"
            }
            message += " (known kinds: \(known.joined(separator: ", ")))"
            report(location, kindPath, message)
            return
        }
        let validators: [ResourceKind: JSONSchemaValidator]
        switch SchemaCatalog.validators {
        case .success(let compiled): validators = compiled
        case .failure(let error):
            report(location, .root, "cannot validate: the embedded schemas are broken (\(error))")
            return
        }
        let metadata = Self.metadata(of: document.value)
        if let validator = validators[kind] {
            let violations = validator.validate(document.value)
            if !violations.isEmpty {
                for violation in violations { report(location, violation.path, violation.message) }
                if let metadata {
                    let version = kind == .service ? document.value["spec"]?["version"]?.stringValue : nil
                    invalid[InvalidKey(kind: kind, name: ResourceName(org: metadata.org, name: metadata.name), version: version)] = location
                }
                return
            }
        }
        guard let metadata else {
            report(location, JSONPath.root.appending("metadata"), "metadata is unreadable")
            return
        }
        let candidate = Candidate(value: document.value["spec"] ?? .object([:]), metadata: metadata, location: location)
        let name = ResourceName(org: metadata.org, name: metadata.name)
        switch kind {
        case .service:
            let version = candidate.value["version"]?.stringValue ?? ""
            services[ServiceKey(org: metadata.org, name: metadata.name, version: version), default: []].append(candidate)
        case .configurationPlan: plans[name, default: []].append(candidate)
        case .exposition: expositions[name, default: []].append(candidate)
        case .secret: secrets[name, default: []].append(candidate)
        case .gateway: gateways.append(candidate)
        }
    }

    /// Name, org (default "default") and labels, read leniently so that even an invalid
    /// resource can be named in the errors of the resources that reference it.
    static func metadata(of document: JSONValue) -> Metadata? {
        guard let name = document["metadata"]?["name"]?.stringValue else { return nil }
        let org = document["metadata"]?["org"]?.stringValue ?? "default"
        var labels: [String: String] = [:]
        for (key, value) in document["metadata"]?["labels"]?.objectValue ?? [:] {
            if let text = value.stringValue { labels[key] = text }
        }
        return Metadata(name: name, org: org, labels: labels)
    }

    /// Keeps the resources defined exactly once; reports each definition of a duplicate.
    mutating func unique<Key: Hashable>(_ groups: [Key: [Candidate<JSONValue>]], kind: ResourceKind, describe: (Key) -> String)
        -> [Key: Candidate<JSONValue>]
    {
        var result: [Key: Candidate<JSONValue>] = [:]
        for (key, candidates) in groups {
            if candidates.count == 1, let only = candidates.first {
                result[key] = only
                continue
            }
            for candidate in candidates {
                let others = candidates.filter { $0.location != candidate.location }.map(\.location.description).sorted()
                report(
                    candidate.location, JSONPath.root.appending("metadata").appending("name"),
                    "duplicate \(kind.rawValue) \(describe(key)): also defined at \(others.joined(separator: ", "))")
                let name = ResourceName(org: candidate.metadata.org, name: candidate.metadata.name)
                let version = kind == .service ? candidate.value["version"]?.stringValue : nil
                invalid[InvalidKey(kind: kind, name: name, version: version)] = candidate.location
            }
        }
        return result
    }

    // MARK: - Files referenced by resources

    /// Reads a file referenced at `path` of the resource at `location`; reports and returns nil on failure.
    mutating func readReferenced(_ reference: String, at location: SourceLocation, _ path: JSONPath, limit: Int? = nil) -> (String, [UInt8])? {
        switch RelativePath.resolve(reference, from: location.file) {
        case .failure(let error):
            report(location, path, error.description)
            return nil
        case .success(let resolved):
            do {
                return (resolved, try FileAccess.readAll(absolute(resolved), limit: limit ?? options.maxFileSize))
            } catch {
                report(location, path, "cannot read \(resolved): \(error)")
                return nil
            }
        }
    }

    // MARK: - Services and artifacts

    mutating func resolveServices() -> [ServiceKey: Service] {
        var result: [ServiceKey: Service] = [:]
        for (key, candidate) in unique(services, kind: .service, describe: { "\($0.org)/\($0.name) \($0.version)" }) {
            let spec = candidate.value
            var artifacts: [Artifact] = []
            var ok = true
            for (index, entry) in (spec["artifacts"]?.arrayValue ?? []).enumerated() {
                let path = JSONPath.root.appending("spec").appending("artifacts").appending(index: index)
                guard let type = entry["type"]?.stringValue.flatMap(ArtifactType.init(rawValue:)) else { continue }
                if let artifact = loadArtifact(entry, type: type, at: candidate.location, path) {
                    artifacts.append(artifact)
                } else {
                    ok = false
                }
            }
            guard ok, let type = spec["type"]?.stringValue.flatMap(ServiceType.init(rawValue:)) else {
                invalid[InvalidKey(kind: .service, name: ResourceName(org: key.org, name: key.name), version: key.version)] = candidate.location
                continue
            }
            result[key] = Service(
                metadata: candidate.metadata, version: key.version, type: type, description: spec["description"]?.stringValue,
                artifacts: artifacts, source: candidate.location)
        }
        return result
    }

    mutating func loadArtifact(_ entry: JSONValue, type: ArtifactType, at location: SourceLocation, _ path: JSONPath) -> Artifact? {
        if let inline = entry["inline"]?.stringValue {
            let bytes: [UInt8]
            if type == .protobufDescriptorSet {
                guard let decoded = Base64.decode(inline, ignoringWhitespace: true) else {
                    report(location, path.appending("inline"), "an inline PROTOBUF_DESCRIPTOR_SET must be base64")
                    return nil
                }
                bytes = decoded
            } else {
                bytes = Array(inline.utf8)
            }
            switch Self.parseArtifact(bytes, type: type) {
            case .success(let content): return Artifact(type: type, file: nil, content: content)
            case .failure(let error):
                report(location, path.appending("inline"), error.description)
                return nil
            }
        }
        guard let reference = entry["path"]?.stringValue else { return nil }
        let fieldPath = path.appending("path")
        let resolved: String
        switch RelativePath.resolve(reference, from: location.file) {
        case .failure(let error):
            report(location, fieldPath, error.description)
            return nil
        case .success(let value):
            resolved = value
        }
        let cacheKey = type.rawValue + ":" + resolved
        let result: Result<ArtifactContent, FileAccessError>
        if let cached = artifactCache[cacheKey] {
            result = cached
        } else {
            do {
                let bytes = try FileAccess.readAll(absolute(resolved), limit: options.maxFileSize)
                result = Self.parseArtifact(bytes, type: type)
            } catch {
                result = .failure(FileAccessError(description: "cannot read \(resolved): \(error)"))
            }
            artifactCache[cacheKey] = result
        }
        switch result {
        case .success(let content): return Artifact(type: type, file: resolved, content: content)
        case .failure(let error):
            report(location, fieldPath, error.description.hasPrefix("cannot read") ? error.description : "\(resolved): \(error)")
            return nil
        }
    }

    /// Parses an artifact and checks that it is the kind of document its type says.
    static func parseArtifact(_ bytes: [UInt8], type: ArtifactType) -> Result<ArtifactContent, FileAccessError> {
        switch type {
        case .protobufDescriptorSet:
            return bytes.isEmpty ? .failure(FileAccessError(description: "descriptor set is empty")) : .success(.binary(bytes))
        case .graphQLSchema:
            guard let text = String(validating: bytes, as: UTF8.self) else {
                return .failure(FileAccessError(description: "GraphQL schema is not valid UTF-8 text"))
            }
            guard text.contains(where: { !$0.isWhitespace }) else { return .failure(FileAccessError(description: "GraphQL schema is empty")) }
            return .success(.text(text))
        case .openAPI, .swagger, .graphQLIntrospection:
            let documents: [ParsedDocument]
            do {
                documents = try DocumentReader.parse(bytes, keepNodes: false)
            } catch {
                return .failure(FileAccessError(description: error.description))
            }
            guard documents.count == 1, let document = documents.first?.value, case .object = document else {
                return .failure(FileAccessError(description: documents.count > 1 ? "holds \(documents.count) YAML documents; an artifact holds one" : "is not a JSON or YAML object"))
            }
            if let problem = Self.checkKind(of: document, type: type) { return .failure(FileAccessError(description: problem)) }
            return .success(.document(document))
        }
    }

    static func checkKind(of document: JSONValue, type: ArtifactType) -> String? {
        let openapi = document["openapi"]
        let swagger = document["swagger"]
        switch type {
        case .openAPI:
            if let version = openapi?.stringValue {
                return version.hasPrefix("3.") ? nil : "unsupported OpenAPI version \"\(version)\" (3.0 and 3.1 are supported)"
            }
            if swagger != nil { return "is a Swagger 2.0 document; declare the artifact with type: SWAGGER" }
            return openapi == nil ? "is not an OpenAPI document: the 'openapi' field is missing" : "'openapi' must be a version string such as \"3.0.3\""
        case .swagger:
            if swagger?.stringValue == "2.0" { return nil }
            if openapi != nil { return "is an OpenAPI 3 document; declare the artifact with type: OPENAPI" }
            return swagger == nil ? "is not a Swagger document: the 'swagger' field is missing" : "'swagger' must be \"2.0\""
        case .graphQLIntrospection:
            if document["__schema"] != nil || document["data"]?["__schema"] != nil { return nil }
            return "is not a GraphQL introspection result: no '__schema' (or 'data.__schema') field"
        case .graphQLSchema, .protobufDescriptorSet:
            return nil
        }
    }

    // MARK: - Secrets

    mutating func resolveSecrets() -> [ResourceName: Secret] {
        var result: [ResourceName: Secret] = [:]
        for (name, candidate) in unique(secrets, kind: .secret, describe: { $0.description }) {
            var values: [String: SecretValue] = [:]
            var ok = true
            for (key, value) in candidate.value["data"]?.objectValue ?? [:] {
                values[key] = SecretValue(value.stringValue ?? "")
            }
            for (key, value) in (candidate.value["files"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                let path = JSONPath.root.appending("spec").appending("files").appending(key)
                if values[key] != nil {
                    report(candidate.location, path, "key \(key) is set in both data and files")
                    ok = false
                    continue
                }
                guard let reference = value.stringValue, let (resolved, bytes) = readReferenced(reference, at: candidate.location, path, limit: 1 << 20) else {
                    ok = false
                    continue
                }
                guard var text = String(validating: bytes, as: UTF8.self) else {
                    report(candidate.location, path, "\(resolved) is not UTF-8 text")
                    ok = false
                    continue
                }
                if text.hasSuffix("\r\n") { text.removeLast(2) } else if text.hasSuffix("\n") { text.removeLast() }
                values[key] = SecretValue(text)
            }
            if ok {
                result[name] = Secret(metadata: candidate.metadata, values: values, source: candidate.location)
            } else {
                invalid[InvalidKey(kind: .secret, name: name, version: nil)] = candidate.location
            }
        }
        return result
    }

    /// Resolves a `secretRef` at `path` of a plan; reports and returns nil when it does not resolve.
    mutating func secretValue(_ ref: JSONValue?, org: String, secrets: [ResourceName: Secret], at location: SourceLocation, _ path: JSONPath) -> SecretValue? {
        guard let ref, let secretName = ref["name"]?.stringValue, let key = ref["key"]?.stringValue else {
            report(location, path, "required field is missing")
            return nil
        }
        let name = ResourceName(org: org, name: secretName)
        guard let secret = secrets[name] else {
            if let at = invalid[InvalidKey(kind: .secret, name: name, version: nil)] {
                report(location, path.appending("name"), "secret \(secretName) is invalid (see the errors at \(at))")
            } else {
                report(location, path.appending("name"), "secret \(secretName) not found in org \(org)")
            }
            return nil
        }
        guard let value = secret.values[key] else {
            report(location, path.appending("key"), "secret \(secretName) has no key \"\(key)\" (keys: \(secret.values.keys.sorted().joined(separator: ", ")))")
            return nil
        }
        return value
    }

    // MARK: - Plans

    mutating func resolvePlans(services: [ServiceKey: Service], secrets: [ResourceName: Secret]) -> [ResourceName: (ConfigurationPlan, Service)] {
        var result: [ResourceName: (ConfigurationPlan, Service)] = [:]
        for (name, candidate) in unique(plans, kind: .configurationPlan, describe: { $0.description }) {
            let spec = candidate.value
            let at = candidate.location
            let specPath = JSONPath.root.appending("spec")
            var ok = true

            let serviceName = spec["service"]?["name"]?.stringValue ?? ""
            let serviceVersion = spec["service"]?["version"]?.stringValue ?? ""
            let key = ServiceKey(org: name.org, name: serviceName, version: serviceVersion)
            let service = services[key]
            if service == nil {
                ok = false
                let servicePath = specPath.appending("service")
                if let invalidAt = invalid[InvalidKey(kind: .service, name: ResourceName(org: name.org, name: serviceName), version: serviceVersion)] {
                    report(at, servicePath, "service \(serviceName) \(serviceVersion) is invalid (see the errors at \(invalidAt))")
                } else {
                    let versions = services.keys.filter { $0.org == name.org && $0.name == serviceName }.map(\.version).sorted()
                    if versions.isEmpty {
                        report(at, servicePath.appending("name"), "service \(serviceName) not found in org \(name.org)")
                    } else {
                        report(
                            at, servicePath.appending("version"),
                            "service \(serviceName) \(serviceVersion) not found (versions: \(versions.joined(separator: ", ")))")
                    }
                }
            }

            let backendSpec = spec["backend"] ?? .object([:])
            var backend = Backend.mock
            if backendSpec["mock"]?.boolValue != true {
                var tls: TLSSettings?
                if let tlsSpec = backendSpec["tls"] {
                    var caPEM: String?
                    if let caFile = tlsSpec["caFile"]?.stringValue {
                        let path = specPath.appending("backend").appending("tls").appending("caFile")
                        if let (_, bytes) = readReferenced(caFile, at: at, path, limit: 1 << 20) {
                            caPEM = String(decoding: bytes, as: UTF8.self)
                        } else {
                            ok = false
                        }
                    }
                    tls = TLSSettings(caPEM: caPEM, insecureSkipVerify: tlsSpec["insecureSkipVerify"]?.boolValue ?? false)
                }
                var headers: [String: String] = [:]
                for (header, value) in backendSpec["headers"]?.objectValue ?? [:] { headers[header] = value.stringValue ?? "" }
                backend = .http(
                    HTTPBackend(
                        endpoint: backendSpec["endpoint"]?.stringValue ?? "",
                        timeout: backendSpec["timeout"].flatMap(Duration.parse) ?? .seconds(30),
                        headers: headers, tls: tls))
            }

            let toolsSpec = spec["tools"]
            var overrides: [String: ToolSelection.Override] = [:]
            for (operation, value) in toolsSpec?["overrides"]?.objectValue ?? [:] {
                overrides[operation] = ToolSelection.Override(
                    name: value["name"]?.stringValue, description: value["description"]?.stringValue, selection: value["selection"]?.stringValue)
            }
            let tools = ToolSelection(
                include: toolsSpec?["include"]?.arrayValue?.compactMap(\.stringValue),
                exclude: toolsSpec?["exclude"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                overrides: overrides, selectionDepth: toolsSpec?["selectionDepth"]?.intValue)

            let backendSecurity = resolveBackendSecurity(spec["backendSecurity"], org: name.org, secrets: secrets, at: at, ok: &ok)
            let clientSecurity = resolveClientSecurity(spec["clientSecurity"], org: name.org, secrets: secrets, at: at, ok: &ok)

            guard ok, let service, let backendSecurity, let clientSecurity else {
                invalid[InvalidKey(kind: .configurationPlan, name: name, version: nil)] = at
                continue
            }
            let plan = ConfigurationPlan(
                metadata: candidate.metadata, description: spec["description"]?.stringValue, serviceName: serviceName,
                serviceVersion: serviceVersion, backend: backend, tools: tools, backendSecurity: backendSecurity,
                clientSecurity: clientSecurity, source: at)
            result[name] = (plan, service)
        }
        return result
    }

    mutating func resolveBackendSecurity(
        _ spec: JSONValue?, org: String, secrets: [ResourceName: Secret], at: SourceLocation, ok: inout Bool
    ) -> BackendSecurity? {
        guard let spec, let type = spec["type"]?.stringValue else { return BackendSecurity.none }
        let path = JSONPath.root.appending("spec").appending("backendSecurity")
        func secret(_ run: inout LoadRun) -> SecretValue? {
            let value = run.secretValue(spec["secretRef"], org: org, secrets: secrets, at: at, path.appending("secretRef"))
            if value == nil { ok = false }
            return value
        }
        switch type {
        case "apiKey":
            guard let value = secret(&self) else { return nil }
            let location = BackendSecurity.APIKeyLocation(rawValue: spec["in"]?.stringValue ?? "header") ?? .header
            return .apiKey(location: location, name: spec["name"]?.stringValue ?? "", value: value)
        case "bearer":
            guard let value = secret(&self) else { return nil }
            return .bearer(token: value)
        case "basic":
            guard let value = secret(&self) else { return nil }
            return .basic(username: spec["username"]?.stringValue ?? "", password: value)
        case "oauth2ClientCredentials":
            guard let value = secret(&self) else { return nil }
            return .oauth2ClientCredentials(
                tokenURL: spec["tokenUrl"]?.stringValue ?? "", clientID: spec["clientId"]?.stringValue ?? "", clientSecret: value,
                scopes: spec["scopes"]?.arrayValue?.compactMap(\.stringValue) ?? [], audience: spec["audience"]?.stringValue)
        case "passthrough":
            return .passthrough(header: spec["header"]?.stringValue ?? "Authorization")
        default:
            return BackendSecurity.none
        }
    }

    mutating func resolveClientSecurity(
        _ spec: JSONValue?, org: String, secrets: [ResourceName: Secret], at: SourceLocation, ok: inout Bool
    ) -> ClientSecurity? {
        guard let spec, let type = spec["type"]?.stringValue else { return ClientSecurity.none }
        let path = JSONPath.root.appending("spec").appending("clientSecurity")
        switch type {
        case "apiKey":
            guard let value = secretValue(spec["secretRef"], org: org, secrets: secrets, at: at, path.appending("secretRef")) else {
                ok = false
                return nil
            }
            return .apiKey(header: spec["header"]?.stringValue ?? "X-API-Key", value: value)
        case "jwt":
            let jwks: ClientSecurity.JWKSSource
            if let file = spec["jwksFile"]?.stringValue {
                guard let (_, bytes) = readReferenced(file, at: at, path.appending("jwksFile"), limit: 1 << 20) else {
                    ok = false
                    return nil
                }
                jwks = .document(String(decoding: bytes, as: UTF8.self))
            } else {
                jwks = .url(spec["jwksUrl"]?.stringValue ?? "")
            }
            return .jwt(
                issuer: spec["issuer"]?.stringValue ?? "", audiences: spec["audiences"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                jwks: jwks, algorithms: spec["algorithms"]?.arrayValue?.compactMap(\.stringValue) ?? ["RS256", "ES256"],
                authorizationServers: spec["authorizationServers"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        default:
            return ClientSecurity.none
        }
    }

    // MARK: - Expositions

    static let reservedPrefixes = ["/health", "/status", "/metrics", "/.well-known"]

    mutating func resolveExpositions(plans: [ResourceName: (ConfigurationPlan, Service)]) -> ([ResolvedExposition], Set<ResourceName>) {
        var failed = Set(expositions.keys)
        for key in invalid.keys where key.kind == .exposition { failed.insert(key.name) }
        var byPath: [String: [ResolvedExposition]] = [:]
        for (name, candidate) in unique(expositions, kind: .exposition, describe: { $0.description }) {
            let spec = candidate.value
            let at = candidate.location
            let planPath = JSONPath.root.appending("spec").appending("plan")
            let planName = spec["plan"]?.stringValue ?? ""
            let planKey = ResourceName(org: name.org, name: planName)
            guard let (plan, service) = plans[planKey] else {
                if let invalidAt = invalid[InvalidKey(kind: .configurationPlan, name: planKey, version: nil)] {
                    report(at, planPath, "configuration plan \(planName) is invalid (see the errors at \(invalidAt))")
                } else {
                    report(at, planPath, "configuration plan \(planName) not found in org \(name.org)")
                }
                continue
            }
            let written = spec["path"]?.stringValue
            let path = written ?? "/mcp/\(name.org)/\(service.metadata.name)/\(service.version)"
            let pathField = JSONPath.root.appending("spec").appending("path")
            if path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) {
                report(at, pathField, "path segments . and .. are not allowed")
                continue
            }
            if let reserved = Self.reservedPrefixes.first(where: { path == $0 || path.hasPrefix($0 + "/") }) {
                report(at, written == nil ? JSONPath.root.appending("metadata") : pathField, "path \(path) is reserved for the gateway's \(reserved) endpoint")
                continue
            }
            let exposition = Exposition(
                metadata: candidate.metadata, planName: planName, path: written, description: spec["description"]?.stringValue, source: at)
            byPath[path, default: []].append(ResolvedExposition(name: name, path: path, exposition: exposition, plan: plan, service: service))
        }
        var served: [ResolvedExposition] = []
        for (path, claimants) in byPath {
            if claimants.count == 1, let only = claimants.first {
                served.append(only)
                failed.remove(only.name)
                continue
            }
            for claimant in claimants {
                let others = claimants.filter { $0.name != claimant.name }.map { "\($0.name) (\($0.exposition.source))" }.sorted()
                report(
                    claimant.exposition.source, JSONPath.root.appending("spec").appending("path"),
                    "endpoint path \(path) is also used by exposition \(others.joined(separator: ", "))")
            }
        }
        return (served, failed)
    }

    // MARK: - Gateway

    mutating func resolveGateway() -> GatewaySettings {
        var settings = GatewaySettings.defaults
        guard let candidate = gateways.first else { return settings }
        if gateways.count > 1 {
            for gateway in gateways {
                let others = gateways.filter { $0.location != gateway.location }.map(\.location.description).sorted()
                report(gateway.location, .root, "at most one Gateway resource is allowed; also defined at \(others.joined(separator: ", "))")
            }
            return settings
        }
        let spec = candidate.value
        let specPath = JSONPath.root.appending("spec")
        if let listen = spec["listen"]?.stringValue, let colon = listen.lastIndex(of: ":") {
            var host = String(listen[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
                report(candidate.location, specPath.appending("listen"), "port must be between 0 and 65535")
                return settings
            }
            settings.host = host
            settings.port = port
        }
        if let fqdns = spec["fqdns"]?.arrayValue?.compactMap(\.stringValue), !fqdns.isEmpty { settings.fqdns = fqdns }
        for (key, value) in spec["labels"]?.objectValue ?? [:] { settings.labels[key] = value.stringValue }
        if let limits = spec["limits"] {
            if let n = limits["maxBodyBytes"]?.intValue { settings.maxBodyBytes = n }
            if let d = limits["callTimeout"].flatMap(Duration.parse) { settings.callTimeout = d }
            if let n = limits["maxConcurrentCalls"]?.intValue { settings.maxConcurrentCalls = n }
            if let rate = limits["rateLimit"], let rps = rate["requestsPerSecond"]?.doubleValue {
                settings.rateLimit = GatewaySettings.RateLimit(requestsPerSecond: rps, burst: rate["burst"]?.intValue ?? max(1, Int(rps.rounded(.up))))
            }
        }
        if let origins = spec["allowedOrigins"]?.arrayValue?.compactMap(\.stringValue) { settings.allowedOrigins = origins }
        settings.source = candidate.location
        return settings
    }
}
