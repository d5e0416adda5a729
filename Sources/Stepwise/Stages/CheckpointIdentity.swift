import Foundation

/// What a pretrained checkpoint contributes to a train key: its content, never its path, so a
/// folder moved or a cache relocated keeps every key.
///
/// `content` is the sha256 of, for each file in name order, its name and its own identity: the
/// sha256 of its bytes — or, for a file of a Hugging Face cache snapshot (a symlink into the
/// repository's `blobs/`), the blob's name, which is the hub's own hash of the file (sha256 for
/// LFS files, the git blob id for small ones), so a cached gigabyte need not be read. `commit`
/// is the snapshot's revision for a hub id (nil for a folder).
public struct CheckpointIdentity: Codable, Hashable, Sendable {
    public var commit: String?
    public var content: String

    public init(commit: String?, content: String) {
        self.commit = commit
        self.content = content
    }

    /// The identity of `files` (config, weights, tokenizer files of one folder).
    public static func of(files: [URL], commit: String?) throws -> CheckpointIdentity {
        var lines: [String] = []
        for url in files.sorted(by: { $0.lastPathComponent < $1.lastPathComponent }) {
            let id = try hubBlobName(url).map { "blob:\($0)" } ?? "sha256:\(FileFingerprints.sha256(of: url))"
            lines.append("\(url.lastPathComponent)\t\(id)")
        }
        return CheckpointIdentity(commit: commit, content: Hashing.sha256Hex(lines.joined(separator: "\n")))
    }

    /// The blob a hub cache snapshot's file links to (`…/snapshots/<rev>/f` → `…/blobs/<hash>`).
    static func hubBlobName(_ url: URL) -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: url.path) else { return nil }
        let resolved = URL(fileURLWithPath: target, relativeTo: url.deletingLastPathComponent()).standardizedFileURL
        guard resolved.deletingLastPathComponent().lastPathComponent == "blobs",
              FileManager.default.fileExists(atPath: resolved.path) else { return nil }
        return resolved.lastPathComponent
    }

    /// Checks, before a stage reads the files, that they still have the identity its key says.
    func verify(files: [URL], stage: String) throws {
        let now = try CheckpointIdentity.of(files: files, commit: commit)
        guard now == self else {
            let folder = files.first?.deletingLastPathComponent().path ?? "?"
            throw StepwiseError("\(stage): the checkpoint files in \(folder) changed since the run was planned; run again to plan with the new content")
        }
    }
}
