import Crypto
import Foundation

/// sha256 of a file's bytes, remembered for the life of the process by (path, size, modification
/// time): a pretrained checkpoint's gigabyte is hashed once per run however many stages (and
/// plans) read it. Memory only: a new process hashes again, so nothing stale survives it. A file
/// modified in the last two seconds is not remembered (git's "racy clean" rule): the kernel's
/// file times advance in ticks of milliseconds, so an edit right after a hash could keep the
/// size and the time it was hashed with.
enum FileFingerprints {
    private struct Stamp: Hashable {
        var path: String
        var size: UInt64
        var modified: Double
    }

    private static let lock = NSLock()
    private static let racyWindow: Double = 2
    nonisolated(unsafe) private static var known: [Stamp: String] = [:]

    static func sha256(of url: URL) throws -> String {
        let path = url.resolvingSymlinksInPath().path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw StepwiseError("cannot read \(url.path)")
        }
        let stamp = Stamp(path: path, size: (attributes[.size] as? NSNumber)?.uint64Value ?? 0,
                          modified: (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
        lock.lock()
        let hit = known[stamp]
        lock.unlock()
        if let hit { return hit }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StepwiseError("cannot read \(url.path)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        let digest = Hashing.hex(hasher.finalize())
        if Date().timeIntervalSince1970 - stamp.modified > racyWindow {
            lock.lock()
            known[stamp] = digest
            lock.unlock()
        }
        return digest
    }
}
