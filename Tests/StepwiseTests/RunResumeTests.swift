import XCTest
@testable import Stepwise

/// End to end through the `stepwise` executable: caching, resume after `kill -9`, one run
/// per store, failures that stop dependents but not siblings.
final class RunResumeTests: XCTestCase {
    var project: TempProject!
    override func setUpWithError() throws { project = try TempProject() }
    override func tearDown() { project.remove() }

    func testSecondRunReusesEverything() throws {
        let spec = try project.write(minimalSpec)
        let first = try CLI.run(["run", spec], cwd: project.root)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("4 ran, 0 cached"), first.stdout)
        let csv = try String(contentsOf: project.root.appendingPathComponent("Results/mini/results.csv"), encoding: .utf8)
        XCTAssertTrue(csv.hasPrefix(ResultRow.csvHeader + "\nfew_shot_cot,teacher,,,,test,equation,"), csv)

        let second = try CLI.run(["run", spec], cwd: project.root)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("0 ran, 4 cached"), second.stdout)
        let plan = try CLI.run(["plan", spec], cwd: project.root)
        XCTAssertTrue(plan.stdout.contains("4 stages: 4 cached, 0 to run"), plan.stdout)
    }

    func testResumeAfterKillNineRedoesNoFinishedStage() throws {
        let spec = try project.write(minimalSpec)
        let env = ["STEPWISE_MIN_STAGE_SECONDS": "0.7"]
        let child = try CLI.start(["run", spec, "--jobs", "1"], cwd: project.root, env: env)

        // Wait until two stages are committed, then kill -9 mid-plan.
        waitUntil(seconds: 30) {
            FileManager.default.fileExists(atPath: project.storeURL.path)
                && ((try? Store(url: project.storeURL).allKeys().count) ?? 0) >= 2
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        XCTAssertEqual(child.terminationReason, .uncaughtSignal)
        let store = try Store(url: project.storeURL)
        let finishedBeforeKill = try store.allKeys()
        XCTAssertGreaterThanOrEqual(finishedBeforeKill.count, 2)
        XCTAssertLessThan(finishedBeforeKill.count, 4, "killed before the end")
        XCTAssertEqual(try store.payload(finishedBeforeKill.first!)?.isEmpty, false)

        let resumed = try CLI.run(["run", spec], cwd: project.root)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let starts = try store.startCounts()
        for key in finishedBeforeKill { XCTAssertEqual(starts[key], 1, "finished stage \(key.prefix(10)) ran again") }
        XCTAssertEqual(try store.allKeys().count, 4)

        // Identical results to an uninterrupted run elsewhere.
        let other = try TempProject()
        defer { other.remove() }
        let clean = try CLI.run(["run", try other.write(minimalSpec)], cwd: other.root)
        XCTAssertEqual(clean.status, 0, clean.stderr)
        let a = try String(contentsOf: project.root.appendingPathComponent("Results/mini/results.csv"), encoding: .utf8)
        let b = try String(contentsOf: other.root.appendingPathComponent("Results/mini/results.csv"), encoding: .utf8)
        XCTAssertEqual(a, b)
    }

    func testConcurrentRunOnOneStoreWaitsOrRefuses() throws {
        let spec = try project.write(minimalSpec)
        // Slow enough that the first run still holds the lock while a loaded machine starts the others.
        let env = ["STEPWISE_MIN_STAGE_SECONDS": "1.5"]
        let first = try CLI.start(["run", spec, "--jobs", "1"], cwd: project.root, env: env)
        // Wait until the first run holds the lock (its store exists and a run is recorded).
        waitUntil(seconds: 20) {
            FileManager.default.fileExists(atPath: project.storeURL.path)
                && ((try? Store(url: project.storeURL).lastRun(spec: spec)) ?? nil) != nil
        }
        let refused = try CLI.run(["run", spec, "--no-wait"], cwd: project.root)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("another `stepwise run`"), refused.stderr)

        let waited = try CLI.run(["run", spec], cwd: project.root)   // blocks until the first is done
        first.waitUntilExit()
        XCTAssertEqual(first.terminationStatus, 0)
        XCTAssertEqual(waited.status, 0, waited.stderr)
        XCTAssertTrue(waited.stderr.contains("waiting"), waited.stderr)
        XCTAssertTrue(waited.stdout.contains("0 ran, 4 cached"), waited.stdout)

        let check = try CLI.run(["status", spec], cwd: project.root)
        XCTAssertTrue(check.stdout.contains("4/4 stages cached"), check.stdout)
        XCTAssertEqual(try Store(url: project.storeURL).integrityCheck(), "ok")
    }

    func testFailedStageStopsDependentsNotSiblings() throws {
        // The tokenizer fails: every student (which needs it) is skipped, and so is the report;
        // the teacher's test row, an independent branch, still runs to the end.
        let e = try project.experiment(minimalSpec.replacingOccurrences(of: "few_shot_cot: {}", with: "few_shot_cot: {}\n  task_distillation: {}"))
        let plan = try Planner.plan(e)
        let store = try Store(url: project.storeURL)
        let run = try store.beginRun(spec: "x")
        let outcome = try Scheduler(plan: plan, store: store, executor: FailingExecutor(failing: .tokenizer),
                                    progress: ProgressReporter(live: false, write: { _ in })).run(runID: run)
        XCTAssertEqual(outcome.failed.map(\.stage.kind), [.tokenizer])
        XCTAssertEqual(outcome.failed.first?.error, "tokenizer exploded")
        XCTAssertEqual(Set(outcome.skipped.map(\.kind)), [.train, .evaluate, .report])
        XCTAssertFalse(outcome.succeeded)
        let done = try store.allKeys()
        for s in plan.stages where [.dataset, .subsample, .annotate, .teacherEval].contains(s.kind) {
            XCTAssertTrue(done.contains(s.key), "\(s.label) is independent of the failure and must finish")
        }
        XCTAssertEqual(try store.lastFailure(key: outcome.failed[0].stage.key), "tokenizer exploded")
        XCTAssertEqual(try store.integrityCheck(), "ok")
    }
}

/// The in-process executor, except that stages of one kind fail: the executor seam used to
/// inject a failure.
final class FailingExecutor: Executor, @unchecked Sendable {
    let inner = InProcessExecutor(slots: 2)
    let failing: StageKind
    var name: String { "failing" }
    var slots: Int { inner.slots }
    var status: (@Sendable (String, String) -> Void)?
    init(failing: StageKind) { self.failing = failing }

    func submit(_ job: StageJob, work: StageWork, onFinish: @escaping @Sendable (Result<StageResult, Error>) -> Void) {
        if job.kind == failing { onFinish(.failure(StepwiseError("\(failing) exploded"))); return }
        inner.submit(job, work: work, onFinish: onFinish)
    }
    func cancelAll() {}
}
