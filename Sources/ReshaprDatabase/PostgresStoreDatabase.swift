import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import Synchronization

/// Where and how to reach PostgreSQL, from `postgres://user[:password]@host[:port]/database[?sslmode=…]`.
/// The password may instead come from `PGPASSWORD`, so that it stays out of process listings.
public struct PostgresSettings: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable {
        /// Plaintext.
        case disable
        /// TLS when the server offers it, certificate not checked (libpq's default).
        case prefer
        /// TLS, certificate not checked.
        case require
        /// TLS, certificate checked against the system's roots or `sslrootcert`.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    public var rootCertificatePath: String?

    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(SQLError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw .invalidLocation("the PostgreSQL URL is not valid: expected postgres://user@host:5432/database")
        }
        guard let host = components.host, !host.isEmpty else { throw .invalidLocation("the PostgreSQL URL has no host") }
        guard let user = components.user, !user.isEmpty else { throw .invalidLocation("the PostgreSQL URL has no user (postgres://user@\(host)/…)") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw .invalidLocation("the PostgreSQL URL names no database (postgres://\(user)@\(host)/DATABASE)") }
        // An IPv6 literal comes bracketed, as URLs write it.
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw .invalidLocation("the PostgreSQL port \(port) is out of range") }
        username = user.removingPercentEncoding ?? user
        password = components.password.map { $0.removingPercentEncoding ?? $0 } ?? environment["PGPASSWORD"]
        self.database = database.removingPercentEncoding ?? database
        tls = .prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = TLSMode(rawValue: value) else {
                    throw .invalidLocation("sslmode \(item.value ?? "") is not supported: use disable, prefer, require or verify-full")
                }
                tls = mode
            case "sslrootcert":
                rootCertificatePath = item.value
            default:
                throw .invalidLocation("the PostgreSQL URL setting \(item.name) is not supported (sslmode and sslrootcert are)")
            }
        }
    }

    public var description: String {
        "\(username)@\(host):\(port)/\(database) (sslmode=\(tls.rawValue)\(password == nil ? "" : ", with a password"))"
    }

    var clientConfiguration: PostgresClient.Configuration {
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        if tls != .verifyFull { tlsConfiguration.certificateVerification = .none }
        if let rootCertificatePath { tlsConfiguration.trustRoots = .file(rootCertificatePath) }
        let mode: PostgresClient.Configuration.TLS
        switch tls {
        case .disable: mode = .disable
        case .prefer: mode = .prefer(tlsConfiguration)
        case .require, .verifyFull: mode = .require(tlsConfiguration)
        }
        var configuration = PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: mode)
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }
}

/// The shared store: a pool of connections to PostgreSQL, which every control-plane replica
/// uses; changes reach the other replicas through LISTEN/NOTIFY.
public final class PostgresStoreDatabase: SQLDatabase {
    public let dialect = SQLDialect.postgres
    public let isShared = true
    let client: PostgresClient
    let runner: Task<Void, Never>
    let logger: Logger
    let settings: PostgresSettings

    /// A constant of ours for `pg_advisory_xact_lock`: replicas starting together migrate one after the other.
    static let migrationLock: Int64 = 0x7265_7368_6170_7231

    /// Connects (checking the server answers) with the pool running in a task of its own until `close()`.
    public init(settings: PostgresSettings, leaseTimeout: Duration = .seconds(10), logger: Logger) async throws {
        self.settings = settings
        self.leaseTimeout = leaseTimeout
        self.logger = logger
        let client = PostgresClient(configuration: settings.clientConfiguration, backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
        do {
            _ = try await read { try await $0.query("SELECT 1 AS one") }
        } catch {
            runner.cancel()
            throw SQLError.failed("cannot reach PostgreSQL at \(settings): \(Self.describe(error))")
        }
    }

    /// How long a statement waits for a connection of the pool: with the server down, the pool
    /// retries connecting for ever, and callers (a gateway's Register, a CLI request, the
    /// shutdown) must get an error instead of waiting with it.
    let leaseTimeout: Duration

    /// Runs `body` on a leased connection, failing if none comes within `leaseTimeout`. Once
    /// `body` has started, it runs to its end; once the wait was given up, it never starts.
    func withConnection<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        let state = LeaseState()
        let client = self.client
        let leaseTimeout = self.leaseTimeout
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                try await client.withConnection { connection in
                    guard state.start() else { throw CancellationError() }
                    return try await body(connection)
                }
            }
            group.addTask {
                try await Task.sleep(for: leaseTimeout)
                return nil
            }
            while let outcome = try await group.next() {
                if let result = outcome {
                    group.cancelAll()
                    return result
                }
                if state.giveUp() {
                    group.cancelAll()
                    throw SQLError.failed("PostgreSQL at \(settings.host):\(settings.port) gave no connection within \(leaseTimeout)")
                }
            }
            throw SQLError.failed("PostgreSQL: the statement ended without a result")
        }
    }

    public func read<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        let logger = self.logger
        return try await withConnection { connection in
            try await body(Executor(connection: connection, logger: logger))
        }
    }

    public func transaction<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        let logger = self.logger
        return try await withConnection { connection in
            try await Executor(connection: connection, logger: logger).inTransaction(begin: "BEGIN", body)
        }
    }

    public func migrate(_ migrations: [Migration]) async throws {
        try await transaction { db in
            try await db.execute("SELECT pg_advisory_xact_lock(?)", Self.migrationLock)
            try await db.execute("CREATE TABLE IF NOT EXISTS reshapr_migrations (identifier TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)")
            let applied = Set(try await db.query("SELECT identifier FROM reshapr_migrations").map { try $0.string("identifier") })
            for migration in migrations where !applied.contains(migration.identifier) {
                for statement in migration.statements(.postgres) { try await db.execute(statement, []) }
                try await db.execute("INSERT INTO reshapr_migrations (identifier, applied_at) VALUES (?, ?)", migration.identifier, Date())
            }
        }
    }

    public func listen(
        channel: String, onReconnect: @escaping @Sendable () async -> Void, onNotification: @escaping @Sendable (String) async -> Void
    ) async {
        var listenedBefore = false
        var backoff = 0.2
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: channel) { notifications in
                        if listenedBefore { await onReconnect() }
                        listenedBefore = true
                        backoff = 0.2
                        for try await notification in notifications {
                            await onNotification(notification.payload)
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("lost the PostgreSQL notification connection; listening again", metadata: ["error": "\(Self.describe(error))"])
            }
            try? await Task.sleep(for: .milliseconds(Int(backoff * 1000)))
            backoff = min(backoff * 2, 5)
        }
    }

    public func notify(channel: String, payload: String, in executor: any SQLExecutor) async throws {
        try await executor.execute("SELECT pg_notify(?, ?)", channel, payload)
    }

    public func close() async {
        runner.cancel()
        _ = await runner.value
    }

    /// The server's own words when it sent some (never the connection settings).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying { return "\(error.code): \(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }

    struct Executor: SQLExecutor {
        let connection: PostgresConnection
        let logger: Logger

        func query(_ sql: String, _ arguments: [any SQLBindable]) async throws -> [SQLRow] {
            var bindings = PostgresBindings(capacity: arguments.count)
            for argument in arguments {
                switch argument.sqlValue {
                case .null: bindings.appendNull()
                case .integer(let number): bindings.append(number)
                case .text(let text): bindings.append(text)
                case .blob(let data): bindings.append(ByteBuffer(bytes: data))
                case .date(let date): bindings.append(date)
                }
            }
            do {
                var rows: [SQLRow] = []
                for try await row in try await connection.query(PostgresQuery(unsafeSQL: Self.numbered(sql), binds: bindings), logger: logger) {
                    var values: [String: SQLValue] = [:]
                    for cell in row { values[cell.columnName] = try Self.value(cell) }
                    rows.append(SQLRow(values: values))
                }
                return rows
            } catch let error as PSQLError {
                let message = PostgresStoreDatabase.describe(error)
                if error.serverInfo?[.sqlState]?.hasPrefix("23") == true { throw SQLError.constraint(message) }
                throw SQLError.failed("PostgreSQL: \(message)")
            }
        }

        func execute(_ sql: String, _ arguments: [any SQLBindable]) async throws {
            _ = try await query(sql, arguments)
        }

        /// `?` placeholders as PostgreSQL's `$1`, `$2`…, outside quoted text.
        static func numbered(_ sql: String) -> String {
            var result = ""
            result.reserveCapacity(sql.utf8.count + 8)
            var index = 0
            var quoted = false
            for character in sql {
                if character == "'" { quoted.toggle() }
                if character == "?" && !quoted {
                    index += 1
                    result += "$\(index)"
                } else {
                    result.append(character)
                }
            }
            return result
        }

        static func value(_ cell: PostgresCell) throws -> SQLValue {
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int2, .int4, .int8: return .integer(Int64(try cell.decode(Int.self)))
            case .bytea: return .blob(try cell.decode(Data.self))
            case .timestamptz, .timestamp: return .date(try cell.decode(Date.self))
            case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
            default: return .text(try cell.decode(String.self))
            }
        }
    }
}

/// Who won between a leased connection and the lease timeout: the statement starts, or the
/// wait is given up, never both.
final class LeaseState: Sendable {
    private static let waiting = 0
    private static let started = 1
    private static let givenUp = 2
    private let value = Atomic<Int>(LeaseState.waiting)

    /// Whether the statement may start (the wait was not given up).
    func start() -> Bool {
        value.compareExchange(expected: Self.waiting, desired: Self.started, ordering: .acquiringAndReleasing).exchanged
    }

    /// Whether the wait is given up (the statement had not started).
    func giveUp() -> Bool {
        value.compareExchange(expected: Self.waiting, desired: Self.givenUp, ordering: .acquiringAndReleasing).exchanged
    }
}
