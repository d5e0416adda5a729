import ArgumentParser
import Stepwise

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show the DAG of stages: short key, cached or to run, inputs.")

    @OptionGroup var options: SpecOptions
    @OptionGroup var checkpoints: CheckpointOptions

    @Flag(help: "For each stage to run, say what differs from the closest cached stage of its kind.")
    var explain = false

    @Flag(help: "Print the plan as JSON.")
    var json = false

    func run() throws {
        let e = try options.load()
        let plan = try checkpoints.plan(e)
        let store = try options.existingStore(for: e)
        let check = try store.map { try ArtifactCheck.run(store: $0, plan: plan, repair: false) }
        if !json { for problem in check?.problems ?? [] { print("problem: \(problem)") } }
        let status = PlanStatus(plan: plan, cachedKeys: check?.valid ?? [])
        let why = explain ? try status.explanations(store: store) : nil
        print(json ? PlanPrinter.json(status, explanations: why) : PlanPrinter.text(status, explanations: why), terminator: "")
        if !json { print(try PlanEstimate(status: status, store: store).text, terminator: "") }
    }
}
