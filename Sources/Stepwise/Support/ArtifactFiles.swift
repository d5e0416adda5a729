import Foundation
import Crypto
#if canImport(Glibc)
import Glibc
#endif

/// Large artifacts as folders beside the database (DVC-style): written to a scratch folder on
/// the same file system, fsynced, hashed, renamed into `artifacts/<k0k1>/<key>/`, and only
/// then indexed in SQLite. A crash leaves either no folder, or a folder without a row (garbage
/// for `gc`), never a row pointing at a half-written folder.
public enum ArtifactFiles {
    /// The file holding a small payload that was too large to keep inline.
    public static let payloadName = "payload"
    /// Inline payloads larger than this go to a file (SQLite favours external files for large
    /// BLOBs and caps one at 10^9 bytes by default).
    public static let inlineLimit = 4 << 20

    public static func relativePath(forKey key: String) -> String { "\(key.prefix(2))/\(key)" }

    /// A fresh scratch folder for a stage's output, under the artifact directory.
    public static func scratchFolder(in artifacts: URL, key: String) throws -> URL {
        let url = artifacts.appendingPathComponent("tmp").appendingPathComponent("\(key.prefix(16))-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Makes `scratch` durable and moves it to its place; returns (relative path, bytes, sha256).
    public static func commit(_ scratch: URL, key: String, into artifacts: URL, label: String) throws -> (String, Int, String) {
        let (size, digest) = try hash(scratch, fsyncFiles: true, what: label)
        let rel = relativePath(forKey: key)
        let final = artifacts.appendingPathComponent(rel)
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: final.deletingLastPathComponent(), withIntermediateDirectories: true)
            // A folder left by a crash between the rename and the index row: same key, replace it.
            if fm.fileExists(atPath: final.path) { try fm.removeItem(at: final) }
            try fm.moveItem(at: scratch, to: final)
        } catch {
            throw StepwiseError("\(label): cannot move its artifact into \(final.path): \(describe(error))")
        }
        fsyncPath(final.deletingLastPathComponent())
        return (rel, size, digest)
    }

    /// Total bytes and a sha256 over the folder's files (sorted names, each name, size and bytes),
    /// streamed in 1 MiB chunks: a checkpoint is never held in memory to hash it.
    public static func hash(_ folder: URL, fsyncFiles: Bool = false, what: String) throws -> (Int, String) {
        var hasher = SHA256()
        var total = 0
        for name in try files(in: folder) {
            let url = folder.appendingPathComponent(name)
            let fd = open(url.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw StepwiseError("\(what): cannot read \(url.path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            if fsyncFiles && fsync(fd) != 0 {
                throw StepwiseError("\(what): cannot write \(url.path) to disk: \(String(cString: strerror(errno)))")
            }
            var size = 0
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n < 0 { throw StepwiseError("\(what): cannot read \(url.path): \(String(cString: strerror(errno)))") }
                if n == 0 { break }
                hasher.update(data: chunk[0..<n])
                size += n
            }
            hasher.update(data: Data("\u{0}\(name)\u{0}\(size)\u{0}".utf8))
            total += size
        }
        if fsyncFiles { fsyncPath(folder) }
        return (total, Hashing.hex(hasher.finalize()))
    }

    /// The regular files of an artifact folder, sorted (artifacts are flat folders).
    static func files(in folder: URL) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        } catch {
            throw StepwiseError("cannot list \(folder.path): \(describe(error))")
        }
    }

    /// Total size of a folder's files from `stat` alone: the plan-time check that a folder is
    /// there and not truncated (the hash is `status --verify`'s job).
    public static func size(of folder: URL) -> Int? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return nil }
        var total = 0
        for name in names {
            var st = stat()
            guard stat(folder.appendingPathComponent(name).path, &st) == 0 else { return nil }
            total += Int(st.st_size)
        }
        return total
    }

    public static func read(_ url: URL, what: String) throws -> Data {
        do { return try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw StepwiseError("cannot read the \(what) at \(url.path): \(describe(error))")
        }
    }

    /// Writes bytes into a scratch folder, with the file named in any error (a full disk).
    static func write(_ data: Data, to url: URL, label: String) throws {
        do { try data.write(to: url) } catch {
            throw StepwiseError("\(label): cannot write \(url.path): \(describe(error))")
        }
    }

    static func fsyncPath(_ url: URL) {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    /// The OS's words for a file error (e.g. "No space left on device"), not Foundation's wrapper.
    static func describe(_ error: Error) -> String {
        let ns = error as NSError
        let file = (ns.userInfo[NSFilePathErrorKey] as? String).map { " (\($0))" } ?? ""
        if ns.domain == NSCocoaErrorDomain && ns.code == CocoaError.fileWriteOutOfSpace.rawValue {
            return "No space left on device" + file
        }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        return ns.localizedDescription
    }
}

/// A scratch folder removed when the value goes away.
final class TemporaryFolder {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}
