import Foundation

/// Runs a plan: reuses every stage whose key is in the store, hands the rest to an executor in
/// dependency order with up to `executor.slots` at once (longest chain first), and commits each
/// finished artifact: a folder fsynced and renamed into the artifact directory, then its row in
/// one SQLite transaction. This process is the only writer of the index, wherever stages run.
/// A failed stage stops its dependents, never its independent siblings.
public final class Scheduler {
    public struct Outcome {
        public var reused: Int = 0
        public var ran: Int = 0
        public var failed: [(stage: Stage, error: String)] = []
        public var skipped: [Stage] = []
        public var cancelled = false
        public var succeeded: Bool { failed.isEmpty && skipped.isEmpty && !cancelled }
    }

    enum State { case pending, running, done, failed, skipped }

    let plan: Plan
    let store: Store
    let executor: Executor
    let progress: ProgressReporter
    /// For tests of resume, locking and time limits: each stage that runs takes at least this
    /// long (`byKind` overrides it for the kinds it names).
    let minimumStageSeconds: Double
    let minimumSecondsByKind: [StageKind: Double]
    /// Threads per stage: the cores shared among the stages running at once. A speed knob only.
    let threadsPerStage: Int

    public init(plan: Plan, store: Store, executor: Executor, progress: ProgressReporter, minimumStageSeconds: Double = 0,
                minimumSecondsByKind: [StageKind: Double] = [:], threadsPerStage: Int? = nil) {
        self.minimumSecondsByKind = minimumSecondsByKind
        self.plan = plan
        self.store = store
        self.executor = executor
        self.progress = progress
        self.minimumStageSeconds = minimumStageSeconds
        self.threadsPerStage = threadsPerStage ?? max(1, ProcessInfo.processInfo.activeProcessorCount / executor.slots)
    }

    /// The run's shared bookkeeping; every access holds `cond`.
    final class Board {
        let cond = NSCondition()
        var state: [State]
        var running = 0
        var outcome = Outcome()
        var finishedKeys: Set<String>
        var cancelled = false
        init(count: Int, cached: Set<String>) {
            state = [State](repeating: .pending, count: count)
            finishedKeys = cached
        }
    }
    private var board: Board?

    /// Stops launching stages and cancels those running (Ctrl-C); `run` then returns.
    public func cancel() {
        guard let board else { return }
        board.cond.lock()
        board.cancelled = true
        board.cond.signal()
        board.cond.unlock()
        executor.cancelAll()
    }

    public func run(runID: Int64) throws -> Outcome {
        let stages = plan.stages
        let check = try ArtifactCheck.run(store: store, plan: plan)
        for problem in check.problems { progress.message(problem) }
        let board = Board(count: stages.count, cached: check.valid)
        self.board = board
        for (i, s) in stages.enumerated() where board.finishedKeys.contains(s.key) {
            board.state[i] = .done
            board.outcome.reused += 1
        }
        progress.begin(total: stages.count, reused: board.outcome.reused)
        let byKey = Dictionary(stages.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        executor.status = { [progress] key, text in
            if let stage = byKey[key] { progress.status(stage, text) }
        }

        func ready(_ i: Int) -> Bool {
            board.state[i] == .pending && stages[i].inputs.allSatisfy { board.state[$0.index] == .done }
        }
        func blocked(_ i: Int) -> Bool {
            stages[i].inputs.contains { board.state[$0.index] == .failed || board.state[$0.index] == .skipped }
        }

        let launchOrder = StagePriority.launchOrder(plan)
        board.cond.lock()
        while true {
            // Skip what can no longer run (stages are in dependency order, so one pass suffices);
            // start what can, up to the executor's slots.
            for i in stages.indices where board.state[i] == .pending && blocked(i) {
                board.state[i] = .skipped
                board.outcome.skipped.append(stages[i])
                try? store.record(.skipped, run: runID, stage: stages[i], message: "an input failed")
            }
            if board.cancelled { break }
            for i in launchOrder where board.running < executor.slots && ready(i) {
                let stage = stages[i]
                if board.finishedKeys.contains(stage.key) { board.state[i] = .done; continue }  // same key twice in a plan
                board.state[i] = .running
                board.running += 1
                progress.started(stage)
                launch(i, runID: runID, board: board)
            }
            if board.running == 0 && !stages.indices.contains(where: ready) { break }
            board.cond.wait()
        }
        if board.cancelled {
            board.outcome.cancelled = true
            // Wait for the cancelled jobs to report, so nothing is half-committed when we return.
            let deadline = Date().addingTimeInterval(10)
            while board.running > 0 && board.cond.wait(until: deadline) {}
        }
        board.cond.unlock()
        progress.end()
        return board.outcome
    }

    /// Submits one stage; its completion commits the artifact and wakes the loop.
    private func launch(_ i: Int, runID: Int64, board: Board) {
        let stage = plan.stages[i]
        let start = Date()
        do {
            let job = try makeJob(stage)
            let onFinish: @Sendable (Result<StageResult, Error>) -> Void = { [self] result in
                // Off the executor's thread: an executor may report from inside `submit`, while
                // the run loop holds the board's lock.
                DispatchQueue.global().async { self.finish(i, stage, result, runID: runID, start: start, board: board) }
            }
            // A job an earlier (killed) coordinator submitted for this key is taken over, not
            // started again: `started` counts stay one per stage that ran.
            if executor.adopt(job, onFinish: onFinish) {
                try store.record(.adopted, run: runID, stage: stage)
                progress.message("re-attached to the \(executor.name) job of \(stage.label), submitted by an earlier run")
            } else {
                try store.record(.started, run: runID, stage: stage)
                executor.submit(job, work: stage.work, onFinish: onFinish)
            }
        } catch {
            board.running -= 1
            board.state[i] = .failed
            board.outcome.failed.append((stage, "\(error)"))
            try? store.record(.failed, run: runID, stage: stage, message: "\(error)")
            progress.failed(stage, error: "\(error)")
        }
    }

    private func finish(_ i: Int, _ stage: Stage, _ result: Result<StageResult, Error>, runID: Int64, start: Date, board: Board) {
        let committed = result.flatMap { r in Result { try self.commit(stage, r, runID: runID, start: start) } }
        board.cond.lock()
        board.running -= 1
        switch committed {
        case .success(let seconds):
            board.state[i] = .done
            board.finishedKeys.insert(stage.key)
            board.outcome.ran += 1
            progress.finished(stage, seconds: seconds)
        case .failure(let error):
            board.state[i] = .failed
            board.outcome.failed.append((stage, "\(error)"))
            try? store.record(.failed, run: runID, stage: stage, message: "\(error)")
            progress.failed(stage, error: "\(error)")
        }
        board.cond.signal()
        board.cond.unlock()
    }

    /// A stage's job: its inputs' locations from the store, a scratch output folder.
    func makeJob(_ stage: Stage) throws -> StageJob {
        var inputs: [StageJob.JobInput] = []
        for input in stage.inputs {
            let key = plan.stages[input.index].key
            guard let location = try store.location(key) else {
                throw StepwiseError("input `\(input.role)` (\(key.prefix(10))) vanished from the store")
            }
            inputs.append(.init(role: input.role, location: location))
        }
        let jobDir = store.artifactDirectory.appendingPathComponent("jobs")
            .appendingPathComponent("\(stage.key.prefix(16))-\(UUID().uuidString.prefix(8))")
        return StageJob(key: stage.key, label: stage.label, kind: stage.kind, payload: try stage.work.encode(), inputs: inputs,
                        output: jobDir.appendingPathComponent("output").path, threads: threadsPerStage, store: store.url.path,
                        minimumSeconds: minimumSecondsByKind[stage.kind] ?? minimumStageSeconds)
    }

    /// Stores a finished stage's output: inline when small, else as a folder (renamed into place
    /// before its row is written). Returns the stage's duration.
    func commit(_ stage: Stage, _ result: StageResult, runID: Int64, start: Date) throws -> Double {
        let jobDir = result.folder.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: jobDir) }
        let inputKeys = Dictionary(uniqueKeysWithValues: stage.inputs.map { ($0.role, plan.stages[$0.index].key) })
        let duration = max(result.seconds, Date().timeIntervalSince(start))
        var record = ArtifactRecord(key: stage.key, kind: stage.kind, label: stage.label, params: stage.params,
                                    inputs: inputKeys, payload: Data(), duration: duration)
        let hasFiles = !((try? FileManager.default.contentsOfDirectory(atPath: result.folder.path)) ?? []).isEmpty
        if let payload = result.payload, !hasFiles, payload.count <= ArtifactFiles.inlineLimit {
            record = ArtifactRecord(key: stage.key, kind: stage.kind, label: stage.label, params: stage.params,
                                    inputs: inputKeys, payload: payload, duration: duration)
        } else {
            if let payload = result.payload {
                try ArtifactFiles.write(payload, to: result.folder.appendingPathComponent(ArtifactFiles.payloadName), label: stage.label)
            } else if !hasFiles {
                throw StepwiseError("\(stage.label): the stage wrote no artifact")
            }
            let (rel, size, digest) = try ArtifactFiles.commit(result.folder, key: stage.key, into: store.artifactDirectory,
                                                               label: stage.label)
            record.location = rel
            record.size = size
            record.sha256 = digest
        }
        record.cost = stage.work.cost
        try store.put(record, runID: runID)
        try store.record(.finished, run: runID, stage: stage)
        return duration
    }
}
