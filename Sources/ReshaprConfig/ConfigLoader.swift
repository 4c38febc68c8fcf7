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
}
