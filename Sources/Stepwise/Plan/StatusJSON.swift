import Foundation

/// `stepwise status --json`: a stable interface for scripts (fields documented in
/// docs/json-interfaces.md; a test holds the two equal). Fields are only ever added, with
/// `format_version` raised when one changes meaning.
public struct StatusJSON: Codable, Equatable {
    public static let formatVersion = 1

    public struct Counts: Codable, Equatable {
        public var total: Int
        public var cached: Int
        public var toRun: Int
        enum CodingKeys: String, CodingKey { case total, cached, toRun = "to_run" }
    }
    public struct KindCounts: Codable, Equatable {
        public var kind: String
        public var total: Int
        public var cached: Int
        public var toRun: Int
        enum CodingKeys: String, CodingKey { case kind, total, cached, toRun = "to_run" }
    }
    public struct Failure: Codable, Equatable {
        public var key: String
        public var label: String
        public var error: String
        public init(key: String, label: String, error: String) { self.key = key; self.label = label; self.error = error }
    }
    public struct SlurmJob: Codable, Equatable {
        public var key: String
        public var label: String
        public var jobID: String?
        public var state: String
        public var elapsed: String?
        public var node: String?
        public var attempt: Int
        enum CodingKeys: String, CodingKey { case key, label, jobID = "job_id", state, elapsed, node, attempt }
    }
    public struct LastRun: Codable, Equatable {
        public var id: Int64
        public var status: String
        /// ISO 8601, UTC.
        public var started: String
        public var finished: String?
    }

    public var formatVersion = StatusJSON.formatVersion
    public var experiment: String
    public var store: String
    public var storeExists: Bool
    public var stages: Counts
    public var kinds: [KindCounts]
    /// Broken artifact folders found (status never repairs them).
    public var problems: [String]
    public var failures: [Failure]
    public var slurmJobs: [SlurmJob]
    public var lastRun: LastRun?

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", experiment, store, storeExists = "store_exists", stages, kinds, problems, failures
        case slurmJobs = "slurm_jobs", lastRun = "last_run"
    }

    public init(status: PlanStatus, store: String, storeExists: Bool, problems: [String], failures: [Failure],
                slurmJobs: [SlurmJobsView.Line], lastRun: Store.RunSummary?) {
        let plan = status.plan
        experiment = plan.experiment.name
        self.store = store
        self.storeExists = storeExists
        let cached = status.states.filter { $0 == .cached }.count
        stages = Counts(total: plan.stages.count, cached: cached, toRun: plan.stages.count - cached)
        kinds = StageKind.allCases.compactMap { kind in
            let idx = plan.stages.indices.filter { plan.stages[$0].kind == kind }
            guard !idx.isEmpty else { return nil }
            let c = idx.filter { status.states[$0] == .cached }.count
            return KindCounts(kind: kind.rawValue, total: idx.count, cached: c, toRun: idx.count - c)
        }
        self.problems = problems
        self.failures = failures
        self.slurmJobs = slurmJobs.map { SlurmJob(key: $0.job.key, label: $0.label, jobID: $0.job.jobID, state: $0.job.state,
                                                  elapsed: $0.job.elapsed, node: $0.job.node, attempt: $0.job.attempt) }
        let iso = ISO8601DateFormatter()
        self.lastRun = lastRun.map { LastRun(id: $0.id, status: $0.status, started: iso.string(from: $0.started),
                                             finished: $0.finished.map(iso.string(from:))) }
    }

    /// Sorted keys; absent values are written as `null` (every documented field is always there).
    public var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(self)) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(formatVersion, forKey: .formatVersion)
        try c.encode(experiment, forKey: .experiment)
        try c.encode(store, forKey: .store)
        try c.encode(storeExists, forKey: .storeExists)
        try c.encode(stages, forKey: .stages)
        try c.encode(kinds, forKey: .kinds)
        try c.encode(problems, forKey: .problems)
        try c.encode(failures, forKey: .failures)
        try c.encode(slurmJobs, forKey: .slurmJobs)
        try c.encode(lastRun, forKey: .lastRun)   // null when the store has no run of this spec
    }
}

extension StatusJSON.SlurmJob {
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(key, forKey: .key); try c.encode(label, forKey: .label); try c.encode(jobID, forKey: .jobID)
        try c.encode(state, forKey: .state); try c.encode(elapsed, forKey: .elapsed); try c.encode(node, forKey: .node)
        try c.encode(attempt, forKey: .attempt)
    }
}

extension StatusJSON.LastRun {
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id); try c.encode(status, forKey: .status); try c.encode(started, forKey: .started)
        try c.encode(finished, forKey: .finished)
    }
}
