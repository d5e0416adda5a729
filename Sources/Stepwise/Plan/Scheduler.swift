import Foundation

/// Runs a plan: reuses every stage whose key is in the store, runs the rest in dependency
/// order with up to `jobs` independent stages at once, and commits each finished artifact
/// atomically. A failed stage stops its dependents, never its independent siblings.
public final class Scheduler {
    public struct Outcome {
        public var reused: Int = 0
        public var ran: Int = 0
        public var failed: [(stage: Stage, error: String)] = []
        public var skipped: [Stage] = []
        public var succeeded: Bool { failed.isEmpty && skipped.isEmpty }
    }

    enum State { case pending, running, done, failed, skipped }

    let plan: Plan
    let store: Store
    let jobs: Int
    let progress: ProgressReporter
    /// For tests of resume and locking: each stage that runs takes at least this long.
    let minimumStageSeconds: Double
    /// What runs a stage; tests substitute one that fails on purpose.
    let executeStage: (StageContext) throws -> Data

    public init(plan: Plan, store: Store, jobs: Int, progress: ProgressReporter, minimumStageSeconds: Double = 0,
                execute: @escaping (StageContext) throws -> Data = StageExecutor.run) {
        self.executeStage = execute
        self.plan = plan
        self.store = store
        self.jobs = max(1, jobs)
        self.progress = progress
        self.minimumStageSeconds = minimumStageSeconds
    }

    /// The run's shared bookkeeping; every access holds `cond`.
    final class Board {
        let cond = NSCondition()
        var state: [State]
        var running = 0
        var outcome = Outcome()
        var finishedKeys: Set<String>
        init(count: Int, cached: Set<String>) {
            state = [State](repeating: .pending, count: count)
            finishedKeys = cached
        }
    }

    public func run(runID: Int64) throws -> Outcome {
        let stages = plan.stages
        let board = Board(count: stages.count, cached: try store.allKeys())
        for (i, s) in stages.enumerated() where board.finishedKeys.contains(s.key) {
            board.state[i] = .done
            board.outcome.reused += 1
        }
        progress.begin(total: stages.count, reused: board.outcome.reused)

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
            // start what can, up to `jobs`.
            for i in stages.indices where board.state[i] == .pending && blocked(i) {
                board.state[i] = .skipped
                board.outcome.skipped.append(stages[i])
                try? store.record(.skipped, run: runID, stage: stages[i], message: "an input failed")
            }
            for i in launchOrder where board.running < jobs && ready(i) {
                let stage = stages[i]
                if board.finishedKeys.contains(stage.key) { board.state[i] = .done; continue }  // same key twice in a plan
                board.state[i] = .running
                board.running += 1
                progress.started(stage)
                Thread.detachNewThread { [self] in
                    let result = self.execute(stage, runID: runID)
                    board.cond.lock()
                    board.running -= 1
                    switch result {
                    case .success(let seconds):
                        board.state[i] = .done
                        board.finishedKeys.insert(stage.key)
                        board.outcome.ran += 1
                        progress.finished(stage, seconds: seconds)
                    case .failure(let error):
                        board.state[i] = .failed
                        board.outcome.failed.append((stage, "\(error)"))
                        progress.failed(stage, error: "\(error)")
                    }
                    board.cond.signal()
                    board.cond.unlock()
                }
            }
            if board.running == 0 && !stages.indices.contains(where: ready) { break }
            board.cond.wait()
        }
        board.cond.unlock()
        progress.end()
        return board.outcome
    }

    /// Loads the inputs, runs the stage, commits its artifact in one transaction.
    func execute(_ stage: Stage, runID: Int64) -> Result<Double, Error> {
        let start = Date()
        let inputs = stage.inputs
        do {
            try store.record(.started, run: runID, stage: stage)
            var payloads: [String: Data] = [:]
            for input in inputs {
                let key = plan.stages[input.index].key
                guard let data = try store.payload(key) else {
                    throw StepwiseError("input `\(input.role)` (\(key.prefix(10))) vanished from the store")
                }
                payloads[input.role] = data
            }
            let threads = max(1, ProcessInfo.processInfo.activeProcessorCount / jobs)
            let ctx = StageContext(plan: plan, stage: stage, inputs: payloads, store: store, threads: threads,
                                   status: { [progress] text in progress.status(stage, text) })
            let payload = try executeStage(ctx)
            let elapsed = Date().timeIntervalSince(start)
            if elapsed < minimumStageSeconds { Thread.sleep(forTimeInterval: minimumStageSeconds - elapsed) }
            let duration = Date().timeIntervalSince(start)
            let inputKeys = Dictionary(inputs.map { ($0.role, plan.stages[$0.index].key) }, uniquingKeysWith: { a, _ in a })
            try store.put(ArtifactRecord(key: stage.key, kind: stage.kind, label: stage.label, params: stage.params,
                                         inputs: inputKeys, payload: payload, duration: duration), runID: runID)
            try store.record(.finished, run: runID, stage: stage)
            return .success(duration)
        } catch {
            try? store.record(.failed, run: runID, stage: stage, message: "\(error)")
            return .failure(error)
        }
    }
}
