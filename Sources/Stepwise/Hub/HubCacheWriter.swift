import Foundation

/// Writes a repository's part of the Hugging Face cache exactly as huggingface_hub does, so
/// that either tool finds what the other fetched:
///
///     models--org--name/blobs/<etag>                  the bytes (<etag>.incomplete while downloading)
///     models--org--name/snapshots/<commit>/<file>     → ../../blobs/<etag> (relative symlink)
///     models--org--name/refs/<revision>               the commit, for a branch or tag name
///     .locks/models--org--name/<etag>.lock            held while a blob is written
struct HubCacheWriter {
    let location: HubCacheLocation
    let id: HubModelID

    var repoFolder: URL { location.repoFolder(id) }

    func blob(_ etag: String) -> URL { repoFolder.appendingPathComponent("blobs").appendingPathComponent(etag) }

    func incomplete(_ etag: String) -> URL {
        repoFolder.appendingPathComponent("blobs").appendingPathComponent(etag + ".incomplete")
    }

    func snapshotFolder(_ commit: String) -> URL {
        repoFolder.appendingPathComponent("snapshots").appendingPathComponent(commit, isDirectory: true)
    }

    func lockFile(_ etag: String) -> URL {
        location.root.appendingPathComponent(".locks").appendingPathComponent(id.cacheFolderName)
            .appendingPathComponent(etag + ".lock")
    }

    /// `snapshots/<commit>/<file>` → the blob, relative (`../../blobs/<etag>`, one more `../`
    /// per folder in `file`), replacing what was there.
    func link(file: String, commit: String, etag: String) throws {
        let pointer = snapshotFolder(commit).appendingPathComponent(file)
        let fm = FileManager.default
        try fm.createDirectory(at: pointer.deletingLastPathComponent(), withIntermediateDirectories: true)
        let depth = file.split(separator: "/").count - 1 + 2
        let target = String(repeating: "../", count: depth) + "blobs/" + etag
        if (try? fm.destinationOfSymbolicLink(atPath: pointer.path)) != nil || fm.fileExists(atPath: pointer.path) {
            try fm.removeItem(at: pointer)
        }
        try fm.createSymbolicLink(atPath: pointer.path, withDestinationPath: target)
    }

    /// `refs/<revision>` ← commit (huggingface_hub writes it without a newline).
    func writeRef(_ revision: String, commit: String) throws {
        let ref = repoFolder.appendingPathComponent("refs").appendingPathComponent(revision)
        try FileManager.default.createDirectory(at: ref.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(commit.utf8).write(to: ref, options: .atomic)
    }

    /// Runs `body` holding the blob's lock (the flock huggingface_hub's FileLock takes on the same
    /// file), so two processes fetching one model do not write one blob at once.
    func withBlobLock<T>(_ etag: String, _ body: () async throws -> T) async throws -> T {
        let url = lockFile(etag)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(url.path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw StepwiseError("cannot open the lock file \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        // Polled, so that waiting for another process never blocks a thread of the async pool.
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                throw StepwiseError("cannot lock \(url.path): \(String(cString: strerror(errno)))")
            }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        defer { flock(fd, LOCK_UN) }
        return try await body()
    }
}
