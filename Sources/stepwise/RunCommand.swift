import ArgumentParser
import Foundation
import Stepwise

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run every stage that is not cached, then write Results/<experiment>/.")

    @OptionGroup var options: SpecOptions

    @Option(help: "How many independent stages may run at once.")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "If another run holds the store, fail at once instead of waiting for it.")
    var noWait = false

    @Flag(help: "Exit non-zero when a claim of the spec is not reproduced.")
    var requireClaims = false

    @Option(help: "Where stages run: `local` (threads of this process) or `process` (one `stepwise exec-stage` process per stage).")
    var executor: String = "local"

    func run() throws {
        guard let kind = ExecutorKind(rawValue: executor) else {
            printError("unknown executor `\(executor)`; expected one of \(ExecutorKind.allCases.map { "`\($0.rawValue)`" }.joined(separator: ", "))")
            throw ExitCode(2)
        }
        let e = try options.load()
        let plan = try Planner.plan(e)
        let storeURL = options.storeURL(for: e)
        let progress = ProgressReporter()
        let lock = try StoreLock(store: storeURL, mode: noWait ? .fail : .wait, onWait: { progress.message($0) })
        let store = try Store(url: storeURL)
        let runID = try store.beginRun(spec: options.spec)
        let minimum = Double(ProcessInfo.processInfo.environment["STEPWISE_MIN_STAGE_SECONDS"] ?? "") ?? 0
        let stageExecutor: Executor
        switch kind {
        case .local: stageExecutor = InProcessExecutor(slots: jobs)
        case .process:
            stageExecutor = ProcessExecutor(slots: jobs, binary: ExecutablePath.current, artifactDirectory: store.artifactDirectory)
        }
        let scheduler = Scheduler(plan: plan, store: store, executor: stageExecutor, progress: progress, minimumStageSeconds: minimum)
        // Ctrl-C: stop launching, cancel what runs (finished stages are committed); twice: exit now.
        let interrupt = Interrupt.onSIGINT { first in
            if first {
                progress.message("interrupted: cancelling running stages (Ctrl-C again to exit at once)")
                scheduler.cancel()
            } else {
                Foundation.exit(130)
            }
        }
        let outcome = try scheduler.run(runID: runID)
        withExtendedLifetime(interrupt) {}
        try store.finishRun(runID, status: outcome.cancelled ? "cancelled" : outcome.succeeded ? "succeeded" : "failed")
        if outcome.cancelled {
            printError("cancelled: \(outcome.ran) stage(s) finished and kept; `stepwise run` again resumes")
            throw ExitCode(130)
        }

        var unreproduced = 0
        if let i = plan.reportIndex, let data = try store.payload(plan.stages[i].key) {
            let report = try ArtifactCodec.decode(ReportArtifact.self, from: data, what: "report")
            let dir = try ReportRenderer.materialize(report, experiment: e,
                                                     stageCosts: try ReportRenderer.stageCosts(store: store, plan: plan))
            print("results: \(dir.path)/report.md")
            for v in report.claims ?? [] {
                print("claim \(v.verdict.rawValue.uppercased()): \(v.claim)")
                for line in v.advice { print("  advice: \(line)") }
                if !v.reproduced { unreproduced += 1 }
            }
        }
        withExtendedLifetime(lock) {}
        print("\(outcome.ran) ran, \(outcome.reused) cached, \(outcome.failed.count) failed, \(outcome.skipped.count) skipped")
        if !outcome.succeeded {
            printError("\nFailed stages:")
            for f in outcome.failed { printError("  \(f.stage.label) (\(f.stage.shortKey)): \(f.error)") }
            if !outcome.skipped.isEmpty {
                printError("Not run because an input failed: \(outcome.skipped.count) stage(s), e.g. \(outcome.skipped[0].label)")
            }
            throw ExitCode(1)
        }
        if requireClaims && unreproduced > 0 {
            printError("\(unreproduced) claim(s) contradicted or inconclusive (--require-claims needs every claim reproduced)")
            throw ExitCode(3)
        }
    }
}
