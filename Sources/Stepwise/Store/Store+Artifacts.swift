import Foundation
import GRDB

extension Store {
    public func allKeys() throws -> Set<String> {
        try db.read { db in Set(try String.fetchAll(db, sql: "SELECT key FROM artifacts")) }
    }

    public func contains(_ key: String) throws -> Bool {
        try db.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM artifacts WHERE key = ?", arguments: [key]) ?? false }
    }

    /// A small artifact's bytes (inline, or the `payload` file of a folder artifact).
    public func payload(_ key: String) throws -> Data? {
        guard let location = try location(key) else { return nil }
        switch location {
        case .inline(let d): return d
        case .file(let url): return try ArtifactFiles.read(url, what: "artifact \(key.prefix(10))")
        case .folder(let url): return try ArtifactFiles.read(url.appendingPathComponent(ArtifactFiles.payloadName), what: "artifact \(key.prefix(10))")
        }
    }

    /// Where an artifact's bytes are: inline (read now) or a folder beside the database (read in place).
    public func location(_ key: String) throws -> ArtifactLocation? {
        try db.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT location, payload FROM artifacts WHERE key = ?", arguments: [key]) else {
                return nil
            }
            if let rel = row["location"] as String? { return .folder(artifactDirectory.appendingPathComponent(rel)) }
            return .inline(row["payload"])
        }
    }

    /// Commits one finished stage atomically; a second writer of the same key keeps the first.
    public func put(_ a: ArtifactRecord, runID: Int64?) throws {
        let inputs = JSONValue.object(a.inputs.mapValues { .string($0) }).canonical
        try db.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO artifacts (key, kind, label, params, inputs, payload, size, created, duration, run_id, location, sha256, cost)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [a.key, a.kind.rawValue, a.label, a.params.canonical, inputs, a.payload, a.size,
                                 a.created.timeIntervalSince1970, a.duration, runID, a.location, a.sha256, a.cost])
        }
    }

    public func summaries(kind: StageKind? = nil) throws -> [ArtifactSummary] {
        try db.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT key, kind, label, params, inputs, size, created, duration, location, sha256 FROM artifacts
                WHERE ?1 IS NULL OR kind = ?1 ORDER BY created
                """, arguments: [kind?.rawValue])
            return rows.map { row -> ArtifactSummary in
                let kind = StageKind(rawValue: row["kind"])
                let params = (try? JSONDecoder().decode(JSONValue.self, from: Data((row["params"] as String).utf8))) ?? .null
                let inputs = (try? JSONDecoder().decode([String: String].self, from: Data((row["inputs"] as String).utf8))) ?? [:]
                return ArtifactSummary(key: row["key"], kind: kind, label: row["label"], params: params, inputs: inputs,
                                       size: row["size"], created: Date(timeIntervalSince1970: row["created"]),
                                       duration: row["duration"], location: row["location"], sha256: row["sha256"])
            }
        }
    }

    /// Deletes artifacts, rows first and then their folders (a folder without a row is only
    /// garbage; a row without its folder would be a broken artifact); returns the bytes freed.
    @discardableResult
    public func delete(keys: [String]) throws -> Int {
        let (freed, folders) = try db.write { db -> (Int, [String]) in
            var freed = 0
            var folders: [String] = []
            for key in keys {
                if let row = try Row.fetchOne(db, sql: "SELECT size, location FROM artifacts WHERE key = ?", arguments: [key]) {
                    freed += row["size"] as Int
                    if let l = row["location"] as String? { folders.append(l) }
                }
                try db.execute(sql: "DELETE FROM artifacts WHERE key = ?", arguments: [key])
            }
            return (freed, folders)
        }
        for f in folders { try? FileManager.default.removeItem(at: artifactDirectory.appendingPathComponent(f)) }
        return freed
    }

    /// SQLite's own consistency check: "ok" when the file is sound.
    public func integrityCheck() throws -> String {
        try db.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }

    /// Returns freed pages to the file system after a large `gc`.
    public func vacuum() throws {
        try db.writeWithoutTransaction { db in try db.execute(sql: "VACUUM") }
    }
}

extension Store {
    /// Rows of folder artifacts (for the plan-time check and `gc`).
    public func folderArtifacts() throws -> [(key: String, size: Int, location: String?, sha256: String?)] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT key, size, location, sha256 FROM artifacts WHERE location IS NOT NULL").map {
                (key: $0["key"], size: $0["size"], location: $0["location"], sha256: $0["sha256"])
            }
        }
    }
}

extension Store {
    /// Per stage kind: how many stored, their total seconds and total estimated cost.
    public func durationsByKind() throws -> [String: (count: Int, seconds: Double, cost: Double)] {
        try db.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT kind, COUNT(*) AS n, SUM(duration) AS s, SUM(COALESCE(cost, 0)) AS c FROM artifacts GROUP BY kind")
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["kind"], (count: $0["n"], seconds: $0["s"], cost: $0["c"])) })
        }
    }
}
