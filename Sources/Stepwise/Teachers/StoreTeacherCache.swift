import Foundation

/// The teacher request cache on the SQLite store: one row per completed request. Responses are
/// handed to a writer queue that commits whatever has arrived in one transaction, so the HTTP
/// tasks never wait on SQLite and a killed annotation loses only the last `writeDelay` (20 ms)
/// of responses. `flush()` waits until everything handed over is committed.
/// Rows are keyed by the sha256 of the readable key (model, api, prompt, sampling params — no
/// host, no API key); the readable key is kept beside it for inspection.
public final class StoreTeacherCache: TeacherRequestCache, @unchecked Sendable {
    let store: Store
    let model: String
    let api: String

    private let writer = DispatchQueue(label: "stepwise.teacher-cache")
    /// How long the writer lets responses gather before committing them. Responses of concurrent
    /// requests tend to arrive in bursts (requests sent together come back together); committing
    /// a little after a burst rather than during it leaves the CPU to the requests' critical
    /// path (parsing the response, sending the next request). Measured with the teacher
    /// benchmark on 2 cores: writing during bursts cost ~25 ms of a 1.72 s annotation. It is
    /// also the most a kill -9 can lose.
    static let writeDelay: DispatchTimeInterval = .milliseconds(20)
    private let lock = NSLock()
    /// Handed over, not yet written: readable key and response (hashed and encoded by the writer,
    /// off the requesting tasks).
    private var pending: [(String, CachedTeacherResponse)] = []
    private var writeError: Error?

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

    public func store(_ response: CachedTeacherResponse, forKey key: String) throws {
        lock.lock()
        pending.append((key, response))
        let first = pending.count == 1
        lock.unlock()
        if first { writer.asyncAfter(deadline: .now() + Self.writeDelay) { self.drain() } }
    }

    /// Commits everything handed over so far; rethrows the first write error.
    public func flush() throws {
        writer.sync { drain() }
        lock.lock(); defer { lock.unlock() }
        if let writeError { throw writeError }
    }

    private func drain() {
        lock.lock()
        let batch = pending
        pending.removeAll()
        lock.unlock()
        guard !batch.isEmpty else { return }
        do {
            let rows = try batch.map { key, response in
                (Hashing.sha256Hex(key),
                 StoredTeacherResponse(model: model, api: api, request: key,
                                       response: String(decoding: try ArtifactCodec.encode(response), as: UTF8.self),
                                       promptTokens: response.promptTokens, completionTokens: response.completionTokens))
            }
            try store.putTeacherResponses(rows)
        } catch {
            lock.lock(); if writeError == nil { writeError = error }; lock.unlock()
        }
    }
}
