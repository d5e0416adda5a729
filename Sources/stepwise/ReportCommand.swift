import ArgumentParser
import Stepwise

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Re-render Results/<experiment>/ from what is in the store, running nothing.")

    @OptionGroup var options: SpecOptions

    func run() throws {
        let e = try options.load()
        let plan = try Planner.plan(e)
        guard let store = try options.existingStore(for: e) else {
            printError("no store at \(options.storeURL(for: e).path): run the experiment first")
            throw ExitCode(1)
        }
        guard let reportIndex = plan.reportIndex else { return }
        let inputs = try ReportRenderer.collect(plan: plan, stage: plan.stages[reportIndex]) { try store.payload($0) }
        let report = try ReportRenderer.render(context: ReportContext(e), inputs: inputs)
        let dir = try ReportRenderer.materialize(report, experiment: e,
                                                 stageCosts: try ReportRenderer.stageCosts(store: store, plan: plan))
        print("\(inputs.evaluations.count) evaluations, \(inputs.missing.count) missing → \(dir.path)/report.md")
    }
}
