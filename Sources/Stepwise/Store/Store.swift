import Foundation
import GRDB

/// Everything Stepwise remembers, in one SQLite file (WAL mode, through GRDB):
/// stage artifacts by content key, runs, stage events, and single teacher requests.
/// Each artifact is written in one transaction, so a `kill -9` leaves either the whole
/// artifact or none of it.
public final class Store: @unchecked Sendable {
    public let url: URL
    let db: DatabasePool

    /// `upTo`: apply migrations only up to that one (tests build a store of an older version).
    public init(url: URL, upTo lastMigration: String? = nil) throws {
        self.url = url
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var config = Configuration()
        // Another process may hold the write lock for a moment (a parallel `report`, `gc`):
        // wait rather than fail.
        config.busyMode = .timeout(30)
        // WAL + synchronous=NORMAL: a commit survives the process being killed (the kill -9
        // guarantee); only an OS crash can lose the last commits. FULL fsyncs every teacher
        // response and stage event.
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        // GRDB's migrator reads which migrations are applied before it takes SQLite's write
        // lock, so two processes creating a new store at once (a run starting while `status`
        // or a test polls for it) could both apply the first migration and one would fail with
        // "table already exists". Opening and migrating happen under an flock beside the store.
        let openLock = open(url.path + ".open-lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if openLock >= 0 { flock(openLock, LOCK_EX) }
        defer { if openLock >= 0 { flock(openLock, LOCK_UN); close(openLock) } }
        do {
            db = try DatabasePool(path: url.path, configuration: config)
        } catch {
            throw StepwiseError("cannot open store \(url.path): \(error)")
        }
        if let lastMigration { try Self.migrator.migrate(db, upTo: lastMigration) } else { try Self.migrator.migrate(db) }
    }

    /// Default location: `.stepwise/store.sqlite` at the project root.
    public static func defaultURL(root: URL) -> URL {
        root.appendingPathComponent(".stepwise/store.sqlite")
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE artifacts (
                    key TEXT PRIMARY KEY NOT NULL,
                    kind TEXT NOT NULL,
                    label TEXT NOT NULL,
                    params TEXT NOT NULL,
                    inputs TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    size INTEGER NOT NULL,
                    created REAL NOT NULL,
                    duration REAL NOT NULL,
                    run_id INTEGER
                );
                CREATE INDEX artifacts_kind ON artifacts(kind);
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    spec TEXT NOT NULL,
                    pid INTEGER NOT NULL,
                    started REAL NOT NULL,
                    finished REAL,
                    status TEXT NOT NULL
                );
                CREATE TABLE stage_events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    label TEXT NOT NULL,
                    event TEXT NOT NULL,
                    message TEXT,
                    at REAL NOT NULL
                );
                CREATE INDEX stage_events_run ON stage_events(run_id);
                CREATE TABLE teacher_requests (
                    key TEXT PRIMARY KEY NOT NULL,
                    model TEXT NOT NULL,
                    api TEXT NOT NULL,
                    request TEXT NOT NULL,
                    response TEXT NOT NULL,
                    prompt_tokens INTEGER,
                    completion_tokens INTEGER,
                    created REAL NOT NULL
                );
                """)
        }
        // v2: large artifacts live as folders beside the database (DESIGN.md, "Data at rest").
        // `location` is the folder's path relative to the artifact directory (NULL: inline
        // payload); `sha256` is the payload's or the folder's content hash (`status --verify`).
        // Older rows keep their inline payload; stages whose artifact became a folder have a new
        // version, so their old rows are simply unreachable and `gc` drops them.
        m.registerMigration("v2") { db in
            try db.execute(sql: """
                ALTER TABLE artifacts ADD COLUMN location TEXT;
                ALTER TABLE artifacts ADD COLUMN sha256 TEXT;
                ALTER TABLE artifacts ADD COLUMN cost REAL;
                """)
        }
        // Jobs submitted to a cluster (Store+Jobs.swift): what a restarted coordinator re-attaches to.
        m.registerMigration("jobs", migrate: createJobsTable)
        return m
    }

    /// Where folder artifacts live: `artifacts/` beside the database file.
    public var artifactDirectory: URL { url.deletingLastPathComponent().appendingPathComponent("artifacts") }
}

/// A stage's stored result and where it came from.
public struct ArtifactRecord: Sendable {
    public var key: String
    public var kind: StageKind
    public var label: String
    public var params: JSONValue
    public var inputs: [String: String]
    /// The inline payload (empty for a folder artifact).
    public var payload: Data
    /// A folder artifact: its path relative to the store's artifact directory.
    public var location: String?
    /// Bytes of the payload or of the folder's files.
    public var size: Int
    public var sha256: String
    /// The definition's cost estimate, kept to calibrate `plan`'s time estimate.
    public var cost: Double = 0
    public var created: Date
    public var duration: TimeInterval

    public init(key: String, kind: StageKind, label: String, params: JSONValue, inputs: [String: String], payload: Data,
                location: String? = nil, size: Int? = nil, sha256: String? = nil,
                created: Date = Date(), duration: TimeInterval) {
        self.key = key; self.kind = kind; self.label = label; self.params = params; self.inputs = inputs
        self.payload = payload; self.location = location; self.size = size ?? payload.count
        self.sha256 = sha256 ?? Hashing.sha256Hex(payload)
        self.created = created; self.duration = duration
    }
}

/// An artifact without its payload: what `plan --explain`, `status` and `gc` need.
public struct ArtifactSummary: Sendable {
    public var key: String
    public var kind: StageKind
    public var label: String
    public var params: JSONValue
    public var inputs: [String: String]
    public var size: Int
    public var created: Date
    public var duration: TimeInterval
    /// Folder artifacts: path relative to the artifact directory.
    public var location: String?
    public var sha256: String?
}

extension Store {
    /// Runs raw SQL (tests forge rows of an older Stepwise with it).
    func execute(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try db.write { db in try db.execute(sql: sql, arguments: arguments) }
    }
}
