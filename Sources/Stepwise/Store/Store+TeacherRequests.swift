import Foundation
import GRDB

/// One completed teacher request, cached so an interrupted annotation resumes where it
/// stopped and a re-run pays for nothing. The key covers (model, api, prompt, sampling
/// params), never the host or the API key.
public struct StoredTeacherResponse: Sendable, Equatable {
    public var model: String
    public var api: String
    public var request: String
    public var response: String
    public var promptTokens: Int?
    public var completionTokens: Int?

    public init(model: String, api: String, request: String, response: String, promptTokens: Int?, completionTokens: Int?) {
        self.model = model; self.api = api; self.request = request; self.response = response
        self.promptTokens = promptTokens; self.completionTokens = completionTokens
    }
}

extension Store {
    public func teacherResponse(key: String) throws -> StoredTeacherResponse? {
        try teacherResponses(keys: [key])[key]
    }

    /// The stored responses among `keys`, by key, in one read (an annotation asks for all its
    /// prompts at once; one read per prompt cost more than the rest of a cached re-run).
    public func teacherResponses(keys: [String]) throws -> [String: StoredTeacherResponse] {
        try db.read { db in
            var found: [String: StoredTeacherResponse] = [:]
            // Chunks stay well under SQLite's limit on bound parameters.
            var start = 0
            while start < keys.count {
                let chunk = Array(keys[start..<min(start + 500, keys.count)])
                start += chunk.count
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM teacher_requests WHERE key IN (\(marks))",
                                            arguments: StatementArguments(chunk))
                for row in rows {
                    found[row["key"]] = StoredTeacherResponse(model: row["model"], api: row["api"], request: row["request"],
                                                              response: row["response"], promptTokens: row["prompt_tokens"],
                                                              completionTokens: row["completion_tokens"])
                }
            }
            return found
        }
    }

    public func putTeacherResponse(_ r: StoredTeacherResponse, key: String) throws {
        try putTeacherResponses([(key, r)])
    }

    /// Several responses in one transaction.
    public func putTeacherResponses(_ rows: [(key: String, response: StoredTeacherResponse)]) throws {
        try db.write { db in
            // One prepared statement for the whole batch.
            let insert = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO teacher_requests
                    (key, model, api, request, response, prompt_tokens, completion_tokens, created)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for (key, r) in rows {
                try insert.execute(arguments: [key, r.model, r.api, r.request, r.response, r.promptTokens, r.completionTokens,
                                               Date().timeIntervalSince1970])
            }
        }
    }

    public func teacherRequestCount() throws -> Int {
        try db.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM teacher_requests") ?? 0 }
    }
}
