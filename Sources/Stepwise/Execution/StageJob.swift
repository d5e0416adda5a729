import Foundation

/// A stage as a self-contained job: its definition's params and settings, where its inputs
/// are, and where to put its output. What an executor runs, in this process or another one
/// (`stepwise exec-stage JOB.json`, the same on a cluster node).
public struct StageJob: Codable, Sendable {
    public var key: String
    public var label: String
    public var kind: StageKind
    /// The definition's params and settings, as `StageWork.encode` wrote them (JSON).
    public var payload: Data
    public var inputs: [JobInput]
    /// The scratch folder the stage writes its output into (on the artifact file system).
    public var output: String
    /// A speed knob only: results do not depend on it.
    public var threads: Int
    /// Where the store is, for stages that cache teacher requests in it (local executors only).
    public var store: String?
    /// Tests of resume and locking: each stage takes at least this long.
    public var minimumSeconds: Double

    public struct JobInput: Codable, Sendable {
        public var role: String
        public var location: ArtifactLocation
    }
}

/// What a finished job produced: a small payload, or files in its output folder.
public struct StageResult: Sendable {
    public var payload: Data?
    public var folder: URL
    public var seconds: Double
}

/// Runs one job's stage here: the one code path behind every executor.
public enum StageRunner {
    public static func run(_ job: StageJob, work: StageWork? = nil, status: @escaping (String) -> Void = { _ in }) throws -> StageResult {
        let start = Date()
        let work = try work ?? StageRegistry.work(kind: job.kind, payload: job.payload)
        let storeURL = job.store.map(URL.init(fileURLWithPath:))
        let inputs = StageInputs(label: job.label, artifacts: job.inputs.map { ($0.role, $0.location) }, threads: job.threads,
                                 status: status,
                                 teacherCache: storeURL.map { url in
                                     { model, api in StoreTeacherCache(store: try Store(url: url), model: model, api: api) }
                                 })
        let folder = URL(fileURLWithPath: job.output)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let output = StageOutput(folder: folder)
        try work.run(inputs, output)
        let elapsed = Date().timeIntervalSince(start)
        if elapsed < job.minimumSeconds { Thread.sleep(forTimeInterval: job.minimumSeconds - elapsed) }
        return StageResult(payload: output.payload, folder: folder, seconds: Date().timeIntervalSince(start))
    }
}
