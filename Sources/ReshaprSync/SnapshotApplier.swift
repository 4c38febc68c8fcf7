import Foundation
import GRPCCore
import ReshaprSyncProtocol

/// Applies one event of the change stream to the files of the configuration directory: a
/// snapshot replaces them all, a change upserts and deletes.
///
/// Everything in an event comes from the network. A file whose content does not match its
/// SHA-256 fails the whole event (the stream is corrupt); a file whose path could leave the
/// directory or hide in it is left out and reported, so that one bad item never stalls the
/// sync of everything else.
public enum SnapshotApplier {
    /// The files after the event, and the paths that were refused.
    public struct Outcome: Sendable, Equatable {
        public var files: [String: Data]
        public var refused: [String]
    }

    /// `nil` for an event that carries nothing.
    public static func apply(_ event: Reshapr_Gateway_V1_ConfigurationEvent, to current: [String: Data]) throws(RPCError) -> Outcome? {
        var files = current
        var refused: [String] = []
        func upsert(_ file: Reshapr_Gateway_V1_File) throws(RPCError) {
            guard AtomicDirectoryWriter.isAcceptable(file.path) else {
                refused.append(file.path)
                return
            }
            files[file.path] = try verified(file)
        }
        switch event.event {
        case .snapshot(let snapshot):
            files = [:]
            for file in snapshot.files { try upsert(file) }
        case .change(let change):
            for file in change.upserts { try upsert(file) }
            for path in change.deletions { files.removeValue(forKey: path) }
        case nil:
            return nil
        }
        // A path that is both a file and a folder (`a` and `a/b`) cannot be written: the file wins.
        for path in files.keys.sorted() {
            var prefix = ""
            for part in path.split(separator: "/").dropLast() {
                prefix += prefix.isEmpty ? String(part) : "/" + part
                if files[prefix] != nil {
                    files.removeValue(forKey: path)
                    refused.append(path)
                    break
                }
            }
        }
        return Outcome(files: files, refused: refused.sorted())
    }

    static func verified(_ file: Reshapr_Gateway_V1_File) throws(RPCError) -> Data {
        guard file.sha256.isEmpty || Reshapr_Gateway_V1_File.sha256Hex(file.content) == file.sha256 else {
            throw RPCError(code: .dataLoss, message: "\(file.path) arrived corrupted (SHA-256 mismatch)")
        }
        return file.content
    }
}
