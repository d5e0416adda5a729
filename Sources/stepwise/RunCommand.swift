import ArgumentParser
import Foundation
import Stepwise

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run every stage that is not cached, then write Results/<experiment>/.")

    @OptionGroup var options: SpecOptions
    @OptionGroup var checkpoints: CheckpointOptions

    @Option(help: "How many independent stages may run at once.")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "If another run holds the store, fail at once instead of waiting for it.")
    var noWait = false

    @Flag(help: "Exit non-zero when a claim of the spec is not reproduced.")
    var requireClaims = false

    @Option(help: "Where stages run: `local` (threads of this process), `process` (one `stepwise exec-stage` process per stage) or `slurm` (train and evaluate as Slurm jobs; see the spec's `executor:` section).")
    var executor: String = "local"

    func run() throws {
        guard let kind = ExecutorKind(rawValue: executor) else {
            printError("unknown executor `\(executor)`; expected one of \(ExecutorKind.allCases.map { "`\($0.rawValue)`" }.joined(separator: ", "))")
            throw ExitCode(2)
        }
        let e = try options.load()
        let plan = try checkpoints.plan(e)
        let storeURL = options.storeURL(for: e)
        let progress = ProgressReporter()
        let lock = try StoreLock(store: storeURL, mode: noWait ? .fail : .wait, onWait: { progress.message($0) })
        let store = try Store(url: storeURL)
        let runID = try store.beginRun(spec: options.spec)
        let minimum = MinimumStageSeconds(ProcessInfo.processInfo.environment["STEPWISE_MIN_STAGE_SECONDS"])
        let stageExecutor: Executor
        switch kind {
        case .local: stageExecutor = InProcessExecutor(slots: jobs)
        case .process:
            stageExecutor = ProcessExecutor(slots: jobs, binary: ExecutablePath.current, artifactDirectory: store.artifactDirectory)
        case .slurm:
            let settings: SlurmSettings
            do { settings = try ExecutorSection.settings(specFile: options.spec) } catch let error as SpecError {
                printError(error.description)
                throw ExitCode(2)
            }
            stageExecutor = try SlurmExecutor(slots: jobs, settings: settings, binary: ExecutablePath.current, store: store, runID: runID)
        }
        let scheduler = Scheduler(plan: plan, store: store, executor: stageExecutor, progress: progress,
                                  minimumStageSeconds: minimum.all, minimumSecondsByKind: minimum.byKind)
        // Ctrl-C: stop launching, cancel what runs (finished stages are committed); twice: exit now.
        let interrupt = Interrupt.onSIGINT { first in
            if first {
                // Cluster jobs outlive us: on a terminal, ask before cancelling them.
                if let slurm = stageExecutor as? SlurmExecutor, slurm.jobsInFlight > 0, isatty(STDIN_FILENO) != 0,
                   !Interrupt.confirm("cancel the \(slurm.jobsInFlight) Slurm job(s) this run is waiting for? [Y/n] ") {
                    slurm.leaveJobsRunning()
                    progress.message("leaving the Slurm jobs running; `stepwise run` again re-attaches to them")
                }
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

/// `STEPWISE_MIN_STAGE_SECONDS` (tests of resume, cancellation and time limits): `0.6` for every
/// stage, `train=90` for one kind, or both (`0.2,train=90`).
struct MinimumStageSeconds {
    var all: Double = 0
    var byKind: [StageKind: Double] = [:]

    init(_ text: String?) {
        for part in (text ?? "").split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2, let v = Double(kv[1]) { byKind[StageKind(rawValue: kv[0])] = v } else if let v = Double(kv[0]) { all = v }
        }
    }
}
