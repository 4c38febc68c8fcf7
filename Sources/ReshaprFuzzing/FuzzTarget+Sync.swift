import Foundation
import ReshaprConfig
import ReshaprSync
import ReshaprSyncProtocol
import Synchronization

extension FuzzTarget {
    /// Files of the previous inputs, so that changes apply to something, and the revision.
    static let syncState = Mutex<(files: [String: Data], revision: Int64)>(([:], 0))

    /// The input is a `ConfigurationEvent` as the control plane streams it: applied, written
    /// atomically to a directory, which the loader then reads.
    static func fuzzSync(_ bytes: [UInt8]) {
        let (files, revision) = syncState.withLock { state in
            state.revision += 1
            return (state.files, state.revision)
        }
        guard let event = try? Reshapr_Gateway_V1_ConfigurationEvent(serializedBytes: bytes),
            let outcome = try? SnapshotApplier.apply(event, to: files)
        else { return }
        let root = scratch + "/sync"
        // Folders are kept small: start over every 64 inputs.
        if revision % 64 == 0 { try? FileManager.default.removeItem(atPath: root) }
        do {
            try AtomicDirectoryWriter(root: root).publish(outcome.files, revision: revision)
            syncState.withLock { $0.files = outcome.files }
        } catch {
            return
        }
        _ = try? ConfigLoader(root: root).load()
    }
}
