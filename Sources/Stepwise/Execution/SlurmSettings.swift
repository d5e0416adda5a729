import Foundation

/// How `--executor slurm` asks for resources: from the spec's `executor:` section over the
/// user's config file (`executor:` in `$STEPWISE_CONFIG`, else `~/.config/stepwise/config.yaml`).
/// Settings only: none of this enters a key, and no artifact depends on it.
public struct SlurmSettings: Sendable, Equatable {
    public var partition: String?
    public var account: String?
    /// `--time` (Slurm's formats: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`).
    public var time = PerKind<String>()
    /// `--cpus-per-task`; also the job's thread count (`SLURM_CPUS_PER_TASK`). Default 1.
    public var cpus = PerKind<Int>()
    /// `--mem` (`4G`, `500M`).
    public var memory = PerKind<String>()
    /// More `sbatch` flags, passed as written (`--qos=low`, `--constraint=avx2`).
    public var sbatchFlags: [String] = []
    /// Shell lines run in the job before the stage (`module load openblas`); a failing line fails the job.
    public var setup: [String] = []
    /// At most this many Slurm jobs in flight (default: `--jobs`).
    public var maxJobs: Int?
    /// How often a job that ended in a transient state (preempted, node failure) is submitted again.
    public var maxRetries = 1
    /// Seconds between two `squeue` calls (one call covers every job in flight).
    public var pollInterval = 5.0

    public init() {}

    /// A value for every kind, or per kind (`memory: {train: 8G, evaluate: 2G}`); per kind wins.
    public struct PerKind<Value: Sendable & Equatable>: Sendable, Equatable {
        public var all: Value?
        public var byKind: [StageKind: Value] = [:]
        public init(all: Value? = nil, byKind: [StageKind: Value] = [:]) { self.all = all; self.byKind = byKind }
        public func value(for kind: StageKind) -> Value? { byKind[kind] ?? all }
        /// `other`'s values where it has them, else ours.
        func overlaid(with other: PerKind) -> PerKind {
            PerKind(all: other.all ?? all, byKind: byKind.merging(other.byKind) { $1 })
        }
    }

    /// The spec's settings over the config file's, field by field.
    public func overlaid(with spec: SlurmSettings, present: Set<String>) -> SlurmSettings {
        var s = self
        s.partition = spec.partition ?? partition
        s.account = spec.account ?? account
        s.time = time.overlaid(with: spec.time)
        s.cpus = cpus.overlaid(with: spec.cpus)
        s.memory = memory.overlaid(with: spec.memory)
        if present.contains("sbatch_flags") { s.sbatchFlags = spec.sbatchFlags }
        if present.contains("setup") { s.setup = spec.setup }
        s.maxJobs = spec.maxJobs ?? maxJobs
        if present.contains("max_retries") { s.maxRetries = spec.maxRetries }
        if present.contains("poll_interval") { s.pollInterval = spec.pollInterval }
        return s
    }

    /// The stage kinds that become Slurm jobs; the others (dataset, subsample, tokenizer,
    /// annotate, teacher_eval, report) are cheap or talk to the teacher, and run in the coordinator.
    public static let clusterKinds: Set<StageKind> = ["train", "evaluate"]

    /// The `sbatch` resource flags for one stage kind.
    func sbatchArguments(for kind: StageKind) -> [String] {
        var args: [String] = []
        if let partition { args.append("--partition=\(partition)") }
        if let account { args.append("--account=\(account)") }
        if let t = time.value(for: kind) { args.append("--time=\(t)") }
        args.append("--cpus-per-task=\(cpus.value(for: kind) ?? 1)")
        if let m = memory.value(for: kind) { args.append("--mem=\(m)") }
        return args + sbatchFlags
    }
}
