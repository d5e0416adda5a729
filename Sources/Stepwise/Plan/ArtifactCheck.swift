import Foundation

/// Which of a plan's stages are really cached: a row whose folder is missing or has the wrong
/// size (a hand-edited or deleted file, a truncated copy) does not count, is reported by stage
/// and path, and its row is dropped so the stage runs again. Nothing corrupt is read silently.
/// `verify` also re-hashes every folder against its recorded sha256 (`status --verify`).
public struct ArtifactCheck {
    public var valid: Set<String>
    public var problems: [String]

    /// Checks (and, with `repair`, un-indexes) the broken artifacts among the plan's stages.
    public static func run(store: Store, plan: Plan, verify: Bool = false, repair: Bool = true) throws -> ArtifactCheck {
        let wanted = Dictionary(plan.stages.map { ($0.key, $0.label) }, uniquingKeysWith: { a, _ in a })
        var valid = try store.allKeys()
        var problems: [String] = []
        var broken: [String] = []
        for s in try store.folderArtifacts() where wanted[s.key] != nil {
            let folder = store.artifactDirectory.appendingPathComponent(s.location!)
            let label = wanted[s.key]!
            var problem: String?
            if let size = ArtifactFiles.size(of: folder) {
                if size != s.size {
                    problem = "has \(size) bytes where \(s.size) were written (truncated or edited)"
                } else if verify, let recorded = s.sha256 {
                    let (_, digest) = try ArtifactFiles.hash(folder, what: label)
                    if digest != recorded { problem = "does not match its recorded sha256 (edited after it was written)" }
                }
            } else {
                problem = "is missing or unreadable"
            }
            if let problem {
                problems.append("\(label): artifact folder \(folder.path) \(problem); the stage will run again")
                broken.append(s.key)
                valid.remove(s.key)
            }
        }
        if repair && !broken.isEmpty { try store.delete(keys: broken) }
        return ArtifactCheck(valid: valid, problems: problems)
    }
}
