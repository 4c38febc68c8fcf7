import Foundation
import Logging
import TestSupport
import Testing

@testable import ReshaprDatabase

@Suite struct DatabaseLocationTests {
    @Test func pathsAreSQLiteAndURLsArePostgreSQL() throws {
        #expect(try DatabaseLocation(parsing: "reshapr-ctrl.sqlite") == .sqliteFile("reshapr-ctrl.sqlite"))
        guard case .postgres(let settings) = try DatabaseLocation(parsing: "postgres://reshapr:s%40cret@db.internal:6543/ctrl?sslmode=verify-full") else {
            Issue.record("not PostgreSQL")
            return
        }
        #expect(settings.host == "db.internal" && settings.port == 6543 && settings.username == "reshapr" && settings.database == "ctrl")
        #expect(settings.password == "s@cret")
        #expect(settings.tls == .verifyFull)
        // The password is never shown.
        #expect(!settings.description.contains("s@cret") && !"\(DatabaseLocation.postgres(settings))".contains("cret"))
        let fromEnvironment = try PostgresSettings(url: "postgresql://reshapr@db/ctrl", environment: ["PGPASSWORD": "env-secret"])
        #expect(fromEnvironment.password == "env-secret" && fromEnvironment.port == 5432 && fromEnvironment.tls == .prefer)
        #expect(try PostgresSettings(url: "postgres://u@[fd00::5]:6000/ctrl", environment: [:]).host == "fd00::5")
    }

    @Test(arguments: [
        ("mysql://db/x", "only postgres:// URLs"),
        ("", "the database is empty"),
        ("postgres://db/ctrl", "has no user"),
        ("postgres://u@db", "names no database"),
        ("postgres://u@db/ctrl?sslmode=maybe", "sslmode maybe is not supported"),
        ("postgres://u@db/ctrl?application=x", "setting application is not supported"),
        ("postgres://u@db:99999/ctrl", "port 99999 is out of range"),
    ])
    func badLocationsAreNamed(text: String, message: String) {
        #expect {
            try DatabaseLocation(parsing: text)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func placeholdersAreNumberedOutsideQuotedText() {
        #expect(PostgresStoreDatabase.Executor.numbered("SELECT '?' || ? FROM t WHERE a = ? AND b = '??'") == "SELECT '?' || $1 FROM t WHERE a = $2 AND b = '??'")
    }

    @Test func timestampsReadAsSQLiteHoldsThem() throws {
        let date = Date(timeIntervalSince1970: 1_764_540_000.123)
        let text = SQLDateText.format(date)
        #expect(text == "2025-11-30 22:00:00.123")
        #expect(abs((SQLDateText.parse(text)?.timeIntervalSince1970 ?? 0) - date.timeIntervalSince1970) < 0.001)
        #expect(SQLDateText.parse("2025-11-30T22:00:00") != nil)
        for bad in ["", "2025-13-01 00:00:00", "2025-11-30", "yesterday", "2025-11-30 25:00:00.000"] {
            #expect(SQLDateText.parse(bad) == nil, "\(bad)")
        }
        let row = SQLRow(values: ["at": .text("not a date"), "n": .text("x")])
        #expect(throws: SQLError.self) { try row.date("at") }
        #expect(throws: SQLError.self) { try row.integer("n") }
        #expect(throws: SQLError.self) { try row.string("missing") }
    }
}

/// The same statements against both databases.
@Suite(.serialized) struct SQLDatabaseTests {
    static let migrations = [
        Migration("one") { dialect in
            "CREATE TABLE item (id TEXT PRIMARY KEY, n BIGINT NOT NULL, body \(dialect == .postgres ? "BYTEA" : "BLOB"), at \(dialect == .postgres ? "TIMESTAMPTZ" : "DATETIME"));\nCREATE INDEX item_n ON item(n)"
        },
        Migration("two") { _ in "ALTER TABLE item ADD COLUMN note TEXT" },
    ]

    static func databases() async throws -> [any SQLDatabase] {
        var databases: [any SQLDatabase] = [try await SQLiteStoreDatabase(path: nil, logger: Logger(label: "test"))]
        if PostgresCluster.available {
            let url = try await PostgresCluster.shared().makeDatabase()
            databases.append(try await openDatabase(try DatabaseLocation(parsing: url), logger: Logger(label: "test")))
        } else {
            #expect(!PostgresCluster.required, "RESHAPR_REQUIRE_POSTGRES=1 but PostgreSQL is not installed")
        }
        return databases
    }

    @Test func statementsTransactionsAndConstraintsBehaveTheSame() async throws {
        for database in try await Self.databases() {
            try await database.migrate(Self.migrations)
            try await database.migrate(Self.migrations)
            let at = Date(timeIntervalSince1970: 1_700_000_000.5)
            try await database.transaction { db in
                try await db.execute("INSERT INTO item (id, n, body, at, note) VALUES (?, ?, ?, ?, ?)", "a", Int64(1) << 40, Data([0, 1, 255]), at, String?.none)
            }
            let row = try #require(try await database.read { db in try await db.queryOne("SELECT * FROM item WHERE id = ?", "a") })
            #expect(try row.integer("n") == 1 << 40)
            #expect(try row.data("body") == Data([0, 1, 255]))
            #expect(abs(try row.date("at").timeIntervalSince(at)) < 0.001)
            #expect(try row.optionalString("note") == nil)
            // A failed transaction leaves nothing behind, and its error comes out as it was thrown.
            struct Refused: Error {}
            await #expect(throws: Refused.self) {
                try await database.transaction { db in
                    try await db.execute("INSERT INTO item (id, n) VALUES (?, ?)", "b", 2)
                    throw Refused()
                }
            }
            #expect(try await database.read { db in try await db.query("SELECT id FROM item") }.count == 1)
            await #expect {
                try await database.transaction { db in try await db.execute("INSERT INTO item (id, n) VALUES (?, ?)", "a", 3) }
            } throws: { error in
                if case SQLError.constraint = error { return true }
                return false
            }
            let deleted = try await database.transaction { db in try await db.query("DELETE FROM item WHERE n > ? RETURNING id", 0) }
            #expect(try deleted.map { try $0.string("id") } == ["a"])
            await database.close()
        }
    }

    @Test func replicasStartingTogetherMigrateOnce() async throws {
        guard PostgresCluster.available else { return }
        let url = try await PostgresCluster.shared().makeDatabase()
        let location = try DatabaseLocation(parsing: url)
        let databases = try await withThrowingTaskGroup(of: (any SQLDatabase).self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let database = try await openDatabase(location, logger: Logger(label: "test"))
                    try await database.migrate(Self.migrations)
                    return database
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let applied = try await databases[0].read { db in try await db.query("SELECT identifier FROM reshapr_migrations ORDER BY identifier") }
        #expect(try applied.map { try $0.string("identifier") } == ["one", "two"])
        for database in databases { await database.close() }
    }

    /// Without a bound on waiting for a connection, this would wait for ever (the time limit fails it).
    @Test(.timeLimit(.minutes(1))) func anUnreachableServerIsAnErrorNotAWait() async throws {
        let refused = try HeldPort()
        defer { refused.close() }
        let settings = try PostgresSettings(url: "postgres://reshapr@127.0.0.1:\(refused.port)/ctrl?sslmode=disable", environment: [:])
        await #expect {
            _ = try await PostgresStoreDatabase(settings: settings, leaseTimeout: .milliseconds(500), logger: Logger(label: "test"))
        } throws: { error in
            "\(error)".contains("cannot reach PostgreSQL at reshapr@127.0.0.1:\(refused.port)/ctrl")
                && "\(error)".contains("gave no connection within")
        }
    }

    @Test func notificationsReachTheOtherConnections() async throws {
        guard PostgresCluster.available else { return }
        let url = try await PostgresCluster.shared().makeDatabase()
        let location = try DatabaseLocation(parsing: url)
        let listener = try await openDatabase(location, logger: Logger(label: "test"))
        let sender = try await openDatabase(location, logger: Logger(label: "test"))
        let (payloads, continuation) = AsyncStream<String>.makeStream()
        let listening = Task { await listener.listen(channel: "test_events", onReconnect: {}, onNotification: { continuation.yield($0) }) }
        var iterator = payloads.makeAsyncIterator()
        // LISTEN may not be in place yet: send until one arrives.
        let sending = Task {
            for index in 0..<500 {
                try await sender.transaction { db in try await sender.notify(channel: "test_events", payload: "hello \(index)", in: db) }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let first = await iterator.next()
        #expect(first?.hasPrefix("hello ") == true)
        sending.cancel()
        listening.cancel()
        _ = await listening.value
        await listener.close()
        await sender.close()
    }
}
