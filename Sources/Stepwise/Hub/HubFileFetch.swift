import Crypto
import Foundation
import NIOCore

/// Fetches one file of a commit into the cache, as huggingface_hub does:
///
/// 1. `HEAD {endpoint}/{repo}/resolve/{commit}/{file}` without following redirects: the blob
///    name is `X-Linked-Etag` (else `ETag`) — a large (LFS) file's sha256, a small file's git
///    hash — and the size `X-Linked-Size` (else `Content-Length`); an LFS file's answer is a
///    302 whose `Location` is where the bytes are (a CDN). Relative redirects (a renamed
///    repository) are followed on the hub.
/// 2. When `blobs/<etag>` exists, nothing is downloaded. Otherwise `GET` into
///    `blobs/<etag>.incomplete`, continuing a partial one with `Range: bytes=N-` (and after a
///    dropped connection), then check the size and, for a sha256 etag, the hash, and rename.
/// Linking the blob into the snapshot is the caller's, once every file is there.
struct HubFileFetch {
    let id: HubModelID
    let commit: String
    let file: String
    let client: HubHTTPClient
    let cache: HubCacheWriter
    let progress: (@Sendable (String) -> Void)?

    /// What the hub says about the file before any byte of it is sent.
    struct Metadata {
        var etag: String
        var size: Int64?
        /// Where the bytes are: the CDN for LFS files, else the resolve URL itself.
        var location: URL
    }

    /// Puts the file's blob in the cache (unless it is there) and returns its name (etag).
    func run() async throws -> String {
        let meta = try await metadata()
        try await cache.withBlobLock(meta.etag) {
            let blob = cache.blob(meta.etag)
            if !blobIsComplete(blob, size: meta.size) {
                try await download(meta, to: blob)
            } else {
                progress?("\(file)  \(HubProgressMeter.bytes(meta.size ?? 0))  already in the cache")
            }
        }
        return meta.etag
    }

    private func blobIsComplete(_ blob: URL, size: Int64?) -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: blob.path) else { return false }
        guard let size else { return true }
        return (attributes[.size] as? NSNumber)?.int64Value == size
    }

    func metadata() async throws -> Metadata {
        var url = client.endpoint.resolveURL(repo: id.repo, commit: commit, file: file)
        for _ in 0..<5 {
            let target = url
            let r = try await client.withRetries("asking for \(file)", note: progress) { () -> HTTPResponse in
                let r = try await client.transport(for: target).send(client.request("HEAD", target, headers: [("Accept-Encoding", "identity")]))
                try HubHTTPClient.checkBusy(r, url: target)
                return r
            }
            let location = r.value(forHeader: "Location").flatMap { URL(string: $0, relativeTo: target)?.absoluteURL }
            if (300...399).contains(r.status), let location, client.endpoint.isHub(location),
               r.value(forHeader: "X-Linked-Etag") == nil {
                url = location   // the hub moving the request within itself, e.g. a renamed repository
                continue
            }
            guard (200...399).contains(r.status) else {
                throw HubErrors.refusal(r, url: target, id: id, what: file, endpoint: client.endpoint)
            }
            guard let raw = r.value(forHeader: "X-Linked-Etag") ?? r.value(forHeader: "ETag"), let etag = Self.normalizeEtag(raw) else {
                throw StepwiseError("the hub sent no usable ETag for \(file) of \(id) (\(target.absoluteString)); cannot name its blob")
            }
            let size = (r.value(forHeader: "X-Linked-Size") ?? r.value(forHeader: "Content-Length")).flatMap { Int64($0) }
            if (300...399).contains(r.status), location == nil {
                throw StepwiseError("the hub redirected \(file) of \(id) (\(r.status)) without a Location")
            }
            return Metadata(etag: etag, size: size, location: (300...399).contains(r.status) ? location! : target)
        }
        throw StepwiseError("the hub redirected \(file) of \(id) more than 5 times (last: \(url.absoluteString))")
    }

    /// `W/"abc"` → `abc`; nil for a value that could not be a file name.
    static func normalizeEtag(_ raw: String) -> String? {
        var e = raw.trimmingCharacters(in: .whitespaces)
        if e.hasPrefix("W/") { e.removeFirst(2) }
        e = e.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_"))
        guard !e.isEmpty, e.count <= 128, e.unicodeScalars.allSatisfy({ $0.isASCII && allowed.contains($0) }) else { return nil }
        return e
    }

    private func download(_ meta: Metadata, to blob: URL) async throws {
        let partial = cache.incomplete(meta.etag)
        let fm = FileManager.default
        try fm.createDirectory(at: partial.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !fm.fileExists(atPath: partial.path) { fm.createFile(atPath: partial.path, contents: nil) }
        guard let handle = FileHandle(forUpdatingAtPath: partial.path) else {
            throw StepwiseError("cannot write \(partial.path)")
        }
        defer { try? handle.close() }
        let resumedFrom = Int64(try handle.seekToEnd())
        let meter = HubProgressMeter(name: file, total: meta.size, resumedFrom: resumedFrom, report: progress)
        var written = resumedFrom
        try await client.withRetries("downloading \(file)", note: progress) {
            // Each attempt continues from what is on disk, including what a dropped one wrote.
            written = Int64(try handle.seekToEnd())
            if let size = meta.size, written > size {   // not a prefix of this file: start over
                try handle.truncate(atOffset: 0)
                written = 0
            }
            if let size = meta.size, written == size { return }   // a complete .incomplete: only checks remain
            written = try await getRemainder(meta, into: handle, from: written, meter: meter)
        }
        try handle.synchronize()
        try verify(partial, meta: meta, written: written)
        meter.finish(written)
        try? fm.removeItem(at: blob)
        try fm.moveItem(at: partial, to: blob)
    }

    /// One GET of the bytes from `offset` on (the whole file when 0), appended to `handle`;
    /// returns the file's length after it. Redirects are followed (at most 5).
    private func getRemainder(_ meta: Metadata, into handle: FileHandle, from offset: Int64,
                              meter: HubProgressMeter) async throws -> Int64 {
        var url = meta.location
        var length = offset
        for _ in 0..<5 {
            let start = length
            var headers: [(name: String, value: String)] = [("Accept-Encoding", "identity")]
            if start > 0 { headers.append(("Range", "bytes=\(start)-")) }
            let target = url
            var restart = false   // a 200 to a ranged request: the server sends the whole file again
            var appending = false
            let r = try await client.transport(for: target).stream(client.request("GET", target, headers: headers), wantsBody: { head in
                appending = head.status == 200 || (head.status == 206 && Self.rangeStart(head.value(forHeader: "Content-Range")) == start)
                restart = head.status == 200 && start > 0
                return appending
            }, consume: { piece in
                if restart {
                    try handle.truncate(atOffset: 0)
                    length = 0
                    restart = false
                }
                try piece.withUnsafeReadableBytes { try handle.write(contentsOf: $0) }
                length += Int64(piece.readableBytes)
                meter.update(length)
            })
            if appending {
                if restart { try handle.truncate(atOffset: 0); length = 0 }
                return length
            }
            if r.status == 206 {
                throw StepwiseError("downloading \(file) of \(id): asked \(target.absoluteString) for bytes from \(start) on and got \(r.value(forHeader: "Content-Range") ?? "no Content-Range")")
            }
            if r.status == 416, let size = meta.size, start >= size { return start }   // nothing left to send
            if (300...399).contains(r.status), let next = r.value(forHeader: "Location").flatMap({ URL(string: $0, relativeTo: target)?.absoluteURL }) {
                url = next
                continue
            }
            try HubHTTPClient.checkBusy(r, url: target)
            throw HubErrors.refusal(r, url: target, id: id, what: file, endpoint: client.endpoint)
        }
        throw StepwiseError("downloading \(file) of \(id): more than 5 redirects (last: \(url.absoluteString))")
    }

    /// The first byte's offset in `Content-Range: bytes a-b/n`.
    static func rangeStart(_ value: String?) -> Int64? {
        guard let v = value?.trimmingCharacters(in: .whitespaces), v.lowercased().hasPrefix("bytes ") else { return nil }
        return v.dropFirst(6).split(separator: "-").first.flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// The size the hub gave, and the sha256 when the etag is one (an LFS file's); a file that
    /// fails is deleted, so that the next attempt starts clean rather than resuming bad bytes.
    private func verify(_ partial: URL, meta: Metadata, written: Int64) throws {
        if let size = meta.size, written != size {
            try? FileManager.default.removeItem(at: partial)
            throw StepwiseError("downloading \(file) of \(id): got \(written) bytes where the hub announced \(size); deleted, try again")
        }
        guard meta.etag.count == 64, meta.etag.allSatisfy(\.isHexDigit) else { return }
        let digest = try Self.sha256Hex(of: partial)
        if digest != meta.etag.lowercased() {
            try? FileManager.default.removeItem(at: partial)
            throw StepwiseError("""
                downloading \(file) of \(id): its sha256 is \(digest), not \(meta.etag) as the hub says; \
                the download was corrupted and is deleted (nothing was added to the snapshot) — try again
                """)
        }
    }

    static func sha256Hex(of url: URL) throws -> String {
        guard let h = FileHandle(forReadingAtPath: url.path) else { throw StepwiseError("cannot read \(url.path)") }
        defer { try? h.close() }
        var hasher = SHA256()
        while let chunk = try h.read(upToCount: 4 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return Hashing.hex(hasher.finalize())
    }
}
