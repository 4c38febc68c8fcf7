import Foundation
import Synchronization

/// A throwaway PostgreSQL cluster for the tests: `initdb` in a temporary folder, `postgres` on
/// a loopback port of its own, trust authentication, no fsync. Started once per test process
/// when first asked for, and stopped when the process exits. Each caller gets a database of
/// its own (`makeDatabase()`).
///
/// Needs Debian's `postgresql` (its binaries in `/usr/lib/postgresql/<version>/bin`). Tests
/// skip without it, unless `RESHAPR_REQUIRE_POSTGRES=1` (CI) makes that a failure. When the
/// tests run as root (CI), the cluster runs as the `postgres` user, which initdb requires.
public final class PostgresCluster: Sendable {
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    public let port: Int
    let directory: TemporaryDirectory
    let server: ChildProcess
    let binaries: String

    /// Whether the control-plane suites run on PostgreSQL (`RESHAPR_TEST_DATABASE=postgres`)
    /// rather than SQLite.
    public static var selected: Bool { ProcessInfo.processInfo.environment["RESHAPR_TEST_DATABASE"] == "postgres" }
    public static var required: Bool { ProcessInfo.processInfo.environment["RESHAPR_REQUIRE_POSTGRES"] == "1" || selected }

    /// The folder of `initdb` and `postgres`, newest version first; `nil` when not installed.
    public static let binaryFolder: String? = {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        for version in versions where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return "\(root)/\(version)/bin"
        }
        return nil
    }()

    public static var available: Bool { binaryFolder != nil }

    private static let started = Mutex<Task<PostgresCluster, any Error>?>(nil)

    /// The cluster of this test process, started on first use.
    public static func shared() async throws -> PostgresCluster {
        let task = started.withLock { task in
            if let task { return task }
            let new = Task { try await PostgresCluster() }
            task = new
            return new
        }
        return try await task.value
    }

    private init() async throws {
        guard let binaries = Self.binaryFolder else {
            throw Unavailable(description: "PostgreSQL is not installed: apt-get install postgresql")
        }
        self.binaries = binaries
        directory = try TemporaryDirectory()
        let data = directory.path + "/data"
        let asRoot = getuid() == 0
        if asRoot {
            // initdb refuses root: the cluster's folder belongs to the postgres user.
            _ = try await Self.run("/bin/chown", ["-R", "postgres:postgres", directory.path])
            _ = try await Self.run("/bin/chmod", ["755", directory.path])
        }
        let prefix = asRoot ? ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"] : []
        _ = try await Self.run(
            prefix.first ?? "\(binaries)/initdb",
            Array(prefix.dropFirst()) + (asRoot ? ["\(binaries)/initdb"] : []) + [
                "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C.UTF-8",
            ])
        var lastError: (any Error)?
        for _ in 0..<5 {
            let held = try HeldPort()
            let port = held.port
            held.close()
            let arguments = [
                "\(binaries)/postgres", "-D", data, "-p", String(port), "-k", directory.path, "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=1000",
            ]
            let server = try ChildProcess(prefix.first ?? arguments[0], Array(prefix.dropFirst()) + (asRoot ? arguments : Array(arguments.dropFirst())))
            do {
                _ = try await server.waitForStderr(containing: "database system is ready to accept connections", timeout: .seconds(60))
                self.port = port
                self.server = server
                Self.stopAtExit(pid: server.pid)
                return
            } catch {
                server.terminate()
                _ = try? await server.waitForExit()
                lastError = Unavailable(description: "postgres did not start: \(server.stderr.suffix(2000))")
            }
        }
        throw lastError ?? Unavailable(description: "postgres did not start")
    }

    /// A new, empty database; returns its `postgres://` URL.
    public func makeDatabase() async throws -> String {
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        _ = try await Self.run("\(binaries)/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-qc", "CREATE DATABASE \(name)"])
        return url(database: name)
    }

    public func url(database: String) -> String {
        "postgres://postgres@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Runs SQL with psql on `database`; returns its output (unaligned, tuples only).
    public func psql(_ sql: String, database: String) async throws -> String {
        try await Self.run("\(binaries)/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", database, "-Atqc", sql])
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        let process = try ChildProcess(executable, arguments)
        let status = try await process.waitForExit(timeout: .seconds(120))
        guard status == 0 else {
            throw Unavailable(description: "\(executable) failed (\(status)): \(process.stderr.suffix(2000))")
        }
        return process.stdout
    }

    private static let serverPID = Atomic<Int32>(0)

    /// The server is stopped when the test process exits (fast shutdown: SIGINT).
    private static func stopAtExit(pid: Int32) {
        serverPID.store(pid, ordering: .relaxed)
        atexit {
            let pid = PostgresCluster.serverPID.load(ordering: .relaxed)
            if pid > 0 { kill(pid, SIGINT) }
        }
    }
}
