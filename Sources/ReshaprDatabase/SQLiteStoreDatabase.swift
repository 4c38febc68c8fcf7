import Foundation
import Logging
import NIOCore
import SQLiteNIO
import Synchronization

/// The embedded store: one SQLite file (or memory) and one connection, for one process.
/// Statements run on NIO's thread pool; transactions are serialized by an async lock.
public final class SQLiteStoreDatabase: SQLDatabase {
    public let dialect = SQLDialect.sqlite
    public let isShared = false
    let connection: SQLiteConnection
    let lock = AsyncLock()
    private let closed = Atomic<Bool>(false)

    public init(path: String?, logger: Logger) async throws {
        do {
            connection = try await SQLiteConnection.open(storage: path.map { .file(path: $0) } ?? .memory, logger: logger)
        } catch {
            throw SQLError.failed("cannot open the SQLite database \(path ?? ":memory:"): \(Self.describe(error))")
        }
        let executor = Executor(connection: connection)
        try await executor.execute("PRAGMA foreign_keys = ON")
        if path != nil {
            // One writer at a time anyway; WAL keeps readers of the file (a backup) out of its way.
            _ = try await executor.query("PRAGMA journal_mode = WAL")
            try await executor.execute("PRAGMA synchronous = NORMAL")
        }
    }

    public func read<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        try await lock.withLock {
            try checkOpen()
            return try await body(Executor(connection: connection))
        }
    }

    private func checkOpen() throws {
        if closed.load(ordering: .relaxed) { throw SQLError.failed("the SQLite database is closed") }
    }

    public func transaction<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        try await lock.withLock {
            try checkOpen()
            return try await Executor(connection: connection).inTransaction(begin: "BEGIN IMMEDIATE", body)
        }
    }

    /// Applied migrations are recorded in `grdb_migrations`: the table earlier versions (on GRDB)
    /// created, so their database files carry on.
    public func migrate(_ migrations: [Migration]) async throws {
        try await transaction { db in
            try await db.execute("CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            let applied = Set(try await db.query("SELECT identifier FROM grdb_migrations").map { try $0.string("identifier") })
            for migration in migrations where !applied.contains(migration.identifier) {
                for statement in migration.statements(.sqlite) {
                    try await db.execute(statement)
                }
                try await db.execute("INSERT INTO grdb_migrations (identifier) VALUES (?)", migration.identifier)
            }
        }
    }

    public func listen(
        channel: String, onReconnect: @escaping @Sendable () async -> Void, onNotification: @escaping @Sendable (String) async -> Void
    ) async {}

    public func notify(channel: String, payload: String, in executor: any SQLExecutor) async throws {}

    public func close() async {
        // Under the lock: a statement in flight finishes first.
        let connection = self.connection
        let closing = try? await lock.withLock { !closed.exchange(true, ordering: .relaxed) }
        if closing == true { try? await connection.close() }
    }

    /// A store dropped without `close()` (a failed start) still closes its connection, which
    /// SQLiteNIO requires; the close holds the connection until it is done.
    deinit {
        if !closed.exchange(true, ordering: .relaxed) {
            connection.close().whenComplete { _ in }
        }
    }

    static func describe(_ error: any Error) -> String {
        (error as? SQLiteError)?.message ?? "\(error)"
    }

    struct Executor: SQLExecutor {
        let connection: SQLiteConnection

        func query(_ sql: String, _ arguments: [any SQLBindable]) async throws -> [SQLRow] {
            let rows: [SQLiteRow]
            do {
                rows = try await connection.query(sql, arguments.map { Self.bind($0.sqlValue) })
            } catch let error as SQLiteError {
                switch error.reason {
                case .constraint, .constraintUniqueFailed, .constraintPrimaryKeyFailed, .constraintForeignKeyFailed, .constraintNotNullFailed,
                    .constraintCheckFailed:
                    throw SQLError.constraint(error.message)
                default:
                    throw SQLError.failed("SQLite: \(error.message)")
                }
            }
            return rows.map { row in
                var values: [String: SQLValue] = [:]
                for column in row.columns { values[column.name] = Self.value(column.data) }
                return SQLRow(values: values)
            }
        }

        func execute(_ sql: String, _ arguments: [any SQLBindable]) async throws {
            _ = try await query(sql, arguments)
        }

        static func bind(_ value: SQLValue) -> SQLiteData {
            switch value {
            case .null: return .null
            case .integer(let number): return .integer(SQLiteInt64(truncatingIfNeeded: number))
            case .text(let text): return .text(text)
            case .blob(let data): return .blob(ByteBuffer(bytes: data))
            case .date(let date): return .text(SQLDateText.format(date))
            }
        }

        static func value(_ data: SQLiteData) -> SQLValue {
            switch data {
            case .null: return .null
            case .integer(let number): return .integer(Int64(number))
            case .float(let number): return number.isFinite && abs(number) < 9e18 ? .integer(Int64(number)) : .null
            case .text(let text): return .text(text)
            case .blob(let buffer): return .blob(Data(buffer.readableBytesView))
            }
        }
    }
}
