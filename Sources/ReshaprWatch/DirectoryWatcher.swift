import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Why a directory cannot be watched.
public struct WatchError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// A burst of changes under the watched root, delivered once the directory has been quiet for
/// the debounce period (or once `maxDelay` has passed since the first change of the burst).
public struct ChangeBatch: Sendable, Hashable {
    /// inotify events in the burst.
    public var events: Int
    /// The kernel's event queue overflowed: changes were lost, read everything again.
    public var overflowed: Bool
    /// The root itself was created, deleted, moved or replaced.
    public var rootReplaced: Bool
    /// A few of the changed names, for logs.
    public var sample: [String]
}

/// Watches a configuration directory tree with Linux inotify: no polling, no extra process.
///
/// Every directory under the root is watched (following symbolic links, except VCS metadata
/// folders), and so is the root's parent, which sees the root being deleted, recreated or
/// replaced by `rename(2)` of a symbolic link. After each burst the set of watched directories is
/// brought up to date, so that directories created later are watched too. Changes to names that
/// start with `.` are ignored, except `..data`, the symbolic link the Kubernetes ConfigMap layout
/// and `reshapr-sync` swap to publish a new revision.
public final class DirectoryWatcher: Sendable {
    public let root: String
    public let debounce: Duration
    public let maxDelay: Duration

    private let fd: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let state: Mutex<State>
    private let continuation: AsyncStream<ChangeBatch>.Continuation
    /// Debounced change batches; one consumer.
    public let changes: AsyncStream<ChangeBatch>

    private struct State {
        /// Watch descriptor → watched directory path (as reached from the root).
        var watches: [Int32: String] = [:]
        var parentWatch: Int32 = -1
        var stopped = false
    }

    static let treeMask: UInt32 = UInt32(IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB)
        | UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
    static let parentMask: UInt32 = UInt32(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW)
    static let skippedDirectories: Set<String> = [".git", ".hg", ".svn"]

    public init(root: String, debounce: Duration = .milliseconds(25), maxDelay: Duration = .seconds(1)) throws(WatchError) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        self.debounce = debounce
        self.maxDelay = maxDelay
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw WatchError(description: "inotify_init1 failed: \(String(cString: strerror(errno)))") }
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else {
            close(fd)
            throw WatchError(description: "pipe failed: \(String(cString: strerror(errno)))")
        }
        for end in pipeFDs {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
        }
        self.fd = fd
        wakeRead = pipeFDs[0]
        wakeWrite = pipeFDs[1]
        state = Mutex(State())
        (changes, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(16))
        resyncWatches()
        let thread = Thread { [self] in self.readLoop() }
        thread.start()
    }

    deinit {
        close(fd)
        close(wakeRead)
        close(wakeWrite)
    }

    /// Stops watching; the `changes` stream ends.
    public func stop() {
        let first = state.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        guard first else { return }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    /// Number of directories watched (for status and tests).
    public var watchedDirectories: Int { state.withLock { $0.watches.count } }

    // MARK: - Watches

    /// Adds watches for every directory of the tree and for the root's parent; drops watches of
    /// directories that are gone. Adding a watch twice is harmless: inotify returns the same descriptor.
    func resyncWatches() {
        var found: [Int32: String] = [:]
        var visited: Set<[UInt64]> = []
        addTree(root, into: &found, visited: &visited, depth: 0)
        let parent = Self.parentDirectory(of: root)
        let parentWatch = inotify_add_watch(fd, parent, Self.parentMask)
        let stale: [Int32] = state.withLock { state in
            let stale = state.watches.keys.filter { found[$0] == nil && $0 != parentWatch }
            state.watches = found
            state.parentWatch = parentWatch
            return stale
        }
        for wd in stale { inotify_rm_watch(fd, wd) }
    }

    private func addTree(_ path: String, into found: inout [Int32: String], visited: inout Set<[UInt64]>, depth: Int) {
        var info = stat()
        guard depth < 32, stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR,
            visited.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted
        else { return }
        let wd = inotify_add_watch(fd, path, Self.treeMask)
        guard wd >= 0 else { return }
        found[wd] = path
        guard let dir = opendir(path) else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            guard name != ".", name != "..", !Self.skippedDirectories.contains(name) else { continue }
            let type = entry.pointee.d_type
            if type == UInt8(DT_DIR) || type == UInt8(DT_LNK) || type == UInt8(DT_UNKNOWN) {
                addTree(path + "/" + name, into: &found, visited: &visited, depth: depth + 1)
            }
        }
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    // MARK: - Reading and debouncing

    /// Runs on its own thread: waits for inotify events, groups them into bursts, emits batches.
    private func readLoop() {
        let rootName = String(root.split(separator: "/").last ?? Substring(root))
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var pending: ChangeBatch?
        var burstStart = ContinuousClock.now
        var lastEvent = ContinuousClock.now
        while true {
            var timeout: Int32 = -1
            if pending != nil {
                let now = ContinuousClock.now
                let untilQuiet = debounce - (now - lastEvent)
                let untilMax = maxDelay - (now - burstStart)
                let wait = min(untilQuiet, untilMax)
                timeout = max(0, Int32(wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000))
            }
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, timeout)
            if ready < 0 && errno == EINTR { continue }
            if fds[1].revents != 0 || state.withLock({ $0.stopped }) {
                continuation.finish()
                return
            }
            if ready == 0 {
                if let batch = pending {
                    resyncWatches()
                    continuation.yield(batch)
                    pending = nil
                }
                continue
            }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { continue }
            let events = parse(buffer, count: count, rootName: rootName)
            guard events.events > 0 else { continue }
            let now = ContinuousClock.now
            if pending == nil {
                pending = events
                burstStart = now
            } else if var batch = pending {
                batch.events += events.events
                batch.overflowed = batch.overflowed || events.overflowed
                batch.rootReplaced = batch.rootReplaced || events.rootReplaced
                if batch.sample.count < 5 { batch.sample += events.sample.prefix(5 - batch.sample.count) }
                pending = batch
            }
            lastEvent = now
        }
    }

    /// Relevant events of one read, as a batch fragment.
    func parse(_ buffer: [UInt8], count: Int, rootName: String) -> ChangeBatch {
        var batch = ChangeBatch(events: 0, overflowed: false, rootReplaced: false, sample: [])
        let (watches, parentWatch) = state.withLock { ($0.watches, $0.parentWatch) }
        var offset = 0
        let headerSize = MemoryLayout<inotify_event>.size
        buffer.withUnsafeBytes { raw in
            while offset + headerSize <= count {
                let wd = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                var name = ""
                if length > 0, let base = raw.baseAddress {
                    let start = base.advanced(by: offset + headerSize).assumingMemoryBound(to: CChar.self)
                    name = String(cString: start)
                }
                offset += headerSize + length
                if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                    batch.overflowed = true
                    batch.events += 1
                    continue
                }
                if mask & UInt32(IN_IGNORED) != 0 { continue }
                if wd == parentWatch {
                    // Only the root's own name matters in its parent.
                    if name == rootName {
                        batch.rootReplaced = true
                        batch.events += 1
                        batch.sample.append(name)
                    }
                    continue
                }
                if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF) != 0 {
                    if watches[wd] == root { batch.rootReplaced = true }
                    batch.events += 1
                    continue
                }
                if name.hasPrefix(".") && name != "..data" && mask & UInt32(IN_ISDIR) == 0 { continue }
                batch.events += 1
                if batch.sample.count < 5 {
                    let directory = watches[wd] ?? "?"
                    batch.sample.append(directory == root ? name : String(directory.dropFirst(root.count + 1)) + "/" + name)
                }
            }
        }
        return batch
    }
}
