import Foundation
import Synchronization
import TestSupport
import Testing

@testable import ReshaprWatch

/// Real inotify on real temporary directories.
@Suite struct DirectoryWatcherTests {
    /// Collects batches from a watcher in the background.
    final class Collector: Sendable {
        let watcher: DirectoryWatcher
        private let batches = Locked<[ChangeBatch]>([])
        private let task: Task<Void, Never>

        init(_ watcher: DirectoryWatcher) {
            self.watcher = watcher
            let store = batches
            task = Task { for await batch in watcher.changes { store.mutate { $0.append(batch) } } }
        }

        var received: [ChangeBatch] { batches.value }

        /// Waits until at least `count` batches arrived (or 10 s).
        func waitFor(_ count: Int) async throws -> [ChangeBatch] {
            for _ in 0..<500 where received.count < count { try await Task.sleep(for: .milliseconds(20)) }
            return received
        }

        func stop() async {
            watcher.stop()
            await task.value
        }
    }

    @Test func fileChangesArriveAsDebouncedBatches() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let collector = Collector(try DirectoryWatcher(root: dir.path, debounce: .milliseconds(50)))
        try dir.write("a.yaml", "x: 1\n")
        let first = try await collector.waitFor(1)
        #expect(first.count == 1)
        #expect(first.first?.sample.contains("a.yaml") == true)

        // A burst of 500 writes is a handful of batches, not 500.
        for i in 0..<500 { try dir.write("burst/\(i % 50).yaml", "x: \(i)\n") }
        _ = try await collector.waitFor(2)
        try await Task.sleep(for: .milliseconds(300))
        let afterBurst = collector.received.count - 1
        #expect(afterBurst >= 1)
        #expect(afterBurst <= 10, "\(afterBurst) batches for one burst")
        await collector.stop()
    }

    @Test func directoriesCreatedLaterAreWatched() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let collector = Collector(try DirectoryWatcher(root: dir.path, debounce: .milliseconds(30)))
        try dir.mkdir("later/deeper")
        _ = try await collector.waitFor(1)
        try dir.write("later/deeper/plan.yaml", "x: 1\n")
        let batches = try await collector.waitFor(2)
        #expect(batches.count >= 2)
        #expect(batches.last?.sample.contains("later/deeper/plan.yaml") == true)
        #expect(collector.watcher.watchedDirectories == 3)
        await collector.stop()
    }

    @Test func dotFilesAreIgnoredButTheDataSymlinkSwapIsNot() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("..v1/service.yaml", "x: 1\n")
        try dir.write("..v2/service.yaml", "x: 2\n")
        try dir.symlink("..data", to: "..v1")
        try dir.symlink("service.yaml", to: "..data/service.yaml")
        let collector = Collector(try DirectoryWatcher(root: dir.path, debounce: .milliseconds(30)))
        try dir.write(".service.yaml.swp", "editor noise")
        try await Task.sleep(for: .milliseconds(300))
        #expect(collector.received.isEmpty)
        // The AtomicWriter swap: a new symlink renamed over ..data.
        try dir.symlink("..data_tmp", to: "..v2")
        #expect(rename(dir.path + "/..data_tmp", dir.path + "/..data") == 0)
        let batches = try await collector.waitFor(1)
        #expect(batches.first?.sample.contains("..data") == true)
        await collector.stop()
    }

    @Test func theRootCanBeDeletedRecreatedOrSwapped() async throws {
        let parent = try TemporaryDirectory()
        defer { parent.remove() }
        try parent.write("v1/a.yaml", "x: 1\n")
        try parent.write("v2/a.yaml", "x: 2\n")
        try parent.symlink("config", to: "v1")
        let root = parent.path + "/config"
        let collector = Collector(try DirectoryWatcher(root: root, debounce: .milliseconds(30)))

        // Swap the symlinked root atomically.
        try parent.symlink("config.tmp", to: "v2")
        #expect(rename(parent.path + "/config.tmp", root) == 0)
        let swapped = try await collector.waitFor(1)
        #expect(swapped.last?.rootReplaced == true)
        try parent.write("v2/b.yaml", "x: 3\n")
        let afterSwap = try await collector.waitFor(2)
        #expect(afterSwap.last?.sample.contains("b.yaml") == true, "the new root is watched")

        // Delete the root and create it again.
        try FileManager.default.removeItem(atPath: root)
        _ = try await collector.waitFor(3)
        try parent.mkdir("config")
        let recreated = try await collector.waitFor(4)
        #expect(recreated.last?.rootReplaced == true)
        try parent.write("config/c.yaml", "x: 4\n")
        let afterRecreate = try await collector.waitFor(5)
        #expect(afterRecreate.last?.sample.contains("c.yaml") == true)
        await collector.stop()
    }

    @Test func editorStyleSavesAreSeen() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("plan.yaml", "x: 1\n")
        let collector = Collector(try DirectoryWatcher(root: dir.path, debounce: .milliseconds(30)))
        // Write a hidden temporary file, then rename it over the real one (vim, rsync, kubectl cp).
        try dir.write(".plan.yaml.swp", "x: 2\n")
        #expect(rename(dir.path + "/.plan.yaml.swp", dir.path + "/plan.yaml") == 0)
        let batches = try await collector.waitFor(1)
        #expect(batches.first?.sample == ["plan.yaml"])
        await collector.stop()
    }

    @Test func aQueueOverflowAsksForAFullRescan() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let watcher = try DirectoryWatcher(root: dir.path)
        defer { watcher.stop() }
        // The record the kernel queues when events were dropped: wd -1, mask IN_Q_OVERFLOW, no name.
        var record = [UInt8](repeating: 0, count: MemoryLayout<inotify_event>.size)
        withUnsafeBytes(of: Int32(-1)) { record.replaceSubrange(0..<4, with: $0) }
        withUnsafeBytes(of: UInt32(IN_Q_OVERFLOW)) { record.replaceSubrange(4..<8, with: $0) }
        let batch = watcher.parse(record, count: record.count, rootName: "x")
        #expect(batch.overflowed)
        #expect(batch.events == 1)
    }

    @Test func stoppingEndsTheStream() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let watcher = try DirectoryWatcher(root: dir.path)
        watcher.stop()
        var count = 0
        for await _ in watcher.changes { count += 1 }
        #expect(count == 0)
    }
}

/// A value behind a lock, for test bookkeeping.
final class Locked<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>

    init(_ value: Value) {
        storage = Mutex(value)
    }

    var value: Value { storage.withLock { $0 } }

    func mutate(_ body: (inout Value) -> Void) {
        storage.withLock { body(&$0) }
    }
}
