import Foundation

/// A model's files on disk: a snapshot folder of the Hugging Face cache.
public struct HubSnapshot: Sendable, Equatable {
    /// `…/models--org--name/snapshots/<commit>/`.
    public let folder: URL
    /// The 40-hex commit the snapshot is of: the checkpoint's identity.
    public let commit: String

    public init(folder: URL, commit: String) {
        self.folder = folder
        self.commit = commit
    }
}

/// Hub model id → local snapshot folder, from the Hugging Face cache or by downloading into it.
public enum HubResolver {
    /// Finds the snapshot in the local cache; when absent, downloads it unless offline.
    /// `offline` = the CLI's --offline OR HF_HUB_OFFLINE=1 in `environment`.
    public static func resolve(_ id: HubModelID, offline: Bool,
                               environment: [String: String] = ProcessInfo.processInfo.environment,
                               progress: (@Sendable (String) -> Void)? = nil) async throws -> HubSnapshot {
        let location = HubCacheLocation(environment: environment)
        switch HubCacheLookup(location: location, id: id).run() {
        case .found(let snapshot):
            return snapshot
        case .missing(let looked):
            if offline || HubModelID.offline(in: environment) {
                throw notCachedError(id, location: location, looked: looked)
            }
            return try await HubDownload(id: id, location: location, environment: environment, progress: progress).run()
        }
    }

    /// Cache lookup only (no network): nil when not cached.
    public static func cached(_ id: HubModelID,
                              environment: [String: String] = ProcessInfo.processInfo.environment) -> HubSnapshot? {
        if case .found(let s) = HubCacheLookup(location: HubCacheLocation(environment: environment), id: id).run() { return s }
        return nil
    }

    static func notCachedError(_ id: HubModelID, location: HubCacheLocation, looked: [String]) -> StepwiseError {
        let fetch = "huggingface-cli download \(id.repo)" + (id.revision == "main" ? "" : " --revision \(id.revision)")
        return StepwiseError("""
            \(id) is not in the Hugging Face cache and downloading is off (--offline or HF_HUB_OFFLINE). \
            Cache: \(location.root.path) (from \(location.source)). Looked at:
            \(looked.map { "  " + $0 }.joined(separator: "\n"))
            Fetch it with: \(fetch)   (or `stepwise fetch \(id)` without --offline)
            """)
    }
}
