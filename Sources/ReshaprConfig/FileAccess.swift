#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be read, worded for people.
struct FileAccessError: Error, CustomStringConvertible {
    var description: String
}

/// Minimal POSIX file access: the loader needs `stat` with symlinks followed, device and inode
/// numbers for loop detection, and reads that never block on a FIFO.
enum FileAccess {
    enum EntryType {
        case file(size: Int)
        case directory(id: DirectoryID)
        case other
    }

    struct DirectoryID: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    static func errnoText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    /// The type of `path` after following symlinks.
    static func type(of path: String) throws(FileAccessError) -> EntryType {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            var linkInfo = stat()
            if code == ENOENT, lstat(path, &linkInfo) == 0 {
                throw FileAccessError(description: "broken symbolic link")
            }
            throw FileAccessError(description: errnoText(code))
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file(size: Int(info.st_size))
        case S_IFDIR: return .directory(id: DirectoryID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)))
        default: return .other
        }
    }

    /// Names in a directory, sorted, without `.` and `..`.
    static func list(_ path: String) throws(FileAccessError) -> [String] {
        guard let dir = opendir(path) else { throw FileAccessError(description: errnoText(errno)) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Reads a whole regular file, refusing files larger than `limit` bytes.
    static func readAll(_ path: String, limit: Int) throws(FileAccessError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT {
                var linkInfo = stat()
                if lstat(path, &linkInfo) == 0 { throw FileAccessError(description: "broken symbolic link") }
                throw FileAccessError(description: "file not found")
            }
            throw FileAccessError(description: errnoText(code))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileAccessError(description: errnoText(errno)) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw FileAccessError(description: "not a regular file") }
        let size = Int(info.st_size)
        guard size <= limit else {
            throw FileAccessError(description: "file is \(formatBytes(size)), over the \(formatBytes(limit)) limit (--max-file-size)")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var total = 0
        while total < size {
            let n = bytes.withUnsafeMutableBytes { buffer in
                read(fd, buffer.baseAddress.map { $0 + total }, size - total)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileAccessError(description: errnoText(errno))
            }
            if n == 0 { break }
            total += n
        }
        return total == size ? bytes : Array(bytes[..<total])
    }

    static func formatBytes(_ n: Int) -> String {
        if n >= 1 << 20 { return "\(Double(n * 10 / (1 << 20)) / 10) MiB" }
        if n >= 1 << 10 { return "\(n >> 10) KiB" }
        return "\(n) bytes"
    }
}

/// Lexical path arithmetic inside the configuration root.
enum RelativePath {
    /// Resolves `reference`, written in the file at `referrer` (both relative to the root),
    /// refusing absolute paths and paths that climb out of the root.
    static func resolve(_ reference: String, from referrer: String) -> Result<String, FileAccessError> {
        if reference.hasPrefix("/") {
            return .failure(FileAccessError(description: "absolute paths are not allowed; write a path relative to \(referrer)"))
        }
        if reference.utf8.contains(0) {
            return .failure(FileAccessError(description: "path contains a NUL byte"))
        }
        var components = referrer.split(separator: "/").dropLast().map(String.init)
        for part in reference.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..":
                if components.isEmpty {
                    return .failure(FileAccessError(description: "path \(reference) escapes the configuration directory"))
                }
                components.removeLast()
            default:
                components.append(String(part))
            }
        }
        if components.isEmpty {
            return .failure(FileAccessError(description: "path \(reference) names the configuration directory itself"))
        }
        return .success(components.joined(separator: "/"))
    }
}
