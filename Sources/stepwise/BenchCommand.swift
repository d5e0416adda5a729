import ArgumentParser

/// `stepwise bench …`: performance measurements (not tests).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Performance benchmarks.",
        subcommands: [BenchTrainerCommand.self, BenchStoreCommand.self, BenchReportCommand.self]
    )
}
