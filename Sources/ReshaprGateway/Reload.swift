import Dispatch
import Foundation
import Logging
import ReshaprConfig
import ReshaprJSON
import ReshaprMCP
import ReshaprWatch
import ServiceLifecycle
import UnixSignals

/// What the reloads so far did, shown on `/status`.
public struct ReloadHistory: Sendable {
    public var succeeded = 0
    /// Reloads that could not read the directory at all (the previous configuration stays).
    public var failed = 0
    public var lastReason: String?
    public var lastDuration: Duration?
    public var lastError: String?
}

/// The outcome of one reload.
public struct ReloadReport: Sendable {
    public var generation: Int
    public var duration: Duration
    public var added: Set<String>
    public var removed: Set<String>
    /// Endpoints whose tool list changed (their sessions were notified).
    public var changed: Set<String>
    /// Endpoints kept at their last good version because their new version has errors.
    public var keptLastGood: Set<String>
    public var error: String?
}

extension Gateway {
    /// Serializes reloads, off the cooperative thread pool (loading reads and parses files).
    static let reloadQueue = DispatchQueue(label: "reshapr.gateway.reload")

    /// Loads the directory again and swaps the routing table atomically. Calls in flight finish
    /// on the table they started with; sessions stay open; legacy sessions and modern
    /// subscriptions of endpoints whose tools changed get `notifications/tools/list_changed`. An exposition whose new version fails
    /// keeps serving its last good version, and the errors are on `/status`.
    @discardableResult
    public func reload(reason: String) async -> ReloadReport {
        await withCheckedContinuation { continuation in
            Self.reloadQueue.async {
                continuation.resume(returning: self.reloadNow(reason: reason))
            }
        }
    }

    private func reloadNow(reason: String) -> ReloadReport {
        let started = ContinuousClock.now
        let previous = store.current
        let configuration: Configuration
        do {
            configuration = try ConfigLoader(root: options.configDirectory, options: options.loader).load()
        } catch {
            var history = previous.history
            history.failed += 1
            history.lastReason = reason
            history.lastError = "\(error); still serving the configuration loaded at \(previous.loadedAt.ISO8601Format())"
            history.lastDuration = ContinuousClock.now - started
            store.install(previous.configuration, routing: previous.routing, history: history, loadedAt: previous.loadedAt)
            logger.error("reload failed: \(error)", metadata: ["reason": "\(reason)"])
            metrics.reload(succeeded: false)
            return ReloadReport(
                generation: store.current.generation, duration: ContinuousClock.now - started, added: [], removed: [], changed: [],
                keptLastGood: [], error: "\(error)")
        }
        var routing = RoutingTable.build(configuration, backend: backend, metrics: metrics, logger: logger, reusing: previous.routing)

        // A broken edit never takes an endpoint down: keep the last good version of each
        // exposition that still exists but now fails, or whose files cannot be read.
        var kept: Set<String> = []
        let servedNames = Set(routing.endpoints.values.map(\.exposition.name))
        for (path, old) in previous.routing.endpoints where routing.endpoints[path] == nil {
            let exposition = old.exposition
            let files = [exposition.exposition.source.file, exposition.plan.source.file, exposition.service.source.file]
            let broken = configuration.failedExpositions.contains(exposition.name) || files.contains(where: configuration.unreadableFiles.contains)
                || routing.failed.contains(exposition.name)
            guard broken, !servedNames.contains(exposition.name) else { continue }
            routing.endpoints[path] = old
            for alias in exposition.aliases where routing.aliases[alias] == nil && routing.endpoints[alias] == nil { routing.aliases[alias] = path }
            kept.insert(path)
            let source = exposition.exposition.source
            routing.issues.append(
                ConfigIssue(
                    severity: .warning, file: source.file, document: source.document,
                    message: "exposition \(exposition.name) has errors; its last good version stays served at \(path) until they are fixed"))
        }
        if let listen = configuration.gateway.source, configuration.gateway.host != previous.configuration.gateway.host
            || configuration.gateway.port != previous.configuration.gateway.port
        {
            routing.issues.append(
                ConfigIssue(severity: .warning, file: listen.file, document: listen.document, path: JSONPath.root.appending("spec").appending("listen"),
                    message: "a new listen address takes effect at the next restart"))
        }

        var history = previous.history
        history.succeeded += 1
        history.lastReason = reason
        history.lastError = nil
        history.lastDuration = ContinuousClock.now - started
        store.install(configuration, routing: routing, history: history)
        metrics.reload(succeeded: true)

        let before = Set(previous.routing.endpoints.keys)
        let after = Set(routing.endpoints.keys)
        // Endpoints whose tools, prompts or resources changed hear of it.
        var changedBy: [SubscriptionHub.Kind: Set<String>] = [:]
        for path in before.intersection(after) {
            guard let old = previous.routing.endpoints[path], let new = routing.endpoints[path], old !== new else { continue }
            if old.tools != new.tools { changedBy[.toolsListChanged, default: []].insert(path) }
            if old.content.prompts != new.content.prompts { changedBy[.promptsListChanged, default: []].insert(path) }
            if old.content.resources != new.content.resources || old.content.templates != new.content.templates {
                changedBy[.resourcesListChanged, default: []].insert(path)
            }
        }
        for (kind, paths) in changedBy {
            sessions.notify(kind, paths: paths)
            subscriptions.notify(kind, paths: paths)
        }
        let changed = changedBy[.toolsListChanged] ?? []
        sessions.closeStreams(notIn: after)
        subscriptions.close(notIn: after)
        for path in before.subtracting(after) {
            previous.routing.endpoints[path]?.metrics.retire()
        }
        let report = ReloadReport(
            generation: store.current.generation, duration: ContinuousClock.now - started, added: after.subtracting(before),
            removed: before.subtracting(after), changed: changed, keptLastGood: kept, error: nil)
        var metadata: Logger.Metadata = [
            "reason": "\(reason)", "generation": "\(report.generation)", "endpoints": "\(after.count)",
            "durationMs": "\(report.duration.components.seconds * 1000 + report.duration.components.attoseconds / 1_000_000_000_000_000)",
        ]
        if !report.added.isEmpty { metadata["added"] = "\(report.added.sorted())" }
        if !report.removed.isEmpty { metadata["removed"] = "\(report.removed.sorted())" }
        if !changed.isEmpty { metadata["toolsChanged"] = "\(changed.sorted())" }
        if let paths = changedBy[.promptsListChanged] { metadata["promptsChanged"] = "\(paths.sorted())" }
        if let paths = changedBy[.resourcesListChanged] { metadata["resourcesChanged"] = "\(paths.sorted())" }
        if !kept.isEmpty { metadata["keptLastGood"] = "\(kept.sorted())" }
        for issue in store.current.issues where !previous.issues.contains(issue) {
            switch issue.severity {
            case .error: logger.error("\(issue.description)")
            case .warning: logger.warning("\(issue.description)")
            }
        }
        logger.info("configuration reloaded", metadata: metadata)
        return report
    }
}

/// Reloads the configuration when the directory changes (inotify) or on SIGHUP.
struct ReloadService: ServiceLifecycle.Service {
    let gateway: Gateway
    let watcher: DirectoryWatcher?

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            if let watcher {
                group.addTask {
                    for await batch in watcher.changes {
                        let reason = batch.overflowed
                            ? "inotify queue overflow (full rescan)"
                            : batch.rootReplaced ? "configuration directory replaced" : "\(batch.events) change(s): \(batch.sample.joined(separator: ", "))"
                        await gateway.reload(reason: reason)
                    }
                }
            }
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sighup) {
                    await gateway.reload(reason: "SIGHUP")
                }
            }
            group.addTask {
                try? await gracefulShutdown()
            }
            // Whichever ends first (shutdown, or a stream finishing) ends the service.
            await group.next()
            watcher?.stop()
            group.cancelAll()
        }
    }
}
