import Foundation

/// Finding a model's snapshot in the local Hugging Face cache, as transformers does offline:
/// `refs/<revision>` holds the commit a branch or tag name points to; a full commit hash names
/// its snapshot directly; `snapshots/<commit>/` holds the files (symlinks into `blobs/`).
///
/// A snapshot counts as cached only when it has everything a T5 student needs
/// (`HubStudentFiles`) and every file's blob is really there: a snapshot fetched partly (say,
/// `config.json` alone) is not a model, and would fail later, further from the cause.
struct HubCacheLookup {
    let location: HubCacheLocation
    let id: HubModelID

    enum Outcome {
        case found(HubSnapshot)
        /// `looked`: each place examined and what was (not) there, in order.
        case missing(looked: [String])
    }

    func run() -> Outcome {
        let fm = FileManager.default
        let repoFolder = location.repoFolder(id)
        var looked: [String] = []
        let refFile = repoFolder.appendingPathComponent("refs").appendingPathComponent(id.revision)
        var commit: String?
        if let text = try? String(contentsOf: refFile, encoding: .utf8) {
            let c = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if HubModelID.isCommitHash(c) {
                commit = c
                looked.append("\(refFile.path) (says \(c))")
            } else {
                looked.append("\(refFile.path) (does not hold a commit hash)")
            }
        } else {
            looked.append("\(refFile.path) (\(fm.fileExists(atPath: repoFolder.path) ? "absent" : "absent: no \(repoFolder.lastPathComponent) folder"))")
            if id.revisionIsCommit { commit = id.revision }
        }
        guard let commit else { return .missing(looked: looked) }
        let folder = repoFolder.appendingPathComponent("snapshots").appendingPathComponent(commit, isDirectory: true)
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            looked.append("\(folder.path) (absent)")
            return .missing(looked: looked)
        }
        if let gap = Self.missingStudentFiles(in: folder) {
            looked.append("\(folder.path) (incomplete: \(gap))")
            return .missing(looked: looked)
        }
        return .found(HubSnapshot(folder: folder, commit: commit))
    }

    /// What `folder` lacks for a T5 student, or nil when it has it all.
    static func missingStudentFiles(in folder: URL) -> String? {
        let present = presentFiles(in: folder)
        do {
            let choice = try HubStudentFiles.choose(from: present, repo: "the snapshot")
            if let index = choice.weightIndex {
                let url = folder.appendingPathComponent(index)
                let shards = try HubStudentFiles.shards(inIndex: try Data(contentsOf: url), source: url.path)
                let absent = shards.filter { !present.contains($0) }
                if !absent.isEmpty { return "missing shards \(absent.joined(separator: ", "))" }
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Relative names of the files under `folder` whose contents exist (a symlink to a missing
    /// blob does not count).
    static func presentFiles(in folder: URL) -> Set<String> {
        let fm = FileManager.default
        var names = Set<String>()
        func walk(_ dir: URL, _ prefix: String) {
            guard let entries = try? fm.contentsOfDirectory(atPath: dir.path) else { return }
            for e in entries {
                let url = dir.appendingPathComponent(e)
                var isDirectory: ObjCBool = false
                guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue { walk(url, prefix + e + "/") } else { names.insert(prefix + e) }
            }
        }
        walk(folder, "")
        return names
    }
}
