import ArgumentParser
import Foundation
import Stepwise

/// `stepwise bench store`: one artifact larger than SQLite's BLOB limit (10^9 bytes by default)
/// through the store's folder path — written in chunks, committed (fsync, hash, rename, row),
/// read back by streaming its hash, and collected — with the process's peak memory, which must
/// stay far below the artifact's size (no second copy in memory). The artifact is deleted after.
struct BenchStoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Benchmark a > 1 GB artifact through put / read / gc (wall time per phase, peak memory).")

    @Option(help: "Artifact size in GiB.") var gigabytes = 1.2
    @Option(help: "Where to create the scratch store (default: a temporary folder).") var directory: String?
    @Flag(help: "Print one JSON line.") var json = false

    func run() throws {
        let base = URL(fileURLWithPath: directory ?? NSTemporaryDirectory()).appendingPathComponent("stepwise-bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: base) }
        let store = try Store(url: base.appendingPathComponent("store.sqlite"))
        let key = String(repeating: "ab", count: 32)
        let bytes = Int(gigabytes * 1_073_741_824)

        var t = Date()
        let scratch = try ArtifactFiles.scratchFolder(in: store.artifactDirectory, key: key)
        let file = scratch.appendingPathComponent("model.safetensors")
        FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = try FileHandle(forWritingTo: file)
        var chunk = Data(count: 8 << 20)
        chunk.withUnsafeMutableBytes { p in for i in stride(from: 0, to: p.count, by: 4096) { p[i] = UInt8(i >> 12 & 0xff) } }
        var written = 0
        while written < bytes {
            let n = min(chunk.count, bytes - written)
            try handle.write(contentsOf: n == chunk.count ? chunk : chunk.prefix(n))
            written += n
        }
        try handle.close()
        let writeSeconds = Date().timeIntervalSince(t)

        t = Date()
        let (rel, size, digest) = try ArtifactFiles.commit(scratch, key: key, into: store.artifactDirectory, label: "bench")
        try store.put(ArtifactRecord(key: key, kind: "bench", label: "bench", params: .null, inputs: [:], payload: Data(),
                                     location: rel, size: size, sha256: digest, duration: 0), runID: nil)
        let putSeconds = Date().timeIntervalSince(t)

        t = Date()
        guard case .folder(let folder)? = try store.location(key) else { throw StepwiseError("artifact not indexed as a folder") }
        let (readSize, readDigest) = try ArtifactFiles.hash(folder, what: "bench")
        guard readSize == size, readDigest == digest else { throw StepwiseError("read back a different artifact") }
        let readSeconds = Date().timeIntervalSince(t)

        t = Date()
        let freed = try store.delete(keys: [key])
        let gcSeconds = Date().timeIntervalSince(t)
        guard !FileManager.default.fileExists(atPath: folder.path) else { throw StepwiseError("gc left the folder") }

        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let peakMiB = Double(usage.ru_maxrss) / 1024
        if json {
            print(String(format: #"{"bytes":%d,"write_s":%.2f,"put_s":%.2f,"read_s":%.2f,"gc_s":%.2f,"freed":%d,"peak_rss_mib":%.1f}"#,
                         size, writeSeconds, putSeconds, readSeconds, gcSeconds, freed, peakMiB))
        } else {
            print(String(format: "artifact %.2f GiB: write %.2f s, put (fsync + hash + rename + row) %.2f s, read (streamed hash) %.2f s, gc %.2f s; peak RSS %.1f MiB",
                         Double(size) / 1_073_741_824, writeSeconds, putSeconds, readSeconds, gcSeconds, peakMiB))
        }
    }
}
