import Foundation
import Logging

/// Runs statements: a connection inside `read` or `transaction`. Placeholders are `?`, in order,
/// on both databases.
public protocol SQLExecutor: Sendable {
    func query(_ sql: String, _ arguments: [any SQLBindable]) async throws -> [SQLRow]
    func execute(_ sql: String, _ arguments: [any SQLBindable]) async throws
}

extension SQLExecutor {
    public func query(_ sql: String, _ arguments: any SQLBindable...) async throws -> [SQLRow] {
        try await query(sql, arguments)
    }

    public func execute(_ sql: String, _ arguments: any SQLBindable...) async throws {
        try await execute(sql, arguments)
    }

    public func queryOne(_ sql: String, _ arguments: any SQLBindable...) async throws -> SQLRow? {
        try await query(sql, arguments).first
    }

    /// Runs `body` between `begin` and `COMMIT`, or `ROLLBACK` when it throws (its error is
    /// rethrown as it is).
    func inTransaction<Result>(begin: String, _ body: (any SQLExecutor) async throws -> Result) async throws -> Result {
        try await execute(begin)
        do {
            let result = try await body(self)
            try await execute("COMMIT")
            return result
        } catch {
            try? await execute("ROLLBACK")
            throw error
        }
    }
}

/// The SQL spoken by a database, where the two differ (column types, the migrations' table).
public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres
}

/// A versioned schema change: each runs once, in order, recorded by `identifier`.
public struct Migration: Sendable {
    public var identifier: String
    /// The statements for each dialect, run in one transaction.
    public var sql: @Sendable (SQLDialect) -> String

    public init(_ identifier: String, sql: @escaping @Sendable (SQLDialect) -> String) {
        self.identifier = identifier
        self.sql = sql
    }

    /// The statements of the script, split at the `;` ending a line: both databases prepare
    /// one statement at a time.
    func statements(_ dialect: SQLDialect) -> [String] {
        sql(dialect).components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }.filter { !$0.isEmpty }
    }
}

/// A database the control plane's store lives in.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// Whether other processes share it (and so need notifications to learn of changes).
    var isShared: Bool { get }
    /// Runs `body` on a connection, without a transaction.
    func read<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result
    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws (its
    /// error is rethrown as it is).
    func transaction<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result
    /// Runs the migrations not yet applied, once even when several processes start together.
    func migrate(_ migrations: [Migration]) async throws
    /// Calls `onNotification` with every payload sent on `channel` (by `notify` in any process),
    /// and `onReconnect` each time listening starts again after a lost connection (notifications
    /// may have been missed), until the task is cancelled. Returns at once where nothing is shared.
    func listen(
        channel: String, onReconnect: @escaping @Sendable () async -> Void, onNotification: @escaping @Sendable (String) async -> Void
    ) async
    /// Queues a notification sent when the transaction of `executor` commits.
    func notify(channel: String, payload: String, in executor: any SQLExecutor) async throws
    /// Closes connections; nothing can run after.
    func close() async
}

/// Where the store is: a SQLite file (or memory), or a PostgreSQL server.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqliteMemory
    case sqliteFile(String)
    case postgres(PostgresSettings)

    /// `postgres://` or `postgresql://` URLs are PostgreSQL; anything else is a SQLite file path.
    public init(parsing text: String) throws(SQLError) {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(try PostgresSettings(url: text))
        } else if text.isEmpty {
            throw .invalidLocation("the database is empty: give a SQLite file path or a postgres:// URL")
        } else if text.contains("://") {
            throw .invalidLocation("database \(text.prefix(20))…: only postgres:// URLs and SQLite file paths are supported")
        } else {
            self = .sqliteFile(text)
        }
    }

    /// Safe to log: the password is never shown.
    public var description: String {
        switch self {
        case .sqliteMemory: return "SQLite in memory"
        case .sqliteFile(let path): return "SQLite \(path)"
        case .postgres(let settings): return "PostgreSQL \(settings)"
        }
    }
}

/// Opens the database at `location`.
public func openDatabase(_ location: DatabaseLocation, logger: Logger) async throws -> any SQLDatabase {
    switch location {
    case .sqliteMemory: return try await SQLiteStoreDatabase(path: nil, logger: logger)
    case .sqliteFile(let path): return try await SQLiteStoreDatabase(path: path, logger: logger)
    case .postgres(let settings): return try await PostgresStoreDatabase(settings: settings, logger: logger)
    }
}

