import Foundation
import ReshaprConfig
import Synchronization

/// The configuration being served, swapped as a whole: readers take a consistent snapshot
/// and keep using it while a newer one is installed.
public final class ConfigurationStore: Sendable {
    /// One loaded configuration and when it was loaded.
    public struct Snapshot: Sendable {
        public var configuration: Configuration
        public var loadedAt: Date
        /// Increases by one at every install.
        public var generation: Int
    }

    private let state: Mutex<Snapshot>

    public init(_ configuration: Configuration, loadedAt: Date = Date()) {
        state = Mutex(Snapshot(configuration: configuration, loadedAt: loadedAt, generation: 1))
    }

    public var current: Snapshot {
        state.withLock { $0 }
    }

    public func install(_ configuration: Configuration, loadedAt: Date = Date()) {
        state.withLock { snapshot in
            snapshot = Snapshot(configuration: configuration, loadedAt: loadedAt, generation: snapshot.generation + 1)
        }
    }
}
