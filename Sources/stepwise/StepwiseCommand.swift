import ArgumentParser
import Trainer

@main
struct StepwiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stepwise",
        abstract: "Declarative, cached distilling step-by-step experiments.",
        discussion: """
            A spec in Experiments/ declares the dataset, teacher, student sizes, λ, data fractions and \
            baselines; `plan` shows the stages and what is cached, `run` runs what is not, and results \
            land in Results/<experiment>/.
            """,
        subcommands: [ValidateCommand.self, PlanCommand.self, RunCommand.self, StatusCommand.self, ReportCommand.self,
                      GCCommand.self, BenchCommand.self, ExecStageCommand.self, FetchCommand.self]
    )

    /// Starts with the best OpenBLAS kernels the CPU can run (see `BLASKernels`), then parses.
    static func main() {
        BLASKernels.reexecWithBetterKernelsIfNeeded()
        main(nil)
    }
}
