import Foundation
import GRDB

public enum StageEvent: String, Sendable {
    case started, finished, reused, failed, skipped
    /// A job an earlier coordinator submitted, taken over by this run (`Executor.adopt`).
    case adopted
}

extension Store {
    public func beginRun(spec: String) throws -> Int64 {
        try db.write { db in
            try db.execute(sql: "INSERT INTO runs (spec, pid, started, status) VALUES (?, ?, ?, 'running')",
                           arguments: [spec, Int(getpid()), Date().timeIntervalSince1970])
            return db.lastInsertedRowID
        }
    }

    public func finishRun(_ id: Int64, status: String) throws {
        try db.write { db in
            try db.execute(sql: "UPDATE runs SET finished = ?, status = ? WHERE id = ?",
                           arguments: [Date().timeIntervalSince1970, status, id])
        }
    }

    public func record(_ event: StageEvent, run: Int64, stage: Stage, message: String? = nil) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO stage_events (run_id, key, kind, label, event, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [run, stage.key, stage.kind.rawValue, stage.label, event.rawValue, message,
                                 Date().timeIntervalSince1970])
        }
    }

    /// How many times each key was started (across all runs): the resume test checks no
    /// finished stage ever starts again.
    public func startCounts() throws -> [String: Int] {
        try db.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT key, COUNT(*) AS n FROM stage_events WHERE event = 'started' GROUP BY key")
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["key"], $0["n"]) })
        }
    }

    public struct RunSummary: Sendable {
        public var id: Int64
        public var spec: String
        public var started: Date
        public var finished: Date?
        public var status: String
    }

    public func lastRun(spec: String) throws -> RunSummary? {
        try db.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE spec = ? ORDER BY id DESC LIMIT 1", arguments: [spec]).map {
                RunSummary(id: $0["id"], spec: $0["spec"], started: Date(timeIntervalSince1970: $0["started"]),
                           finished: ($0["finished"] as Double?).map { Date(timeIntervalSince1970: $0) }, status: $0["status"])
            }
        }
    }

    /// The last error message recorded for a stage key, if its last attempt failed.
    public func lastFailure(key: String) throws -> String? {
        try db.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT event, message FROM stage_events WHERE key = ? ORDER BY id DESC LIMIT 1",
                                       arguments: [key])
            guard let row, (row["event"] as String) == StageEvent.failed.rawValue else { return nil }
            return row["message"]
        }
    }
}

extension Store {
    /// Every stage event in the order it was recorded: (key, event). The executor conformance
    /// suite checks dependency order with it.
    public func events() throws -> [(key: String, event: String)] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT key, event FROM stage_events ORDER BY id").map { (key: $0["key"], event: $0["event"]) }
        }
    }
}
