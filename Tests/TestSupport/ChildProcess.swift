import Foundation
import Synchronization

/// A program started by a test, with its output collected as it arrives.
/// Every test that starts one stops it (`terminate`, then `waitForExit`).
public final class ChildProcess: Sendable {
    public struct Timeout: Error, CustomStringConvertible {
        public var description: String
    }

    private let process: Process
    private let stdoutBuffer = OutputBuffer()
    private let stderrBuffer = OutputBuffer()
    private let outputPipes: [(Pipe, OutputBuffer)]

    /// Starts `executable`; `input`, when given, is written to its standard input, which is then closed.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        outputPipes = [(out, stdoutBuffer), (err, stderrBuffer)]
        process.standardOutput = out
        process.standardError = err
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        self.process = process
        out.fileHandleForReading.readabilityHandler = { [stdoutBuffer] handle in
            let data = handle.availableData
            stdoutBuffer.append(data)
        }
        err.fileHandleForReading.readabilityHandler = { [stderrBuffer] handle in
            let data = handle.availableData
            stderrBuffer.append(data)
        }
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
    }

    public var pid: Int32 { process.processIdentifier }
    public var stdout: String { stdoutBuffer.text }
    public var stderr: String { stderrBuffer.text }

    /// Waits until standard error contains `text`; returns the first line that does.
    public func waitForStderr(containing text: String, timeout: Duration = .seconds(30)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = stderr.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
            if !process.isRunning && !stderr.contains(text) {
                throw Timeout(description: "process exited (\(process.terminationStatus)) before printing \(text):\n\(stderr)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Timeout(description: "no \(text) on stderr within \(timeout):\n\(stderr)")
    }

    public func terminate() {
        if process.isRunning { process.terminate() }
    }

    /// Waits for the process to end; kills it if it outlives `timeout`.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                kill(process.processIdentifier, SIGKILL)
                throw Timeout(description: "process \(process.processIdentifier) still running after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        // Read what the process wrote last, up to the end of each pipe.
        for (pipe, buffer) in outputPipes {
            pipe.fileHandleForReading.readabilityHandler = nil
            buffer.append(pipe.fileHandleForReading.readDataToEndOfFile())
        }
        return process.terminationStatus
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
