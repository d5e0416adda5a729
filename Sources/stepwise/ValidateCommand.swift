import ArgumentParser
import Stepwise

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a spec; every problem is reported with file:line:column, field and a suggestion. Exit 2 if invalid.")

    @OptionGroup var options: SpecOptions
    @OptionGroup var checkpoints: CheckpointOptions

    func run() throws {
        let e = try options.load()
        let plan = try checkpoints.plan(e)
        print("\(options.spec): ok — experiment `\(e.name)`, \(e.cells.count) trained cells, \(plan.stages.count) stages")
    }
}
