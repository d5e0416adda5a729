import Foundation

/// Pretrained students' hub ids, found through `Sources/Stepwise/Hub` (the local Hugging Face
/// cache, downloading into it when allowed).
enum HubCheckpoints {
    struct Snapshot: Sendable {
        var folder: URL
        var commit: String
    }

    static func cached(_ id: String, environment: [String: String]) throws -> Snapshot {
        throw StepwiseError("hub id `\(id)`: hub resolution is not built in yet; give the checkpoint's folder")
    }

    static func resolve(_ id: String, offline: Bool, environment: [String: String],
                        progress: @escaping @Sendable (String) -> Void) async throws -> Snapshot {
        try cached(id, environment: environment)
    }
}
