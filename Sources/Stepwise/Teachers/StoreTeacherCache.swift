import Foundation

/// The teacher request cache on the SQLite store: one row per completed request.
///
/// `store` returns once the response's row is committed, so a response the teacher counts as
/// answered is never asked for again, even after `kill -9`. What a kill can still lose is a
/// response the server has sent whose commit had not finished: the teacher's workers overlap a
/// commit with their next request, so at most two per worker (`concurrency`) — one being
/// committed, one received while that commit ran — and only those that arrived within the last
/// commit's time (about a millisecond); the server counts them, the next run asks again.
///
/// Commits are grouped without waiting on purpose: a writer queue commits everything handed over
/// while its previous transaction ran in one transaction, so concurrent responses share commits
/// and the requesting tasks wait for SQLite only as long as their own commit takes.
/// Rows are keyed by the sha256 of the readable key (model, api, prompt, sampling params — no
/// host, no API key); the readable key is kept beside it for inspection.
public final class StoreTeacherCache: TeacherRequestCache, @unchecked Sendable {
    let store: Store
    let model: String
    let api: String

    private let writer = DispatchQueue(label: "stepwise.teacher-cache")
    private let lock = NSLock()
    /// Handed over, not yet written: readable key, response, and who waits for the commit.
    /// Guarded by `lock`, as is `drainScheduled`.
    private var pending: [(key: String, response: CachedTeacherResponse, done: CheckedContinuation<Void, Error>)] = []
    private var drainScheduled = false

    public init(store: Store, model: String, api: String) {
        self.store = store
        self.model = model
        self.api = api
    }

    public func cachedResponse(forKey key: String) throws -> CachedTeacherResponse? {
        try cachedResponses(forKeys: [key])[key]
    }

    public func cachedResponses(forKeys keys: [String]) throws -> [String: CachedTeacherResponse] {
        var readable: [String: String] = [:]   // hash → key
        for key in keys { readable[Hashing.sha256Hex(key)] = key }
        let rows = try store.teacherResponses(keys: Array(readable.keys))
        let decoder = JSONDecoder()
        var found: [String: CachedTeacherResponse] = [:]
        for (hash, row) in rows {
            guard let key = readable[hash] else { continue }
            found[key] = try decoder.decode(CachedTeacherResponse.self, from: Data(row.response.utf8))
        }
        return found
    }

    public func store(_ response: CachedTeacherResponse, forKey key: String) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, Error>) in
            lock.lock()
            pending.append((key, response, done))
            let schedule = !drainScheduled
            drainScheduled = true
            lock.unlock()
            if schedule { writer.async { self.drain() } }
        }
    }

    /// Commits everything handed over so far in one transaction, then releases its waiters.
    private func drain() {
        lock.lock()
        let batch = pending
        pending.removeAll()
        drainScheduled = false
        lock.unlock()
        guard !batch.isEmpty else { return }
        let result = Result {
            let rows = try batch.map { item in
                (Hashing.sha256Hex(item.key),
                 StoredTeacherResponse(model: model, api: api, request: item.key,
                                       response: String(decoding: try ArtifactCodec.encode(item.response), as: UTF8.self),
                                       promptTokens: item.response.promptTokens, completionTokens: item.response.completionTokens))
            }
            try store.putTeacherResponses(rows)
        }
        for item in batch { item.done.resume(with: result) }
    }
}
