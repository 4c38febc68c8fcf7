import Foundation
import ReshaprConfig

extension FuzzTarget {
    /// A directory of the process's own, emptied before each input.
    static let scratch: String = {
        let path = FileManager.default.temporaryDirectory.path + "/reshapr-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// Files from the input: `### name` lines start a new file; the text before the first one
    /// is `a.yaml`. Names are reduced to safe relative paths inside `root`.
    static func writeFiles(_ bytes: [UInt8], into root: String) {
        try? FileManager.default.removeItem(atPath: root)
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var files: [(String, [UInt8])] = [("a.yaml", [])]
        var lineStart = true
        var index = 0
        while index < bytes.count {
            if lineStart, bytes[index...].starts(with: Array("### ".utf8)) {
                let end = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                files.append((safeName(bytes[(index + 4)..<end]), []))
                index = min(end + 1, bytes.count)
                continue
            }
            files[files.count - 1].1.append(bytes[index])
            lineStart = bytes[index] == UInt8(ascii: "\n")
            index += 1
        }
        for (name, content) in files.prefix(8) {
            let path = root + "/" + name
            try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            // A name the input makes unwritable (a file where a folder is wanted) is just left out.
            _ = FileManager.default.createFile(atPath: path, contents: Data(content))
        }
    }

    static func safeName(_ raw: ArraySlice<UInt8>) -> String {
        let allowed = raw.prefix(64).filter { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2E || byte == 0x2F || byte == 0x2D || byte == 0x5F
        }
        let parts = String(decoding: allowed, as: UTF8.self).split(separator: "/").filter { $0 != "." && $0 != ".." }.prefix(4)
        return parts.isEmpty ? "b.yaml" : parts.joined(separator: "/")
    }

    static func fuzzConfig(_ bytes: [UInt8]) {
        let root = scratch + "/config"
        writeFiles(bytes, into: root)
        guard let configuration = try? ConfigLoader(root: root).load() else { return }
        for issue in configuration.issues { _ = issue.description }
    }
}
