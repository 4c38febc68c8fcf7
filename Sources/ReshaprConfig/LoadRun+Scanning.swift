import Foundation
import ReshaprJSON

/// Finding the files of the directory: the scan, the AtomicWriter revision pin.
extension LoadRun {
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
}
