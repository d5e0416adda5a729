import Foundation

/// Downloads what a T5 student needs of a model (`HubStudentFiles`) into the Hugging Face
/// cache: the revision's commit and file list from the hub's API, then each file
/// (`HubFileFetch`) and the shards a sharded index names into `blobs/`; only then the snapshot's
/// links and `refs/<revision>` — so a download that fails half way adds nothing to
/// `snapshots/` and leaves its blobs and partial files to be resumed.
struct HubDownload {
    let id: HubModelID
    let location: HubCacheLocation
    let environment: [String: String]
    let progress: (@Sendable (String) -> Void)?

    func run() async throws -> HubSnapshot {
        let client = HubHTTPClient(endpoint: try HubEndpoint(environment: environment), environment: environment)
        defer { client.shutdown() }
        let info = try await HubModelInfo.fetch(id, client: client, note: progress)
        let choice = try HubStudentFiles.choose(from: info.files, repo: "\(id) (commit \(info.commit))")
        let cache = HubCacheWriter(location: location, id: id)
        var blobs: [(file: String, etag: String)] = []
        func fetch(_ file: String) async throws {
            let etag = try await HubFileFetch(id: id, commit: info.commit, file: file, client: client, cache: cache, progress: progress).run()
            blobs.append((file, etag))
        }
        progress?("\(id): commit \(info.commit), fetching \(choice.files.joined(separator: ", "))")
        for file in choice.files { try await fetch(file) }
        if let index = choice.weightIndex, let etag = blobs.first(where: { $0.file == index })?.etag {
            let shards = try HubStudentFiles.shards(inIndex: try Data(contentsOf: cache.blob(etag)), source: "\(id): \(index)")
            let absent = shards.filter { !info.files.contains($0) }
            guard absent.isEmpty else {
                throw StepwiseError("\(id): \(index) names shards the repository does not have: \(absent.joined(separator: ", "))")
            }
            for shard in shards { try await fetch(shard) }
        }
        for b in blobs { try cache.link(file: b.file, commit: info.commit, etag: b.etag) }
        if !id.revisionIsCommit { try cache.writeRef(id.revision, commit: info.commit) }
        let snapshot = HubSnapshot(folder: cache.snapshotFolder(info.commit), commit: info.commit)
        if let gap = HubCacheLookup.missingStudentFiles(in: snapshot.folder) {
            throw StepwiseError("\(id): downloaded into \(snapshot.folder.path), but the snapshot is \(gap)")
        }
        return snapshot
    }
}
