import XCTest
@testable import Stepwise

/// What every executor must do, through the real `stepwise run --executor NAME`: run stages in
/// dependency order, isolate failures (siblings go on, dependents are skipped), resume after
/// `kill -9` of the coordinator without running a finished stage again, cancel on Ctrl-C
/// keeping what finished, and give the same artifacts as the in-process executor. A new
/// executor adds a subclass with its name and the same five one-line tests.
class ExecutorConformance: XCTestCase {
    var executor: String { fatalError("subclass") }
    var project: TempProject!
    override func setUpWithError() throws { project = try TempProject() }
    override func tearDown() { project?.remove() }   // nil when setUp skipped (no Slurm)

    static let spec = """
        name: conf
        dataset: {kind: synthetic-arith, train_size: 64, valid_size: 8, test_size: 16, seed: 2}
        teacher: {kind: synthetic, error_rate: 0.2, seed: 1}
        student:
          tokenizer: {kind: bpe, vocab: 200}
          sizes:
            t: {d_model: 16, layers: 1, heads: 2, d_ff: 32}
        train: {steps: 6, batch_size: 8, eval_every: 3, max_input_length: 48, max_target_length: 16}
        methods:
          few_shot_cot: {}
          standard_finetune: {}
          distill_step_by_step: {lambda: 0.5}
        sweep: {data_fraction: [0.5, 1.0]}
        """

    func run(_ root: URL, _ spec: String, _ extra: [String] = [], env: [String: String] = [:]) throws -> CLI.Result {
        try CLI.run(["run", spec, "--executor", executor] + extra, cwd: root, env: env)
    }

    /// No `exec-stage` process of this project is left running.
    func assertNoStageProcessesLeft(file: StaticString = #filePath, line: UInt = #line) {
        let gone = waitUntil(seconds: 5) { stageProcesses().isEmpty }
        XCTAssertTrue(gone, "stage processes still running: \(stageProcesses())", file: file, line: line)
    }

    func stageProcesses() -> [String] {
        let proc = URL(fileURLWithPath: "/proc")
        let artifacts = project.root.appendingPathComponent(".stepwise/artifacts").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: proc.path)) ?? []).compactMap { pid in
            guard Int(pid) != nil, let cmd = try? Data(contentsOf: proc.appendingPathComponent("\(pid)/cmdline")) else { return nil }
            let text = String(decoding: cmd, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
            return text.contains("exec-stage") && text.contains(artifacts) ? text : nil
        }
    }

    func checkDependencyOrder() throws {
        let spec = try project.write(Self.spec)
        let r = try run(project.root, spec, ["--jobs", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let plan = try Planner.plan(try SpecParser.load(file: spec, root: project.root))
        let events = try Store(url: project.storeURL).events()
        func position(_ key: String, _ event: String) -> Int? { events.firstIndex { $0.key == key && $0.event == event } }
        for stage in plan.stages {
            let started = try XCTUnwrap(position(stage.key, "started"), "\(stage.label) ran")
            for input in stage.inputs {
                let finished = try XCTUnwrap(position(plan.stages[input.index].key, "finished"))
                XCTAssertLessThan(finished, started, "\(stage.label) started before its input \(input.role) finished")
            }
        }
        assertNoStageProcessesLeft()
    }

    func checkFailureIsolation() throws {
        // The teacher's server does not exist: annotating the test split fails; the teacher's row
        // and the report (which need it) are skipped; the students (which do not) all finish.
        try "Q: {input}\nA:".write(to: project.root.appendingPathComponent("prompt.txt"), atomically: true, encoding: .utf8)
        let spec = try project.write("""
            name: iso
            dataset: {kind: synthetic-arith, train_size: 64, valid_size: 8, test_size: 16, seed: 2}
            teacher: {kind: openai, base_url: "http://127.0.0.1:9/v1", model: m, prompt: prompt.txt, max_retries: 0, timeout: 5}
            student:
              tokenizer: {kind: bpe, vocab: 200}
              sizes: {t: {d_model: 16, layers: 1, heads: 2, d_ff: 32}}
            train: {steps: 4, batch_size: 8, eval_every: 4, max_input_length: 48, max_target_length: 16}
            methods:
              few_shot_cot: {}
              standard_finetune: {}
            sweep: {data_fraction: [0.5, 1.0]}
            """)
        let r = try run(project.root, spec, ["--jobs", "2"])
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("annotate[openai test]"), r.stderr)
        let plan = try Planner.plan(try SpecParser.load(file: spec, root: project.root))
        let done = try Store(url: project.storeURL).allKeys()
        for s in plan.stages {
            let dependsOnTeacher = [.annotate, .teacherEval, .report].contains(s.kind)
            XCTAssertEqual(done.contains(s.key), !dependsOnTeacher, s.label)
        }
        assertNoStageProcessesLeft()
    }

    /// Starts a run whose stages each take ≥ 0.6 s and returns once `count` stages are committed.
    func startSlowRun(_ spec: String, untilCommitted count: Int) throws -> Process {
        let child = try CLI.start(["run", spec, "--jobs", "2", "--executor", executor], cwd: project.root,
                                  env: ["STEPWISE_MIN_STAGE_SECONDS": "0.6"])
        waitUntil(seconds: 60) {
            FileManager.default.fileExists(atPath: project.storeURL.path)
                && ((try? Store(url: project.storeURL).allKeys().count) ?? 0) >= count
        }
        return child
    }

    func checkKillNineThenResume() throws {
        let spec = try project.write(Self.spec)
        let child = try startSlowRun(spec, untilCommitted: 4)
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        assertNoStageProcessesLeft()
        let store = try Store(url: project.storeURL)
        let before = try store.allKeys()
        let plan = try Planner.plan(try SpecParser.load(file: spec, root: project.root))
        XCTAssertLessThan(before.count, plan.stages.count, "killed before the end")

        let resumed = try run(project.root, spec)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let starts = try store.startCounts()
        for key in before { XCTAssertEqual(starts[key], 1, "finished stage \(key.prefix(10)) ran again") }
        XCTAssertEqual(try store.allKeys().count, plan.stages.count)
        XCTAssertEqual(try store.integrityCheck(), "ok")
        try assertSameResults(asInProcessRunOf: Self.spec)
    }

    func checkCancellation() throws {
        let spec = try project.write(Self.spec)
        let child = try startSlowRun(spec, untilCommitted: 3)
        kill(child.processIdentifier, SIGINT)
        let exited = waitUntil(seconds: 20) { !child.isRunning }
        XCTAssertTrue(exited, "run did not stop on Ctrl-C")
        if !exited { kill(child.processIdentifier, SIGKILL) }
        child.waitUntilExit()
        XCTAssertEqual(child.terminationStatus, 130)
        assertNoStageProcessesLeft()
        let store = try Store(url: project.storeURL)
        let kept = try store.allKeys()
        XCTAssertGreaterThanOrEqual(kept.count, 3, "what finished before Ctrl-C is kept")
        let again = try run(project.root, spec)
        XCTAssertEqual(again.status, 0, again.stderr)
        let starts = try store.startCounts()
        for key in kept { XCTAssertEqual(starts[key], 1, "finished stage \(key.prefix(10)) ran again") }
    }

    func checkIdenticalResultsToInProcess() throws {
        let spec = try project.write(Self.spec)
        let r = try run(project.root, spec, ["--jobs", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        try assertSameResults(asInProcessRunOf: Self.spec)
    }

    /// results.csv and every artifact's content hash equal those of an in-process run elsewhere.
    func assertSameResults(asInProcessRunOf yaml: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let other = try TempProject()
        defer { other.remove() }
        let clean = try CLI.run(["run", try other.write(yaml), "--executor", "local", "--jobs", "1"], cwd: other.root)
        XCTAssertEqual(clean.status, 0, clean.stderr, file: file, line: line)
        let a = try String(contentsOf: project.root.appendingPathComponent("Results/conf/results.csv"), encoding: .utf8)
        let b = try String(contentsOf: other.root.appendingPathComponent("Results/conf/results.csv"), encoding: .utf8)
        XCTAssertEqual(a, b, file: file, line: line)
        func hashes(_ p: TempProject) throws -> [String: String] {
            Dictionary(uniqueKeysWithValues: try Store(url: p.storeURL).summaries().map { ($0.key, $0.sha256 ?? "") })
        }
        let mine = try hashes(project), theirs = try hashes(other)
        XCTAssertEqual(Set(mine.keys), Set(theirs.keys), file: file, line: line)
        for (key, digest) in theirs where key != "" {
            let s = try Store(url: other.storeURL).summaries().first { $0.key == key }!
            XCTAssertEqual(mine[key], digest, "\(s.label) differs between executors", file: file, line: line)
        }
    }
}

final class LocalExecutorConformanceTests: ExecutorConformance {
    override var executor: String { "local" }
    func testDependencyOrder() throws { try checkDependencyOrder() }
    func testFailureIsolation() throws { try checkFailureIsolation() }
    func testKillNineThenResume() throws { try checkKillNineThenResume() }
    func testCancellation() throws { try checkCancellation() }
    func testIdenticalResultsToInProcess() throws { try checkIdenticalResultsToInProcess() }
}

final class ProcessExecutorConformanceTests: ExecutorConformance {
    override var executor: String { "process" }
    func testDependencyOrder() throws { try checkDependencyOrder() }
    func testFailureIsolation() throws { try checkFailureIsolation() }
    func testKillNineThenResume() throws { try checkKillNineThenResume() }
    func testCancellation() throws { try checkCancellation() }
    func testIdenticalResultsToInProcess() throws { try checkIdenticalResultsToInProcess() }
}
