#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Why the configuration directory could not be written.
public struct WriteError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Publishes a complete set of files into a directory the way Kubernetes' AtomicWriter does,
/// so that a reader never sees half of a revision, even if the writer is killed mid-write:
///
/// 1. the files go into a new hidden folder `..<revision>_<timestamp>`, each fsynced;
/// 2. a symlink `..data_tmp` → that folder is created and renamed over `..data` (atomic);
/// 3. each top-level name (`services`, `plans` …) is a symlink into `..data/`;
/// 4. visible names that are no longer used are removed, and revision folders older than the
///    two previous ones (a reader that pinned one of those while it loads keeps its files).
///
/// Before step 2 the previous revision is untouched; after it the new one is complete.
public struct AtomicDirectoryWriter: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    /// Writes `files` (relative path → content) as the new content of the directory.
    public func publish(_ files: [String: Data], revision: Int64) throws(WriteError) {
        for path in files.keys { try Self.check(path) }
        try Self.makeDirectory(root)
        let folder = "..\(revision)_\(Int(Date().timeIntervalSince1970 * 1000))"
        let folderPath = root + "/" + folder
        try Self.makeDirectory(folderPath)
        for (path, content) in files.sorted(by: { $0.key < $1.key }) {
            let full = folderPath + "/" + path
            try Self.makeDirectory((full as NSString).deletingLastPathComponent)
            try Self.writeSynced(full, content)
        }
        try Self.syncDirectory(folderPath)

        // The atomic step.
        let temporary = root + "/..data_tmp"
        unlink(temporary)
        guard symlink(folder, temporary) == 0 else { throw Self.failure("cannot create \(temporary)") }
        guard rename(temporary, root + "/..data") == 0 else { throw Self.failure("cannot rename \(temporary) over ..data") }
        try Self.syncDirectory(root)

        // Visible names: one symlink per top-level entry.
        let topLevel = Set(files.keys.compactMap { $0.split(separator: "/").first.map(String.init) })
        for name in topLevel {
            let link = root + "/" + name
            var info = stat()
            if lstat(link, &info) == 0 {
                if info.st_mode & S_IFMT == S_IFLNK, (try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == "..data/" + name { continue }
                throw WriteError(description: "\(link) exists and is not a link into ..data; move it away so that the sync can manage this directory")
            }
            guard symlink("..data/" + name, link) == 0 else { throw Self.failure("cannot create \(link)") }
        }
        // Clean-up: links that point into ..data for names that are gone, and old revision folders.
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let revisions = entries.filter { $0.hasPrefix("..") && $0 != "..data" && $0 != "..data_tmp" && $0 != folder }
            .sorted { Self.revisionOrder($0) > Self.revisionOrder($1) }
        for old in revisions.dropFirst(2) { try? FileManager.default.removeItem(atPath: root + "/" + old) }
        for name in entries where !name.hasPrefix(".") {
            let path = root + "/" + name
            if !topLevel.contains(name), let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path), target.hasPrefix("..data/") {
                unlink(path)
            }
        }
    }

    /// Revision folders (`..<revision>_<millis>`) by age: their millisecond stamp.
    static func revisionOrder(_ name: String) -> Int {
        Int(name.split(separator: "_").last ?? "") ?? 0
    }

    /// The files of the revision currently published (empty when there is none).
    public func currentFiles() -> [String: Data] {
        guard let revision = try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/..data") else { return [:] }
        let data = root + "/" + revision
        guard let enumerator = FileManager.default.enumerator(atPath: data) else { return [:] }
        var files: [String: Data] = [:]
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: data + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue,
                let content = FileManager.default.contents(atPath: data + "/" + relative)
            else { continue }
            files[relative] = content
        }
        return files
    }

    /// Writes a small file atomically (temporary file, fsync, rename): for the status file.
    public func writeAtomically(_ name: String, _ content: Data) throws(WriteError) {
        try Self.makeDirectory(root)
        let temporary = root + "/." + name + ".tmp"
        try Self.writeSynced(temporary, content)
        guard rename(temporary, root + "/" + name) == 0 else { throw Self.failure("cannot rename \(temporary)") }
    }

    /// Paths come from the control plane: refuse anything that could leave the folder or hide.
    static func check(_ path: String) throws(WriteError) {
        guard isAcceptable(path) else {
            throw WriteError(description: "refusing file path \"\(path)\": it must be relative, without '.', '..', empty or hidden parts")
        }
    }

    /// Whether `path` stays inside the folder, visible: relative, no `.`, `..`, empty or hidden
    /// parts, no NUL, at most 16 levels and 255 bytes a part.
    public static func isAcceptable(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return !path.isEmpty && !path.hasPrefix("/") && parts.count <= 16 && !path.utf8.contains(0)
            && !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." || $0.hasPrefix(".") || $0.utf8.count > 255 })
    }

    static func failure(_ what: String) -> WriteError {
        WriteError(description: "\(what): \(String(cString: strerror(errno)))")
    }

    static func makeDirectory(_ path: String) throws(WriteError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw WriteError(description: "cannot create \(path): \(error.localizedDescription)")
        }
    }

    static func writeSynced(_ path: String, _ content: Data) throws(WriteError) {
        // Configuration holds Secrets: readable by the owner only.
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("cannot write \(path)") }
        defer { close(fd) }
        var written = 0
        while written < content.count {
            let n = content.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + written }, content.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("cannot write \(path)")
            }
            written += n
        }
        guard fsync(fd) == 0 else { throw failure("cannot fsync \(path)") }
    }

    static func syncDirectory(_ path: String) throws(WriteError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open \(path)") }
        defer { close(fd) }
        _ = fsync(fd)
    }
}
