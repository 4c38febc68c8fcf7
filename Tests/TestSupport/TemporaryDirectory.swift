import Foundation

/// A directory under the system temporary directory, removed by `remove()`.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    /// A directory at `path`, created if needed; `remove()` deletes it.
    public init(path: String) {
        self.path = path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public init(_ prefix: String = "reshapr-test") throws {
        let base = FileManager.default.temporaryDirectory.path
        path = base + "/" + prefix + "-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `contents` at `relative`, creating parent directories.
    @discardableResult
    public func write(_ relative: String, _ contents: String) throws -> String {
        try write(relative, Data(contents.utf8))
    }

    @discardableResult
    public func write(_ relative: String, _ data: Data) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: full))
        return full
    }

    public func symlink(_ relative: String, to destination: String) throws {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: destination)
    }

    public func mkdir(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: path + "/" + relative, withIntermediateDirectories: true)
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Paths of the repository, found from this source file.
public enum Repository {
    /// The package root.
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static var samples: String { root + "/samples" }
    public static var schemas: String { root + "/schema" }

    /// `../shared/corpus/openapi` beside the clone, or `$RESHAPR_CORPUS_DIR`.
    public static var openAPICorpus: String {
        if let override = ProcessInfo.processInfo.environment["RESHAPR_CORPUS_DIR"] { return override }
        return (root as NSString).deletingLastPathComponent + "/shared/corpus/openapi"
    }

    /// The TOON conformance fixtures: `../shared/corpus/toon` beside the clone, or `$RESHAPR_TOON_DIR`.
    public static var toonCorpus: String {
        if let override = ProcessInfo.processInfo.environment["RESHAPR_TOON_DIR"] { return override }
        return (root as NSString).deletingLastPathComponent + "/shared/corpus/toon"
    }
}
