import Foundation
import Synchronization

/// Audit lines: one JSON object per line, appended to a file that is rotated by size
/// (`FILE` → `FILE.1` → … → `FILE.<keep>`), or written to standard output. The file is created
/// 0600. A line that cannot be written is counted in ``failedWrites``, never a crash.
public final class AuditLog: Sendable {
    struct State {
        var descriptor: Int32
        var size: Int
    }

    /// `nil`: standard output.
    public let path: String?
    public let maxBytes: Int
    public let keep: Int
    private let state: Mutex<State>
    private let failures = Atomic<Int>(0)

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Opens (creating) the file at `path`; it is rotated once it would pass `maxBytes`.
    public convenience init(path: String, maxBytes: Int = 100 << 20, keep: Int = 5) throws(Failure) {
        let descriptor = try Self.open(path)
        var info = stat()
        let size = fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
        self.init(path: path, descriptor: descriptor, size: size, maxBytes: maxBytes, keep: keep)
    }

    /// Lines on standard output.
    public static func standardOutput() -> AuditLog {
        AuditLog(path: nil, descriptor: STDOUT_FILENO, size: 0, maxBytes: .max, keep: 1)
    }

    private init(path: String?, descriptor: Int32, size: Int, maxBytes: Int, keep: Int) {
        self.path = path
        self.maxBytes = max(4096, maxBytes)
        self.keep = max(1, keep)
        state = Mutex(State(descriptor: descriptor, size: size))
    }

    deinit {
        if path != nil { state.withLock { _ = close($0.descriptor) } }
    }

    /// The time of an audit line: ISO 8601, UTC, milliseconds.
    public static func timestamp(_ date: Date = Date()) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
    }

    /// Lines that could not be written (a full disk, a removed folder).
    public var failedWrites: Int { failures.load(ordering: .relaxed) }

    /// Appends `line` (which holds no newline) and a newline.
    public func write(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        let written = state.withLock { state -> Bool in
            if let path, state.size > 0, state.size + bytes.count > maxBytes {
                rotate(path, &state)
            }
            let count = bytes.withUnsafeBytes { Foundation.write(state.descriptor, $0.baseAddress, $0.count) }
            guard count == bytes.count else { return false }
            state.size += count
            return true
        }
        if !written { failures.wrappingAdd(1, ordering: .relaxed) }
    }

    private func rotate(_ path: String, _ state: inout State) {
        _ = close(state.descriptor)
        for index in stride(from: keep - 1, through: 1, by: -1) { _ = rename("\(path).\(index)", "\(path).\(index + 1)") }
        _ = rename(path, path + ".1")
        state.descriptor = (try? Self.open(path)) ?? -1
        state.size = 0
    }

    static func open(_ path: String) throws(Failure) -> Int32 {
        let descriptor = Foundation.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Failure(description: "cannot open the audit log \(path): \(String(cString: strerror(errno)))") }
        return descriptor
    }
}
