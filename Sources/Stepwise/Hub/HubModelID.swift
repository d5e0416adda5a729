import Foundation

/// A Hugging Face hub model, `org/name`, at a revision (a branch or tag name, or a commit hash).
public struct HubModelID: Hashable, Sendable, CustomStringConvertible {
    /// "org/name".
    public let repo: String
    /// A branch or tag name, or a commit hash; "main" unless the text names one.
    public let revision: String

    public init(repo: String, revision: String = "main") {
        self.repo = repo
        self.revision = revision
    }

    /// "org/name" or "org/name@revision". Nil for what looks like a path (starts with `/`, `.`
    /// or `~`, or has more than one `/` before the `@`) and for names the hub would not accept,
    /// so that a spec's `init:` can hold either a hub id or a folder. A bare "name" (the hub's
    /// legacy un-namespaced models) is nil too: it cannot be told from a relative folder.
    public static func parse(_ text: String) -> HubModelID? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard let first = t.first, !"/.~".contains(first) else { return nil }
        var repo = t
        var revision = "main"
        if let at = t.firstIndex(of: "@") {
            repo = String(t[..<at])
            revision = String(t[t.index(after: at)...])
            guard isValidRevision(revision) else { return nil }
        }
        let parts = repo.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ isValidNamePart(String($0)) }), repo.utf8.count <= 96 else { return nil }
        return HubModelID(repo: repo, revision: revision)
    }

    /// huggingface_hub's rule for each half of a repo id: letters, digits, `-`, `_`, `.`, not
    /// starting or ending with `-` or `.`, and no `--` or `..` (they would make cache folder
    /// names ambiguous).
    static func isValidNamePart(_ s: String) -> Bool {
        guard !s.isEmpty, !s.contains("--"), !s.contains("..") else { return false }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        guard s.unicodeScalars.allSatisfy({ $0.isASCII && allowed.contains($0) }) else { return false }
        return !"-.".contains(s.first!) && !"-.".contains(s.last!)
    }

    /// A revision is a git ref name or a commit: non-empty, no whitespace, no `..`, and not a
    /// path that could climb out of the cache's `refs/` folder.
    static func isValidRevision(_ s: String) -> Bool {
        !s.isEmpty && !s.contains("..") && !s.hasPrefix("/") && !s.hasSuffix("/")
            && !s.unicodeScalars.contains { CharacterSet.whitespacesAndNewlines.contains($0) || $0 == "\\" }
    }

    /// Whether the revision is a full commit hash (40 lower-case hex digits), as the hub's are.
    public var revisionIsCommit: Bool { Self.isCommitHash(revision) }

    static func isCommitHash(_ s: String) -> Bool {
        s.utf8.count == 40 && s.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    public var description: String { revision == "main" ? repo : "\(repo)@\(revision)" }

    /// The cache's folder for this repository: `models--org--name`.
    public var cacheFolderName: String { "models--" + repo.replacingOccurrences(of: "/", with: "--") }
}
