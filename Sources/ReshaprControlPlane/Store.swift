import Foundation
import Logging
import ReshaprDatabase
import ReshaprJSON
import Synchronization

/// A request the store refuses, worded for the API caller.
public struct StoreError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        case notFound
        case conflict
        case invalid
    }

    public var kind: Kind
    public var message: String

    public var description: String { message }

    static func notFound(_ message: String) -> StoreError { StoreError(kind: .notFound, message: message) }
    static func conflict(_ message: String) -> StoreError { StoreError(kind: .conflict, message: message) }
    static func invalid(_ message: String) -> StoreError { StoreError(kind: .invalid, message: message) }
}

/// The catalogue: organizations, API tokens, gateway groups, services and artifacts, secrets,
/// configuration plans and expositions, and the live gateways, in SQLite (one process) or
/// PostgreSQL (shared by replicas). Every change of an organization's catalogue moves the
/// catalogue revision on and calls `onChange`, in this process and, through the database's
/// notifications, in every other replica.
public final class Store: Sendable {
    public static let defaultGroupName = "Default Gateway Group"
    public static let defaultGroupLabels = ["env": "dev", "team": "reshapr"]
    public static let maxTokenValidityDays = 90
    /// The notification channel replicas share.
    static let channel = "reshapr_events"

    let database: any SQLDatabase
    /// This process, among the replicas: its own notifications are not handled twice.
    public let replicaID = Secrets.randomHex(bytes: 8)
    private let changeHandler: Mutex<(@Sendable (String, Int64) -> Void)?> = Mutex(nil)

    /// Uses `database`, migrating it first.
    public init(database: any SQLDatabase) async throws {
        self.database = database
        try await database.migrate(Self.migrations)
    }

    /// Opens (creating and migrating) the database at `location`.
    public convenience init(location: DatabaseLocation, logger: Logger) async throws {
        try await self.init(database: try await openDatabase(location, logger: logger))
    }

    /// A SQLite file, or memory when `path` is `nil` (tests).
    public convenience init(path: String?) async throws {
        try await self.init(location: path.map { .sqliteFile($0) } ?? .sqliteMemory, logger: Logger(label: "reshapr.store"))
    }

    /// Whether other replicas share the database.
    public var isShared: Bool { database.isShared }

    /// Called after every committed change of a catalogue, with the organization and the new
    /// catalogue revision, whichever replica made it.
    public func onChange(_ handler: @escaping @Sendable (String, Int64) -> Void) {
        changeHandler.withLock { $0 = handler }
    }

    func changed(_ orgID: String, revision: Int64) {
        changeHandler.withLock { $0 }?(orgID, revision)
    }

    public func close() async {
        await database.close()
    }

    /// The catalogue revision: moved on by every change, in every organization.
    public func revision() async throws -> Int64 {
        try await database.read { db in try await Self.revision(db) }
    }

    /// The catalogue revision as `db` sees it.
    static func revision(_ db: any SQLExecutor) async throws -> Int64 {
        try await db.queryOne("SELECT revision FROM catalogue_revision WHERE id = 1")?.integer("revision") ?? 0
    }

    /// Runs `body` in a transaction that also moves the catalogue revision on and tells the
    /// other replicas; then tells this one.
    @discardableResult
    func change<Result: Sendable>(_ orgID: String, _ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        let database = self.database
        let replicaID = self.replicaID
        let (result, revision) = try await mapConflicts {
            try await database.transaction { db in
                let result = try await body(db)
                let revision = try await db.queryOne("UPDATE catalogue_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision")?
                    .integer("revision") ?? 0
                try await database.notify(channel: Self.channel, payload: StoreEvent.catalogue(orgID: orgID, revision: revision).payload(from: replicaID), in: db)
                return (result, revision)
            }
        }
        changed(orgID, revision: revision)
        return result
    }

    func read<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        try await database.read(body)
    }

    /// Runs `body` on one consistent view of the store: a read-only REPEATABLE READ transaction
    /// on PostgreSQL (its statements would otherwise each see the latest commits); SQLite's
    /// single connection already gives one.
    func snapshot<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        switch database.dialect {
        case .sqlite:
            return try await database.read(body)
        case .postgres:
            return try await database.transaction { db in
                try await db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                return try await body(db)
            }
        }
    }

    func write<Result: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Result) async throws -> Result {
        try await mapConflicts { try await self.database.transaction(body) }
    }

    /// A constraint the database enforces, said as a conflict when nothing more precise was said.
    func mapConflicts<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch SQLError.constraint(let message) {
            throw StoreError.conflict("the change conflicts with what is stored: \(message)")
        }
    }

    static var migrations: [Migration] {
        [
            Migration("v1") { dialect in
                dialect.schema(
                    """
                    CREATE TABLE organization (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                    CREATE TABLE "user" (
                        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
                        username TEXT NOT NULL UNIQUE, password_hash BLOB NOT NULL, salt BLOB NOT NULL);
                    CREATE TABLE api_token (
                        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
                        name TEXT NOT NULL, secret_hash BLOB NOT NULL, created_at DATETIME NOT NULL,
                        expires_at DATETIME NOT NULL, revoked_at DATETIME);
                    CREATE TABLE gateway_group (
                        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
                        name TEXT NOT NULL, labels TEXT NOT NULL, UNIQUE(org_id, name));
                    CREATE TABLE service (
                        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
                        name TEXT NOT NULL, version TEXT NOT NULL, type TEXT NOT NULL, description TEXT,
                        UNIQUE(org_id, name, version));
                    CREATE TABLE artifact (
                        id TEXT PRIMARY KEY, service_id TEXT NOT NULL REFERENCES service(id) ON DELETE CASCADE,
                        type TEXT NOT NULL, file_name TEXT NOT NULL, content BLOB NOT NULL);
                    CREATE TABLE secret (
                        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
                        name TEXT NOT NULL, data TEXT NOT NULL, UNIQUE(org_id, name));
                    CREATE TABLE configuration_plan (
                        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
                        name TEXT NOT NULL, service_id TEXT NOT NULL REFERENCES service(id) ON DELETE CASCADE,
                        spec TEXT NOT NULL, UNIQUE(org_id, name));
                    CREATE TABLE exposition (
                        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
                        plan_id TEXT NOT NULL REFERENCES configuration_plan(id) ON DELETE CASCADE,
                        gateway_group_id TEXT NOT NULL REFERENCES gateway_group(id) ON DELETE CASCADE, path TEXT);
                    """)
            },
            Migration("v2-user-sessions") { dialect in
                dialect.schema(
                    """
                    CREATE TABLE user_session (
                        token_hash BLOB PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
                        username TEXT NOT NULL, expires_at DATETIME NOT NULL);
                    """)
            },
            // Tokens bound to a gateway group; deleting the group deletes them (never unbinds them).
            Migration("v3-token-groups") { dialect in
                dialect.schema("ALTER TABLE api_token ADD COLUMN gateway_group_id TEXT REFERENCES gateway_group(id) ON DELETE CASCADE")
            },
            // Expositions get names (existing ones are named by their id); secrets, descriptions.
            Migration("v4-exposition-names") { dialect in
                dialect.schema(
                    """
                    ALTER TABLE exposition ADD COLUMN name TEXT;
                    UPDATE exposition SET name = id;
                    CREATE UNIQUE INDEX exposition_name ON exposition(org_id, name);
                    ALTER TABLE secret ADD COLUMN description TEXT;
                    """)
            },
            // The catalogue revision, and the live gateways, shared by the replicas.
            Migration("v5-shared-registry") { dialect in
                dialect.schema(
                    """
                    CREATE TABLE catalogue_revision (id INTEGER PRIMARY KEY, revision BIGINT NOT NULL);
                    INSERT INTO catalogue_revision (id, revision) VALUES (1, 0);
                    CREATE TABLE gateway (
                        session_id TEXT PRIMARY KEY, gateway_id TEXT NOT NULL,
                        org_id TEXT NOT NULL REFERENCES organization(id) ON DELETE CASCADE,
                        token_id TEXT NOT NULL, labels TEXT NOT NULL, fqdns TEXT NOT NULL, group_names TEXT NOT NULL,
                        bound_group_id TEXT, registered_at DATETIME NOT NULL, last_heartbeat DATETIME NOT NULL,
                        applied_revision BIGINT NOT NULL, watching INTEGER NOT NULL, replica TEXT NOT NULL);
                    CREATE INDEX gateway_by_org ON gateway(org_id, gateway_id);
                    CREATE INDEX gateway_by_heartbeat ON gateway(last_heartbeat);
                    """)
            },
        ]
    }
}

extension SQLDialect {
    /// A schema script written for SQLite, in this dialect: PostgreSQL gets `BYTEA`,
    /// `TIMESTAMPTZ` and byte-order text (`COLLATE "C"`, as SQLite sorts).
    func schema(_ script: String) -> String {
        switch self {
        case .sqlite: return script
        case .postgres:
            return script.replacingOccurrences(of: " BLOB", with: " BYTEA").replacingOccurrences(of: " DATETIME", with: " TIMESTAMPTZ")
                .replacingOccurrences(of: " TEXT", with: " TEXT COLLATE \"C\"")
        }
    }
}

/// What replicas tell each other through the database.
enum StoreEvent: Equatable {
    /// The catalogue of an organization changed.
    case catalogue(orgID: String, revision: Int64)
    /// A gateway session was removed (evicted, replaced, token revoked): its replica ends its stream.
    case gatewayRemoved(sessionID: String, reason: String)

    func payload(from replicaID: String) -> String {
        switch self {
        case .catalogue(let orgID, let revision): return "\(replicaID) catalogue \(orgID) \(revision)"
        case .gatewayRemoved(let sessionID, let reason): return "\(replicaID) removed \(sessionID) \(reason)"
        }
    }

    /// The sender and the event; `nil` for a payload that is not ours.
    static func parse(_ payload: String) -> (replicaID: String, event: StoreEvent)? {
        let parts = payload.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3 else { return nil }
        switch parts[1] {
        case "catalogue":
            guard parts.count == 4, let revision = Int64(parts[3]) else { return nil }
            return (parts[0], .catalogue(orgID: parts[2], revision: revision))
        case "removed":
            return (parts[0], .gatewayRemoved(sessionID: parts[2], reason: parts.count == 4 ? parts[3] : ""))
        default:
            return nil
        }
    }
}

extension Store {
    // MARK: - Helpers

    func insert(_ record: some StoreRecord, organization orgID: String, conflict: String) async throws {
        do {
            try await change(orgID) { db in try await record.insert(db) }
        } catch let error as StoreError where error.kind == .conflict {
            throw StoreError.conflict(conflict)
        }
    }

    func delete<Record: StoreRecord>(_ type: Record.Type, id: String, organization: Organization, what: String) async throws {
        try await change(organization.id) { db in
            guard let row = try await db.queryOne("SELECT org_id FROM \(Record.table) WHERE id = ?", id), try row.string("org_id") == organization.id
            else { throw StoreError.notFound("no \(what) \(id)") }
            try await db.execute("DELETE FROM \(Record.table) WHERE id = ?", id)
        }
    }
}

extension Store {
    /// Tells the other replicas; nothing where the database is not shared.
    func announce(_ event: StoreEvent) async {
        guard database.isShared else { return }
        let database = self.database
        let payload = event.payload(from: replicaID)
        do {
            try await database.transaction { db in try await database.notify(channel: Self.channel, payload: payload, in: db) }
        } catch {
            // The other replica learns of it at its next reconciliation.
            return
        }
    }

    /// Hands the other replicas' events to `onEvent`, and calls `onReconnect` after listening
    /// was interrupted, until cancelled. Returns at once where the database is not shared.
    func listen(onReconnect: @escaping @Sendable () async -> Void, onEvent: @escaping @Sendable (StoreEvent) async -> Void) async {
        let replicaID = self.replicaID
        await database.listen(channel: Self.channel, onReconnect: onReconnect) { payload in
            guard let (sender, event) = StoreEvent.parse(payload), sender != replicaID else { return }
            await onEvent(event)
        }
    }
}
