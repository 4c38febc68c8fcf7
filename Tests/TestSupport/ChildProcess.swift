import Foundation
import Glibc
import Synchronization

/// A program started by a test, with its output collected as it arrives.
/// Every test that starts one stops it (`terminate`, then `waitForExit`).
///
/// Started with `posix_spawn`, an empty signal mask and default signal dispositions, as a
/// service manager or container runtime would start it: the test process's own threads block
/// and ignore signals (swift-service-lifecycle, SwiftNIO), and children would inherit that.
public final class ChildProcess: Sendable {
    public struct Timeout: Error, CustomStringConvertible {
        public var description: String
    }

    private let process: Spawned
    private let stdoutBuffer = OutputBuffer()
    private let stderrBuffer = OutputBuffer()
    private let outputPipes: [(CloseOnExecPipe, OutputBuffer)]

    /// Starts `executable`; `input`, when given, is written to its standard input, which is then closed.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil) throws {
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let out = try CloseOnExecPipe()
        let err = try CloseOnExecPipe()
        let stdin = try CloseOnExecPipe()
        outputPipes = [(out, stdoutBuffer), (err, stderrBuffer)]
        out.fileHandleForReading.readabilityHandler = { [stdoutBuffer] handle in
            stdoutBuffer.append(handle.availableData)
        }
        err.fileHandleForReading.readabilityHandler = { [stderrBuffer] handle in
            stderrBuffer.append(handle.availableData)
        }
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(devNull) }
        process = try Spawned(
            executable, arguments, environment: env,
            stdin: input == nil ? devNull : stdin.fileHandleForReading.fileDescriptor,
            stdout: out.fileHandleForWriting.fileDescriptor, stderr: err.fileHandleForWriting.fileDescriptor)
        // The child has its copies; ours must close so that reads end when the child exits.
        try out.fileHandleForWriting.close()
        try err.fileHandleForWriting.close()
        try stdin.fileHandleForReading.close()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
        }
        try stdin.fileHandleForWriting.close()
    }

    public var pid: Int32 { process.pid }
    public var stdout: String { stdoutBuffer.text }
    public var stderr: String { stderrBuffer.text }

    /// Waits until standard error contains `text`; returns the first line that does.
    public func waitForStderr(containing text: String, timeout: Duration = .seconds(30)) async throws -> String {
        try await wait(for: text, in: { self.stderr }, stream: "stderr", timeout: timeout)
    }

    /// Waits until standard output contains `text`; returns the first line that does.
    public func waitForStdout(containing text: String, timeout: Duration = .seconds(30)) async throws -> String {
        try await wait(for: text, in: { self.stdout }, stream: "stdout", timeout: timeout)
    }

    private func wait(for text: String, in output: () -> String, stream: String, timeout: Duration) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = output().split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
            if !process.isRunning && !output().contains(text) {
                throw Timeout(description: "process exited (\(process.terminationStatus ?? -1)) before printing \(text):\n\(stderr)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Timeout(description: "no \(text) on \(stream) within \(timeout):\n\(stderr)")
    }

    public func terminate() {
        if process.isRunning { Glibc.kill(process.pid, SIGTERM) }
    }

    /// Ends the process at once, with no chance to clean up (a lost host).
    public func kill() {
        if process.isRunning { Glibc.kill(process.pid, SIGKILL) }
    }

    /// A child outliving its handle would outlive the test too (a start that timed out throws
    /// before the caller's `defer` exists): it is stopped with its handle.
    deinit {
        if process.isRunning { Glibc.kill(process.pid, SIGKILL) }
    }

    /// Waits for the process to end; kills it if it outlives `timeout`.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                Glibc.kill(process.pid, SIGKILL)
                throw Timeout(description: "process \(process.pid) still running after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        // Read what the process wrote last, up to the end of each pipe.
        for (pipe, buffer) in outputPipes {
            pipe.fileHandleForReading.readabilityHandler = nil
            buffer.append(pipe.fileHandleForReading.readDataToEndOfFile())
        }
        return process.terminationStatus ?? -1
    }

    /// Runs a program to completion.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try ChildProcess(executable, arguments, environment: environment, input: input)
        let status = try await child.waitForExit()
        return (status, child.stdout, child.stderr)
    }
}

extension Repository {
    /// A product built beside the running test bundle, e.g. `reshapr-gateway`.
    public static func builtProduct(_ name: String) -> String {
        let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: testBinary).deletingLastPathComponent()
        // On Linux the test binary is <bin>/reshaprPackageTests.xctest; elsewhere it is inside a bundle.
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent(name).path
    }
}

/// Bytes a child process wrote to one of its streams.
private final class OutputBuffer: Sendable {
    private let data = Mutex(Data())

    func append(_ chunk: Data) {
        data.withLock { $0.append(chunk) }
    }

    var text: String {
        data.withLock { String(decoding: $0, as: UTF8.self) }
    }
}

/// A process started with `posix_spawn`, reaped with `waitpid`.
private final class Spawned: Sendable {
    let pid: pid_t
    private let status = Mutex<Int32?>(nil)

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc module does
    /// not export: the child closes every descriptor from `lowest` on, atomically with the spawn.
    static let addCloseFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            return { _, _ in ENOSYS }
        }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    init(_ executable: String, _ arguments: [String], environment: [String: String], stdin: Int32, stdout: Int32, stderr: Int32) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        // Nothing else of ours goes to the child: SwiftNIO opens its sockets without
        // close-on-exec, and a child holding a copy of a test's connection keeps it open after
        // the test closes it (the server never sees the client leave).
        let closing = Self.addCloseFrom(&actions, 3)
        guard closing == 0 else { throw POSIXError(POSIXErrorCode(rawValue: closing) ?? .ENOSYS) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = spawnLock.withLock { _ in posix_spawn(&pid, executable, &actions, &attributes, argv, envp) }
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EINVAL) }
        self.pid = pid
    }

    /// Reaps the process if it has ended.
    var isRunning: Bool {
        status.withLock { status in
            guard status == nil else { return false }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return true }
            // Exit status, or 128 + signal number as a shell reports it.
            status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            return false
        }
    }

    var terminationStatus: Int32? {
        _ = isRunning
        return status.withLock { $0 }
    }
}

/// Held while pipes are made close-on-exec and while children are spawned, so that no child
/// is spawned between a pipe's creation and its `FD_CLOEXEC` (glibc's `pipe2` is not visible
/// to Swift here).
private let spawnLock = Mutex(())

/// A pipe whose ends are closed on exec: only the child it is given to (by `dup2`) gets a copy,
/// so that its end-of-file comes when that child exits, not when every child started meanwhile
/// by parallel tests does.
private struct CloseOnExecPipe: Sendable {
    let fileHandleForReading: FileHandle
    let fileHandleForWriting: FileHandle

    init() throws {
        var fds: [Int32] = [0, 0]
        let created = spawnLock.withLock { _ in
            guard pipe(&fds) == 0 else { return false }
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
            return true
        }
        guard created else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EMFILE) }
        fileHandleForReading = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        fileHandleForWriting = FileHandle(fileDescriptor: fds[1], closeOnDealloc: true)
    }
}
