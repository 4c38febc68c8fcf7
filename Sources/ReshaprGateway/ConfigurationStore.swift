import Foundation
import ReshaprConfig
import Synchronization

/// The configuration being served and the endpoints compiled from it, swapped as a whole:
/// readers take a consistent snapshot and keep using it while a newer one is installed.
public final class ConfigurationStore: Sendable {
    /// One loaded configuration, its routing table, and when it was loaded.
    public struct Snapshot: Sendable {
        public var configuration: Configuration
        public var routing: RoutingTable
        public var history: ReloadHistory
        public var loadedAt: Date
        /// Increases by one at every install.
        public var generation: Int

        /// Configuration errors and warnings, then those found compiling the endpoints.
        public var issues: [ConfigIssue] { configuration.issues + routing.issues }
    }

    private let state: Mutex<Snapshot>

    public init(_ configuration: Configuration, routing: RoutingTable, loadedAt: Date = Date()) {
        state = Mutex(Snapshot(configuration: configuration, routing: routing, history: ReloadHistory(), loadedAt: loadedAt, generation: 1))
    }

    public var current: Snapshot {
        state.withLock { $0 }
    }

    public func install(_ configuration: Configuration, routing: RoutingTable, history: ReloadHistory, loadedAt: Date = Date()) {
        state.withLock { snapshot in
            snapshot = Snapshot(
                configuration: configuration, routing: routing, history: history, loadedAt: loadedAt, generation: snapshot.generation + 1)
        }
    }
}
