import Foundation

/// Python programs the tests run as real peers (the MCP SDK, GraphQL and gRPC backends).
/// CI installs their packages and sets RESHAPR_REQUIRE_PYTHON=1, which turns a missing package
/// into a failure instead of a skipped suite.
public enum Python {
    public static let required = ProcessInfo.processInfo.environment["RESHAPR_REQUIRE_PYTHON"] == "1"

    /// Whether `python3 -c "import <module>"` succeeds.
    public static func canImport(_ module: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import \(module)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus == 0
        } catch {
            return false
        }
    }

    /// Starts `Tests/Interop/<script>` and waits for its "listening on PORT" line.
    public static func startServer(_ script: String, _ arguments: [String] = []) async throws -> (ChildProcess, port: Int) {
        let process = try ChildProcess("/usr/bin/env", ["python3", Repository.root + "/Tests/Interop/" + script] + arguments)
        do {
            let line = try await process.waitForStdout(containing: "listening on")
            guard let port = line.split(separator: " ").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
                throw ChildProcess.Timeout(description: "\(script) printed no port: \(line)")
            }
            return (process, port)
        } catch {
            process.terminate()
            throw error
        }
    }
}
