import Foundation

/// Runs train and evaluate stages as Slurm jobs (`--executor slurm`), one `sbatch --parsable`
/// job per stage running `stepwise exec-stage JOB.json` (the same binary); the cheaper kinds run
/// in the coordinator's process. The job folder (under the store's `artifacts/jobs/`, which must
/// be on a file system the nodes share) holds the job file, a batch script, the job's log and
/// its result marker. The coordinator records every submission in the store's `jobs` table
/// before `sbatch` runs, so a coordinator killed at any point is followed by one that
/// re-attaches (`adopt`) instead of training a stage twice.
///
/// Tracking, per job: its result marker (checked every quarter second: a stage's end is noticed
/// at once), then one `squeue` call for all jobs every `pollInterval` seconds, then `sacct`
/// for a job the queue has forgotten. A job that ended without a result is reported with its
/// Slurm state and the tail of its log; preempted and node-failed jobs are submitted again up
/// to `maxRetries` times.
public final class SlurmExecutor: Executor, @unchecked Sendable {
    public let name = "slurm"
    public let slots: Int
    public var status: (@Sendable (String, String) -> Void)? {
        didSet { local.status = status }
    }
    let settings: SlurmSettings
    let binary: URL
    let store: Store
    let runID: Int64
    let commands: SlurmCommands
    private let local: InProcessExecutor
    private let submitQueue = DispatchQueue(label: "stepwise.slurm.submit")
    private let lock = NSLock()
    private var tracked: [Tracked] = []
    private var stopped = false
    private var leaveRunning = false
    private var recorded: [String: JobRecord]?
    private var nextQueueCall = Date.distantPast
    private var controllerDownSince: Date?

    /// One job this run is waiting for.
    final class Tracked {
        let job: StageJob
        let dir: URL
        var row: Int64
        var jobID: String?
        var attempt: Int
        /// What the queue said last (state, elapsed time, node).
        var seen: SlurmCommands.JobState
        /// When the job was first seen in a terminal state without a result marker.
        var endedAt: Date?
        var lastStatus: String?
        let onFinish: @Sendable (Result<StageResult, Error>) -> Void

        init(job: StageJob, dir: URL, row: Int64, jobID: String?, attempt: Int, state: String,
             onFinish: @escaping @Sendable (Result<StageResult, Error>) -> Void) {
            self.job = job; self.dir = dir; self.row = row; self.jobID = jobID; self.attempt = attempt
            seen = SlurmCommands.JobState(id: jobID ?? "", state: state)
            self.onFinish = onFinish
        }
    }

    /// Checks that Slurm answers and that the nodes can see the artifact directory.
    public init(slots: Int, settings: SlurmSettings, binary: URL, store: Store, runID: Int64,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.slots = max(1, settings.maxJobs ?? slots)
        self.settings = settings
        self.binary = binary
        self.store = store
        self.runID = runID
        commands = SlurmCommands(environment: environment)
        local = InProcessExecutor(slots: slots)
        let nodes: [String]
        do { nodes = try commands.nodes() } catch {
            throw StepwiseError("--executor slurm: Slurm does not answer (\(error)); is this a login node of the cluster?")
        }
        try Self.checkShared(store.artifactDirectory, nodes: nodes.count, what: "the artifact directory")
        try Self.checkShared(binary.deletingLastPathComponent(), nodes: nodes.count, what: "the stepwise binary")
        Thread.detachNewThread { [weak self] in self?.pollLoop() }
    }

    /// Jobs on other nodes read their inputs and write their outputs under the artifact
    /// directory: with more than one node it must not be on a node-local file system. (A job
    /// that completes but whose result marker never shows up here is reported as the same
    /// problem: see `fail`.)
    static func checkShared(_ dir: URL, nodes: Int, what: String) throws {
        guard nodes > 1 else { return }
        let path = dir.resolvingSymlinksInPath().path
        let localRoots = ["/tmp", "/var/tmp", "/dev/shm", "/run"]
        let tmpfs = fileSystemType(of: path) == "tmpfs"
        if tmpfs || localRoots.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) {
            throw StepwiseError("--executor slurm: \(what) (\(path)) is on a node-local file system, but the cluster has \(nodes) nodes: jobs on other nodes could not run the stage, read its inputs or leave its result. Put the project, its store and the binary on a file system the nodes share.")
        }
    }

    /// The type of the file system holding `path` (the longest mount point above it in /proc/self/mounts).
    static func fileSystemType(of path: String) -> String? {
        guard let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return nil }
        var best: (point: String, type: String)?
        for line in mounts.split(separator: "\n") {
            let f = line.split(separator: " ").map(String.init)
            guard f.count > 2 else { continue }
            let point = f[1].replacingOccurrences(of: "\\040", with: " ")
            let inside = point == "/" || path == point || path.hasPrefix(point + "/")
            if inside, point.count >= (best?.point.count ?? -1) { best = (point, f[2]) }
        }
        return best?.type
    }

    // MARK: Executor

    public func submit(_ job: StageJob, work: StageWork, onFinish: @escaping @Sendable (Result<StageResult, Error>) -> Void) {
        guard SlurmSettings.clusterKinds.contains(job.kind) else {
            local.submit(job, work: work, onFinish: onFinish)
            return
        }
        var clusterJob = job
        clusterJob.store = nil  // nodes never open the SQLite index (unsafe over NFS)
        let job = clusterJob
        let dir = URL(fileURLWithPath: job.output).deletingLastPathComponent()
        submitQueue.async { [self] in
            do {
                _ = try JobFolder.write(job, into: dir)
                try writeScript(in: dir)
            } catch {
                onFinish(.failure(error))
                return
            }
            sbatch(job, dir: dir, attempt: 1, onFinish: onFinish)
        }
    }

    public func adopt(_ job: StageJob, onFinish: @escaping @Sendable (Result<StageResult, Error>) -> Void) -> Bool {
        guard SlurmSettings.clusterKinds.contains(job.kind), let record = recordedJobs()[job.key] else { return false }
        let dir = URL(fileURLWithPath: record.jobDir)
        var job = job
        job.output = dir.appendingPathComponent("output").path
        var state = record.state
        var jobID = record.jobID
        if JobFolder.marker(in: dir)?.ok == true {
            state = "COMPLETED"  // finished while no coordinator watched: collected at the next tick
        } else if jobID == nil, record.state == Self.submitting {
            // Killed between recording the submission and learning its id: find it by name.
            let found = try? commands.find(name: record.name)
            jobID = found?.id
            state = found?.state ?? "GONE"
        } else if let id = jobID, Self.openStates.contains(record.state) {
            state = queueSnapshot[id]?.state ?? "GONE"
        }
        let alive = state == "COMPLETED" ? JobFolder.marker(in: dir) != nil
                                         : jobID != nil && !SlurmCommands.terminalStates.contains(state) && state != "GONE"
        guard alive else {
            if Self.openStates.contains(record.state) || record.state == Self.submitting {
                try? store.updateJob(record.id, state: "LOST", message: "ended without a result (\(state)); submitted again")
            }
            return false
        }
        try? store.updateJob(record.id, jobID: jobID, state: state, runID: runID)
        let t = Tracked(job: job, dir: dir, row: record.id, jobID: jobID, attempt: record.attempt, state: state, onFinish: onFinish)
        lock.withLock { tracked.append(t) }
        status?(job.key, "re-attached to Slurm job \(jobID ?? "?") (\(state))")
        return true
    }

    /// Ctrl-C: cancels (`scancel`) the Slurm jobs this run tracks, unless `leaveJobsRunning`
    /// was called first; then reports each as failed so the scheduler can return.
    public func cancelAll() {
        local.cancelAll()
        let (jobs, leave) = lock.withLock { () -> ([Tracked], Bool) in
            stopped = true
            defer { tracked = [] }
            return (tracked, leaveRunning)
        }
        let ids = jobs.compactMap(\.jobID)
        if !leave {
            do { try commands.cancel(ids) } catch { status?(jobs.first?.job.key ?? "", "\(error)") }
        }
        for t in jobs {
            let id = t.jobID ?? "?"
            if !leave { try? store.updateJob(t.row, state: "CANCELLED", message: "cancelled by Ctrl-C of its coordinator") }
            t.onFinish(.failure(StepwiseError(leave ? "left running as Slurm job \(id); `stepwise run` again re-attaches to it"
                                                    : "cancelled Slurm job \(id)")))
        }
    }

    /// After this, `cancelAll` leaves the jobs running in Slurm (the user said so on Ctrl-C).
    public func leaveJobsRunning() { lock.withLock { leaveRunning = true } }

    /// How many Slurm jobs this run is waiting for.
    public var jobsInFlight: Int { lock.withLock { tracked.count } }

    // MARK: Submitting

    static let submitting = "SUBMITTING"
    /// Recorded states after which a job may still be queued or running.
    static let openStates: Set<String> = ["PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED",
                                          "REQUEUE_HOLD", "RESIZING", "STAGE_OUT", "SIGNALING", "UNKNOWN"]

    /// The batch script: the spec's setup lines, then the stage, with this very binary.
    private func writeScript(in dir: URL) throws {
        func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let text = """
            #!/bin/sh
            # One stage of a stepwise run (--executor slurm). The coordinator collects result.json.
            set -e
            \(settings.setup.joined(separator: "\n"))
            exec \(quote(binary.path)) exec-stage \(quote(dir.appendingPathComponent("job.json").path))

            """
        try ArtifactFiles.write(Data(text.utf8), to: dir.appendingPathComponent("job.sh"), label: "job script")
    }

    /// Records the submission, runs `sbatch` (again while the controller does not answer, for up
    /// to two minutes) and starts tracking the job. Runs on `submitQueue`.
    private func sbatch(_ job: StageJob, dir: URL, attempt: Int, onFinish: @escaping @Sendable (Result<StageResult, Error>) -> Void) {
        if lock.withLock({ stopped }) {
            onFinish(.failure(StepwiseError("cancelled before it was submitted")))
            return
        }
        let name = "stepwise-\(job.key.prefix(12))-\(UUID().uuidString.prefix(6).lowercased())"
        var row: Int64 = 0
        do {
            row = try store.insertJob(JobRecord(key: job.key, label: job.label, executor: self.name, name: name, jobDir: dir.path,
                                                state: Self.submitting, attempt: attempt, runID: runID))
            let id = try submitRetrying(job, dir: dir, name: name)
            try store.updateJob(row, jobID: id, state: "PENDING")
            let t = Tracked(job: job, dir: dir, row: row, jobID: id, attempt: attempt, state: "PENDING", onFinish: onFinish)
            let cancelNow = lock.withLock { () -> Bool in
                if stopped { return !leaveRunning }
                tracked.append(t)
                return false
            }
            if cancelNow {
                try? commands.cancel([id])
                try? store.updateJob(row, state: "CANCELLED")
                onFinish(.failure(StepwiseError("cancelled Slurm job \(id)")))
                return
            }
            status?(job.key, "Slurm job \(id) submitted" + (attempt > 1 ? " (attempt \(attempt))" : ""))
        } catch {
            if row != 0 { try? store.updateJob(row, state: "SUBMIT_FAILED", message: "\(error)") }
            onFinish(.failure(error))
        }
    }

    private func submitRetrying(_ job: StageJob, dir: URL, name: String) throws -> String {
        let deadline = Date().addingTimeInterval(120)
        while true {
            do {
                return try commands.submit(script: dir.appendingPathComponent("job.sh"), name: name,
                                           log: dir.appendingPathComponent(JobFolder.logName),
                                           arguments: settings.sbatchArguments(for: job.kind))
            } catch let error as SlurmCommands.SubmitError where error.transient && Date() < deadline && !lock.withLock({ stopped }) {
                status?(job.key, "\(error); trying again")
                Thread.sleep(forTimeInterval: 2)
            }
        }
    }

    // MARK: Tracking

    private func pollLoop() {
        while true {
            Thread.sleep(forTimeInterval: 0.25)
            let jobs = lock.withLock { tracked }
            if jobs.isEmpty { continue }
            for t in jobs {
                if let marker = JobFolder.marker(in: t.dir) { collect(t, marker) }
            }
            guard Date() >= nextQueueCall else { continue }
            let open = lock.withLock { tracked.filter { $0.jobID != nil } }
            guard !open.isEmpty else { continue }
            nextQueueCall = Date().addingTimeInterval(settings.pollInterval)
            let states: [String: SlurmCommands.JobState]
            do {
                states = try commands.queue(open.compactMap(\.jobID))
                if controllerDownSince != nil {
                    controllerDownSince = nil
                    status?(open[0].job.key, "Slurm answers again")
                }
            } catch {
                // A restarting controller: the jobs go on running, and their markers are still read.
                if controllerDownSince == nil {
                    controllerDownSince = Date()
                    status?(open[0].job.key, "\(error); jobs keep running, asking again every \(settings.pollInterval) s")
                }
                continue
            }
            for t in open {
                guard let id = t.jobID else { continue }
                let s = states[id] ?? commands.accounting(id) ?? SlurmCommands.JobState(id: id, state: "GONE")
                update(t, s)
            }
        }
    }

    /// Records what changed, shows the stage's latest progress line, and fails a job that ended
    /// without a result (after a grace period: the marker may reach this node's view of a
    /// network file system a little after the job ends).
    private func update(_ t: Tracked, _ s: SlurmCommands.JobState) {
        if s.state != t.seen.state || s.node != t.seen.node || s.elapsed != t.seen.elapsed {
            t.seen = SlurmCommands.JobState(id: s.id, state: s.state, elapsed: s.elapsed ?? t.seen.elapsed, node: s.node ?? t.seen.node,
                                            reason: s.reason)
            try? store.updateJob(t.row, state: s.state, node: s.node, elapsed: s.elapsed)
        }
        if let line = JobFolder.lastStatusLine(t.dir), line != t.lastStatus {
            t.lastStatus = line
            status?(t.job.key, line)
        }
        guard SlurmCommands.terminalStates.contains(s.state) || s.state == "GONE" else { return }
        let grace: TimeInterval = s.state == "COMPLETED" ? 30 : 2
        guard let ended = t.endedAt else { t.endedAt = Date(); return }
        if Date().timeIntervalSince(ended) >= grace { fail(t, s) }
    }

    private func collect(_ t: Tracked, _ marker: JobFolder.Marker) {
        let result = Result { try JobFolder.collect(t.job, marker: marker) }
        switch result {
        case .success:
            let s = Int(marker.seconds.rounded())
            try? store.updateJob(t.row, state: "COMPLETED", node: marker.node ?? t.seen.node, elapsed: String(format: "%d:%02d", s / 60, s % 60))
        case .failure(let error):
            try? store.updateJob(t.row, state: "FAILED", node: marker.node ?? t.seen.node, message: "\(error)")
        }
        finish(t) { result.mapError { error in StepwiseError("Slurm job \(t.jobID ?? "?"): \(error)") } }
    }

    private func fail(_ t: Tracked, _ s: SlurmCommands.JobState) {
        let id = t.jobID ?? "?"
        var what = "Slurm job \(id) \(s.state)"
        if let reason = s.reason { what += " (\(reason))" }
        if let node = t.seen.node { what += " on \(node)" }
        if let elapsed = t.seen.elapsed { what += " after \(elapsed)" }
        if s.state == "COMPLETED" {
            what += ", but its result marker \(t.dir.appendingPathComponent(JobFolder.resultName).path) never appeared here: the artifact directory must be on a file system the nodes share"
        } else if s.state == "GONE" {
            what += ": Slurm no longer knows the job and left no accounting record"
        }
        if SlurmCommands.transientStates.contains(s.state) && t.attempt <= settings.maxRetries {
            guard lock.withLock({ () -> Bool in
                guard let i = tracked.firstIndex(where: { $0 === t }) else { return false }
                tracked.remove(at: i)
                return true
            }) else { return }
            try? store.updateJob(t.row, state: s.state, message: what)
            status?(t.job.key, "\(what): submitting again (retry \(t.attempt) of \(settings.maxRetries))")
            submitQueue.async { [self] in
                try? FileManager.default.removeItem(at: URL(fileURLWithPath: t.job.output))
                try? FileManager.default.removeItem(at: t.dir.appendingPathComponent(JobFolder.resultName))
                sbatch(t.job, dir: t.dir, attempt: t.attempt + 1, onFinish: t.onFinish)
            }
            return
        }
        try? store.updateJob(t.row, state: s.state, message: what)
        finish(t) { .failure(StepwiseError("\(what); log \(t.dir.appendingPathComponent(JobFolder.logName).path):\n\(JobFolder.logTail(t.dir))")) }
    }

    /// Hands a job's end to the scheduler, exactly once.
    private func finish(_ t: Tracked, _ result: () -> Result<StageResult, Error>) {
        let mine = lock.withLock { () -> Bool in
            guard let i = tracked.firstIndex(where: { $0 === t }) else { return false }
            tracked.remove(at: i)
            return true
        }
        if mine { t.onFinish(result()) }
    }

    // MARK: Re-attaching

    /// The latest recorded job of each key, read once per run.
    private func recordedJobs() -> [String: JobRecord] {
        lock.withLock {
            if recorded == nil { recorded = (try? store.latestJobs(executor: name)) ?? [:] }
            return recorded!
        }
    }

    /// The queue's view of every recorded job that may still be open: one `squeue` call, made
    /// the first time a run asks.
    private lazy var queueSnapshot: [String: SlurmCommands.JobState] = {
        let ids = recordedJobs().values.filter { Self.openStates.contains($0.state) }.compactMap(\.jobID)
        guard !ids.isEmpty else { return [:] }
        nextQueueCall = Date().addingTimeInterval(settings.pollInterval)
        var states = (try? commands.queue(ids)) ?? [:]
        for id in ids where states[id] == nil { states[id] = commands.accounting(id) }
        return states
    }()
}

extension JobFolder {
    /// The last progress line a stage printed to its log (`status: …`).
    static func lastStatusLine(_ dir: URL) -> String? {
        guard let handle = try? FileHandle(forReadingFrom: dir.appendingPathComponent(logName)) else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 4096 ? size - 4096 : 0)
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        return text.split(separator: "\n").last { $0.hasPrefix(statusPrefix) }.map { String($0.dropFirst(statusPrefix.count)) }
    }
}
