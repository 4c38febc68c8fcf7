import ReshaprJSON

/// Everything loaded from a configuration directory at one moment: what to serve and what is wrong.
///
/// Loading never stops at the first problem: each resource that fails is reported in `issues`
/// and left out, and only the expositions that depend on it are affected.
public struct Configuration: Sendable {
    /// The directory it was loaded from.
    public var root: String
    /// Endpoints to serve, sorted by path.
    public var expositions: [ResolvedExposition]
    public var gateway: GatewaySettings
    /// Valid resources found, by kind.
    public var resourceCounts: [ResourceKind: Int]
    /// Errors and warnings, sorted by file, document and field.
    public var issues: [ConfigIssue]
    /// Expositions found in the directory that cannot be served because of an error.
    public var failedExpositions: Set<ResourceName>
    /// Files that could not be read or parsed at all: what they held is unknown.
    public var unreadableFiles: Set<String>
    /// Number of YAML and JSON files examined.
    public var filesScanned: Int
    /// Number of `reshapr.io/v1` documents found, valid or not.
    public var resourceDocuments: Int

    public var errors: [ConfigIssue] { issues.filter { $0.severity == .error } }
    public var warnings: [ConfigIssue] { issues.filter { $0.severity == .warning } }
    public var isValid: Bool { !issues.contains { $0.severity == .error } }
}

/// The root itself is unusable: nothing can be loaded.
public struct ConfigDirectoryError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "configuration directory \(path): \(reason)" }
}

public struct LoaderOptions: Sendable {
    /// Largest file the loader reads, resource documents and artifacts alike.
    public var maxFileSize: Int

    /// 32 MiB: published API descriptions reach 10 MB and more (pretty-printed JSON).
    public static let defaultMaxFileSize = 32 << 20

    /// Where `${file:…}` references in Secrets may read.
    public var secretReferences: SecretReferencePolicy

    public init(maxFileSize: Int = LoaderOptions.defaultMaxFileSize, secretReferences: SecretReferencePolicy = SecretReferencePolicy()) {
        self.maxFileSize = maxFileSize
        self.secretReferences = secretReferences
    }
}
