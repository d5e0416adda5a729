import ArgumentParser
import Stepwise

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "How far an experiment has got: stages cached and to run by kind, failures, the last run.")

    @OptionGroup var options: SpecOptions

    @Flag(help: "Re-hash every artifact folder against its recorded sha256 (slow for large checkpoints).")
    var verify = false

    @Flag(help: "Print the status as JSON (fields in docs/json-interfaces.md).")
    var json = false

    func run() throws {
        let e = try options.load()
        let plan = try Planner.plan(e)
        let store = try options.existingStore(for: e)
        // Report broken artifact folders without repairing: `status` never changes the store.
        let check = try store.map { try ArtifactCheck.run(store: $0, plan: plan, verify: verify, repair: false) }
        if json {
            let status = PlanStatus(plan: plan, cachedKeys: check?.valid ?? [])
            var failures: [StatusJSON.Failure] = []
            if let store {
                for (i, s) in plan.stages.enumerated() where status.states[i] == .toRun {
                    if let failure = try store.lastFailure(key: s.key) { failures.append(.init(key: s.key, label: s.label, error: failure)) }
                }
            }
            let out = StatusJSON(status: status, store: options.storeURL(for: e).path, storeExists: store != nil,
                                 problems: check?.problems ?? [], failures: failures,
                                 slurmJobs: try store.map { try SlurmJobsView.lines(store: $0, keys: plan.stages.map(\.key)) } ?? [],
                                 lastRun: try store?.lastRun(spec: options.spec))
            print(out.text, terminator: "")
            return
        }
        for problem in check?.problems ?? [] { print("problem: \(problem)") }
        let status = PlanStatus(plan: plan, cachedKeys: check?.valid ?? [])
        print("experiment \(e.name): \(plan.stages.count - status.toRunCount)/\(plan.stages.count) stages cached")
        for kind in StageKind.allCases {
            let idx = plan.stages.indices.filter { plan.stages[$0].kind == kind }
            guard !idx.isEmpty else { continue }
            let cached = idx.filter { status.states[$0] == .cached }.count
            print("  \(kind.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)) \(cached)/\(idx.count) cached")
        }
        guard let store else { print("store: none yet (\(options.storeURL(for: e).path))"); return }
        for (i, s) in plan.stages.enumerated() where status.states[i] == .toRun {
            if let failure = try store.lastFailure(key: s.key) { print("  failed last time: \(s.label): \(failure)") }
        }
        let jobs = try SlurmJobsView.lines(store: store, keys: plan.stages.map(\.key))
        if !jobs.isEmpty {
            print("slurm jobs (stage, id, state, elapsed, node):")
            for line in jobs { print(SlurmJobsView.format(line)) }
        }
        if let run = try store.lastRun(spec: options.spec) {
            print("last run: #\(run.id) \(run.status), started \(run.started)")
        }
    }
}
