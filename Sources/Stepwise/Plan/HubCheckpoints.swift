import Foundation

/// Pretrained students' hub ids, through `Sources/Stepwise/Hub`: the local Hugging Face cache,
/// downloading into it when allowed.
enum HubCheckpoints {
    static func model(_ id: String) throws -> HubModelID {
        guard let model = HubModelID.parse(id) else { throw StepwiseError("`\(id)` is not a hub id (org/name[@revision])") }
        return model
    }

    /// The snapshot in the local cache; when it is not there, the error says where it looked
    /// and how to fetch it.
    static func cached(_ id: String, environment: [String: String]) throws -> HubSnapshot {
        let model = try model(id)
        let location = HubCacheLocation(environment: environment)
        switch HubCacheLookup(location: location, id: model).run() {
        case .found(let snapshot): return snapshot
        case .missing(let looked): throw HubResolver.notCachedError(model, location: location, looked: looked)
        }
    }

    static func resolve(_ id: String, offline: Bool, environment: [String: String],
                        progress: @escaping @Sendable (String) -> Void) async throws -> HubSnapshot {
        try await HubResolver.resolve(try model(id), offline: offline, environment: environment, progress: progress)
    }
}
