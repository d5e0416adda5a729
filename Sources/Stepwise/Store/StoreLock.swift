import Foundation

/// One `run` per store at a time. An advisory `flock` on `<store>.lock`: the kernel drops it
/// when the holder dies (even by `kill -9`), so a crashed run never leaves a stale lock.
public final class StoreLock {
    private let fd: Int32
    public let path: String

    public enum Mode { case wait, fail }

    /// Takes the lock; with `.wait`, tells the user who holds it and blocks until it is free.
    public init(store: URL, mode: Mode, onWait: (String) -> Void = { _ in }) throws {
        path = store.path + ".lock"
        try? FileManager.default.createDirectory(at: store.deletingLastPathComponent(), withIntermediateDirectories: true)
        fd = open(path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw StepwiseError("cannot open lock file \(path): \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            let who = "another `stepwise run` (pid \(holder.isEmpty ? "?" : holder)) is using the store \(store.path)"
            switch mode {
            case .fail:
                close(fd)
                throw StepwiseError("\(who); wait for it to finish, or rerun without --no-wait to wait for it")
            case .wait:
                onWait("\(who); waiting for it to finish…")
                guard flock(fd, LOCK_EX) == 0 else {
                    close(fd)
                    throw StepwiseError("cannot lock \(path): \(String(cString: strerror(errno)))")
                }
            }
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
