import Foundation

/// The bookkeeping of one batch of prompts that `OpenAITeacher`'s worker tasks share: which
/// prompts are answered (from the cache or by the server), which one a worker takes next, and
/// progress.
///
/// Prompts are prepared (rendered, keyed, looked up in the cache) a chunk at a time, one chunk
/// ahead of the workers, so the first requests go out after one chunk's preparation rather than
/// the whole batch's, and the rest is prepared while requests are in flight. For a few thousand
/// prompts against a fast local server, preparing everything first was a few percent of the run.
///
/// Locks, never awaits: `claim` may block briefly on a chunk another worker is preparing, which
/// is running code, never a suspended task, so workers cannot deadlock the cooperative pool.
final class CompletionBatch<T>: @unchecked Sendable {
    struct Prepared {
        var prompt: String
        var key: String
        var cached: CachedTeacherResponse?
    }

    struct Item {
        var index: Int
        var prompt: String
        var key: String
    }

    let count: Int
    private let chunk: Int
    private let prepare: (Range<Int>) throws -> [Prepared]
    private let transform: (Int, CachedTeacherResponse) -> T
    private let progress: ((_ done: Int, _ total: Int) -> Void)?

    /// Guards everything below; the progress callback is called under it, so it sees 1, 2, 3, …
    private let lock = NSLock()
    private var results: [T?]
    /// Prepared but not yet claimed prompts of uncached indices.
    private var waiting: [Int: (prompt: String, key: String)] = [:]
    /// Indices below it are prepared.
    private var preparedUpTo = 0
    /// The next index a worker may claim.
    private var next = 0
    private var done = 0
    private(set) var cacheHits = 0
    private var preparingAhead = false
    /// Serialises preparation; never taken while `lock` is held.
    private let prepareLock = NSLock()

    /// `prepare` renders, keys and looks up the prompts of a range of indices; `transform` turns
    /// index and response into the batch's result.
    init(count: Int, chunk: Int, prepare: @escaping (Range<Int>) throws -> [Prepared],
         transform: @escaping (Int, CachedTeacherResponse) -> T,
         progress: ((_ done: Int, _ total: Int) -> Void)?) {
        self.count = count
        self.chunk = max(1, chunk)
        self.prepare = prepare
        self.transform = transform
        self.progress = progress
        results = Array(repeating: nil, count: count)
    }

    /// The next prompt to send, or nil when every prompt is answered or taken.
    func claim() throws -> Item? {
        while true {
            lock.lock()
            while next < preparedUpTo && results[next] != nil { next += 1 }   // answered from the cache
            if next < preparedUpTo {
                let i = next
                next += 1
                let p = waiting.removeValue(forKey: i)!
                // Entering the last prepared chunk: this worker prepares the following one.
                let ahead = preparedUpTo < count && !preparingAhead && preparedUpTo - i <= chunk
                if ahead { preparingAhead = true }
                let observed = preparedUpTo
                lock.unlock()
                if ahead {
                    defer { lock.lock(); preparingAhead = false; lock.unlock() }
                    try prepareChunk(ifPreparedUpTo: observed)
                }
                return Item(index: i, prompt: p.prompt, key: p.key)
            }
            let observed = preparedUpTo
            lock.unlock()
            if observed >= count { return nil }
            try prepareChunk(ifPreparedUpTo: observed)
        }
    }

    /// Records the server's answer for a claimed index.
    func answer(_ index: Int, with response: CachedTeacherResponse) {
        let value = transform(index, response)
        lock.lock(); defer { lock.unlock() }
        results[index] = value
        done += 1
        progress?(done, count)
    }

    /// All results, once every prompt is answered.
    func values() -> [T] {
        lock.lock(); defer { lock.unlock() }
        return results.map { $0! }
    }

    /// Prepares the chunk starting at `start` unless someone already has.
    private func prepareChunk(ifPreparedUpTo start: Int) throws {
        prepareLock.lock(); defer { prepareLock.unlock() }
        lock.lock()
        let current = preparedUpTo
        lock.unlock()
        guard current == start, start < count else { return }
        let range = start..<min(count, start + chunk)
        let prepared = try prepare(range)
        precondition(prepared.count == range.count)
        let hits = zip(range, prepared).compactMap { i, p in p.cached.map { (i, transform(i, $0)) } }
        lock.lock(); defer { lock.unlock() }
        for (i, p) in zip(range, prepared) where p.cached == nil { waiting[i] = (p.prompt, p.key) }
        for (i, value) in hits {
            results[i] = value
            cacheHits += 1
            done += 1
            progress?(done, count)
        }
        preparedUpTo = range.upperBound
    }
}
