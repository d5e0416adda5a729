import Foundation
import GRDB

/// A job a cluster executor submitted for a stage: written by the coordinator as it submits
/// (before `sbatch`, so a coordinator killed in between still finds the job by its name), kept
/// up to date while it tracks it, read back by a later run to re-attach (`Executor.adopt`) and
/// by `status`. The table is history, not cache: it never decides whether an artifact exists.
public struct JobRecord: Sendable {
    public var id: Int64 = 0
    public var key: String
    public var label: String
    public var executor: String
    /// The scheduler's job id; nil while it is being submitted.
    public var jobID: String?
    /// The job's name in the scheduler (unique per submission).
    public var name: String
    /// The job folder on the shared file system (`job.json`, `log`, `output/`, `result.json`).
    public var jobDir: String
    /// The scheduler's state (`PENDING`, `RUNNING`, `TIMEOUT`, …) or one of ours:
    /// `SUBMITTING`, `COLLECTED` (its result was handed to the scheduler), `LOST` (gone without
    /// a result; the stage was submitted again).
    public var state: String
    /// 1 for the first submission, then one more per retry.
    public var attempt: Int
    public var runID: Int64?
    public var submitted: Date
    public var updated: Date
    public var node: String?
    public var elapsed: String?
    public var message: String?

    public init(key: String, label: String, executor: String, name: String, jobDir: String, state: String, attempt: Int,
                runID: Int64?) {
        self.key = key; self.label = label; self.executor = executor; self.name = name; self.jobDir = jobDir
        self.state = state; self.attempt = attempt; self.runID = runID
        submitted = Date(); updated = submitted
    }

    init(row: Row) {
        id = row["id"]; key = row["key"]; label = row["label"]; executor = row["executor"]; jobID = row["job_id"]
        name = row["name"]; jobDir = row["job_dir"]; state = row["state"]; attempt = row["attempt"]; runID = row["run_id"]
        submitted = Date(timeIntervalSince1970: row["submitted"]); updated = Date(timeIntervalSince1970: row["updated"])
        node = row["node"]; elapsed = row["elapsed"]; message = row["message"]
    }
}

extension Store {
    /// The `jobs` table (migration "jobs").
    static func createJobsTable(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE jobs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                key TEXT NOT NULL,
                label TEXT NOT NULL,
                executor TEXT NOT NULL,
                job_id TEXT,
                name TEXT NOT NULL,
                job_dir TEXT NOT NULL,
                state TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                run_id INTEGER,
                submitted REAL NOT NULL,
                updated REAL NOT NULL,
                node TEXT,
                elapsed TEXT,
                message TEXT
            );
            CREATE INDEX jobs_key ON jobs(key);
            """)
    }

    /// Records a job about to be submitted; returns its row id.
    public func insertJob(_ job: JobRecord) throws -> Int64 {
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO jobs (key, label, executor, job_id, name, job_dir, state, attempt, run_id, submitted, updated, node, elapsed, message)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [job.key, job.label, job.executor, job.jobID, job.name, job.jobDir, job.state, job.attempt,
                                 job.runID, job.submitted.timeIntervalSince1970, job.updated.timeIntervalSince1970,
                                 job.node, job.elapsed, job.message])
            return db.lastInsertedRowID
        }
    }

    /// Updates what changed about a job; nil fields are left as they are.
    public func updateJob(_ id: Int64, jobID: String? = nil, state: String? = nil, node: String? = nil, elapsed: String? = nil,
                          message: String? = nil, runID: Int64? = nil) throws {
        try db.write { db in
            try db.execute(sql: """
                UPDATE jobs SET job_id = COALESCE(?, job_id), state = COALESCE(?, state), node = COALESCE(?, node),
                    elapsed = COALESCE(?, elapsed), message = COALESCE(?, message), run_id = COALESCE(?, run_id), updated = ?
                WHERE id = ?
                """, arguments: [jobID, state, node, elapsed, message, runID, Date().timeIntervalSince1970, id])
        }
    }

    /// The latest job of each key for one executor.
    public func latestJobs(executor: String) throws -> [String: JobRecord] {
        try db.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT * FROM jobs WHERE id IN (SELECT MAX(id) FROM jobs WHERE executor = ? GROUP BY key)
                """, arguments: [executor])
            return Dictionary(uniqueKeysWithValues: rows.map { (($0["key"] as String), JobRecord(row: $0)) })
        }
    }

    /// Job folders `gc` must keep: those of jobs that may still be queued or running, or that
    /// finished with a result no coordinator has collected yet (the next run re-attaches to them).
    public func jobFoldersInUse() throws -> Set<String> {
        let settled = ["FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE",
                       "LOST", "SUBMIT_FAILED"]
        let placeholders = settled.map { _ in "?" }.joined(separator: ",")
        return try db.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT job_dir FROM jobs WHERE id IN (SELECT MAX(id) FROM jobs GROUP BY key) "
                                        + "AND state NOT IN (\(placeholders))", arguments: StatementArguments(settled))
            return Set(rows.map { URL(fileURLWithPath: $0["job_dir"] as String).standardizedFileURL.path })
        }
    }

    /// Every job ever recorded for a key, oldest first.
    public func jobs(key: String) throws -> [JobRecord] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE key = ? ORDER BY id", arguments: [key]).map(JobRecord.init(row:))
        }
    }
}
