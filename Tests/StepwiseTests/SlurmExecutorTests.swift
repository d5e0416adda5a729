import XCTest
@testable import Stepwise

/// Skips a test unless a Slurm cluster answers (`scripts/slurm-local.sh up` starts one here).
/// Asked once per test process: `sinfo` takes many seconds to give up on a dead controller.
func requireSlurm() throws {
    if let problem = slurmProblem {
        throw XCTSkip("Slurm is not running (sinfo did not answer: \(problem)); start one with `scripts/slurm-local.sh up`")
    }
}

private let slurmProblem: String? = {
    do { _ = try SlurmCommands().nodes(); return nil } catch { return "\(error)" }
}()

final class SlurmExecutorConformanceTests: ExecutorConformance {
    override var executor: String { "slurm" }
    override func setUpWithError() throws {
        try requireSlurm()
        try super.setUpWithError()
    }
    func testDependencyOrder() throws { try checkDependencyOrder() }
    func testFailureIsolation() throws { try checkFailureIsolation() }
    func testKillNineThenResume() throws { try checkKillNineThenResume() }
    func testCancellation() throws { try checkCancellation() }
    func testIdenticalResultsToInProcess() throws { try checkIdenticalResultsToInProcess() }
}

/// Faults on a real Slurm: a job that exits non-zero, one cancelled from outside, one over its
/// time limit, the coordinator killed with -9, slurmctld restarted. Each reported clearly,
/// nothing finished lost, nothing run twice.
final class SlurmFaultTests: XCTestCase {
    var project: TempProject!
    override func setUpWithError() throws {
        try requireSlurm()
        project = try TempProject()
    }
    override func tearDown() { project?.remove() }

    /// Two students (one method, two fractions): two train and two evaluate jobs.
    func spec(executor: String) -> String {
        """
        name: slurm
        dataset: {kind: synthetic-arith, train_size: 48, valid_size: 8, test_size: 8, seed: 2}
        teacher: {kind: synthetic, error_rate: 0.2, seed: 1}
        student:
          tokenizer: {kind: bpe, vocab: 200}
          sizes: {t: {d_model: 16, layers: 1, heads: 2, d_ff: 32}}
        train: {steps: 4, batch_size: 8, eval_every: 4, max_input_length: 48, max_target_length: 16}
        methods:
          standard_finetune: {}
        sweep: {data_fraction: [0.5, 1.0]}
        executor: \(executor)
        """
    }

    /// `stepwise run` in the background, its stderr kept in a file.
    func start(_ spec: String, env: [String: String] = [:]) throws -> (Process, URL) {
        let p = CLI.process(["run", spec, "--executor", "slurm", "--jobs", "2"], cwd: project.root, env: env)
        let err = project.root.appendingPathComponent("run-\(UUID().uuidString.prefix(6)).stderr")
        FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        return (p, err)
    }

    func jobs() -> [String: JobRecord] {
        guard FileManager.default.fileExists(atPath: project.storeURL.path) else { return [:] }
        return (try? Store(url: project.storeURL).latestJobs(executor: "slurm")) ?? [:]
    }

    func waitForRunningJob(seconds: Double = 60) throws -> JobRecord {
        var found: JobRecord?
        waitUntil(seconds: seconds) {
            found = jobs().values.first { $0.state == "RUNNING" && $0.jobID != nil }
            return found != nil
        }
        return try XCTUnwrap(found, "no Slurm job reached RUNNING")
    }

    func testJobExitingNonZeroIsReportedWithStateAndLogTailAndDependentsSkipped() throws {
        let spec = try project.write(spec(executor: "{setup: [\"echo node-setup-broke >&2\", \"exit 3\"], poll_interval: 1}"))
        let r = try CLI.run(["run", spec, "--executor", "slurm", "--jobs", "2"], cwd: project.root)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("FAILED"), r.stderr)
        XCTAssertTrue(r.stderr.contains("node-setup-broke"), "the log's tail is shown: \(r.stderr)")
        let plan = try Planner.plan(try SpecParser.load(file: spec, root: project.root))
        let done = try Store(url: project.storeURL).allKeys()
        for s in plan.stages {
            XCTAssertEqual(done.contains(s.key), !["train", "evaluate", "report"].contains(s.kind.rawValue), s.label)
        }
        XCTAssertEqual(jobs().values.filter { $0.label.hasPrefix("train") }.map(\.state), ["FAILED", "FAILED"])
        let status = try CLI.run(["status", spec], cwd: project.root)
        XCTAssertTrue(status.stdout.contains("slurm jobs"), status.stdout)
        XCTAssertTrue(status.stdout.contains("FAILED"), status.stdout)
    }

    func testJobCancelledFromOutsideIsReportedAndTheOthersFinish() throws {
        let spec = try project.write(spec(executor: "{poll_interval: 1}"))
        let (run, err) = try start(spec, env: ["STEPWISE_MIN_STAGE_SECONDS": "train=6"])
        let victim = try waitForRunningJob()
        let scancel = try SlurmCommands().run("scancel", [victim.jobID!])
        XCTAssertEqual(scancel.status, 0, scancel.stderr)
        XCTAssertTrue(waitUntil(seconds: 90) { !run.isRunning }, "run did not end")
        let stderr = try String(contentsOf: err, encoding: .utf8)
        XCTAssertEqual(run.terminationStatus, 1, stderr)
        XCTAssertTrue(stderr.contains("Slurm job \(victim.jobID!) CANCELLED"), stderr)
        let done = try Store(url: project.storeURL).allKeys()
        XCTAssertFalse(done.contains(victim.key), "the cancelled stage is not in the store")
        XCTAssertEqual(jobs().values.filter { $0.label.hasPrefix("train") && $0.state == "COMPLETED" }.count, 1,
                       "the other student finished")
    }

    func testJobOverItsTimeLimitIsReportedAsTimeout() throws {
        // Slurm counts time limits in minutes: one minute, on a training stage of three.
        let spec = try project.write(spec(executor: "{time: {train: \"1\"}, poll_interval: 1}")
                                         .replacingOccurrences(of: "[0.5, 1.0]", with: "[1.0]"))
        let r = try CLI.run(["run", spec, "--executor", "slurm"], cwd: project.root, env: ["STEPWISE_MIN_STAGE_SECONDS": "train=180"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("TIMEOUT"), r.stderr)
        XCTAssertTrue(r.stderr.contains("Not run because an input failed"), r.stderr)
    }

    func testCoordinatorKilledMidSweepReattachesAndRunsNothingTwice() throws {
        let trace = project.root.appendingPathComponent("slurm-calls.log")
        let spec = try project.write(spec(executor: "{poll_interval: 2}"))
        let env = ["STEPWISE_MIN_STAGE_SECONDS": "train=5", "STEPWISE_SLURM_TRACE": trace.path]
        let (run, _) = try start(spec, env: env)
        let running = try waitForRunningJob()
        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()
        // The job goes on without its coordinator.
        let state = try SlurmCommands().queue([running.jobID!])[running.jobID!]?.state
        XCTAssertTrue(["RUNNING", "COMPLETING", "COMPLETED"].contains(state ?? ""), "job \(running.jobID!) is \(state ?? "gone")")

        let again = try CLI.run(["run", spec, "--executor", "slurm", "--jobs", "2"], cwd: project.root, env: env)
        XCTAssertEqual(again.status, 0, again.stderr)
        let store = try Store(url: project.storeURL)
        let plan = try Planner.plan(try SpecParser.load(file: spec, root: project.root))
        XCTAssertEqual(try store.allKeys().count, plan.stages.count)
        let starts = try store.startCounts()
        for s in plan.stages { XCTAssertEqual(starts[s.key], 1, "\(s.label) started \(starts[s.key] ?? 0) times") }
        XCTAssertTrue(try store.events().contains { $0.key == running.key && $0.event == "adopted" }, "re-attached to \(running.label)")
        for s in plan.stages where SlurmSettings.clusterKinds.contains(s.kind) {
            let submitted = try store.jobs(key: s.key).filter { $0.jobID != nil }
            XCTAssertEqual(submitted.count, 1, "\(s.label): one Slurm job, not \(submitted.count)")
            XCTAssertEqual(submitted.first?.state, "COMPLETED", s.label)
        }
        let status = try CLI.run(["status", spec], cwd: project.root)
        XCTAssertTrue(status.stdout.contains("job \(running.jobID!)  COMPLETED"), status.stdout)

        // squeue: at most one call per poll interval (2 s) in each coordinator, however many jobs.
        var byRun: [String: [Double]] = [:]
        for line in try String(contentsOf: trace, encoding: .utf8).split(separator: "\n") {
            let f = line.split(separator: " ").map(String.init)
            guard f.count > 3, f[2] == "squeue", line.contains("--jobs="), let t = Double(f[0]) else { continue }
            byRun[f[1], default: []].append(t)
        }
        XCTAssertEqual(byRun.count, 2, "both coordinators polled")
        for (pid, times) in byRun {
            for (a, b) in zip(times, times.dropFirst()) where b - a < 1.95 {
                XCTFail("coordinator \(pid) called squeue twice within \(b - a) s")
            }
        }
    }

    func testJobOnAFailedNodeIsSubmittedAgain() throws {
        let spec = try project.write(spec(executor: "{poll_interval: 1, max_retries: 1}"))
        let (run, err) = try start(spec, env: ["STEPWISE_MIN_STAGE_SECONDS": "train=4"])
        let victim = try waitForRunningJob()
        let node = try XCTUnwrap(try SlurmCommands().queue([victim.jobID!])[victim.jobID!]?.node)
        // Down kills the node's jobs (NODE_FAIL); the node comes back at once (ReturnToService=2).
        XCTAssertEqual(try SlurmCommands().run("scontrol", ["update", "nodename=\(node)", "state=down", "reason=stepwise-test"]).status, 0)
        waitUntil(seconds: 10) {
            (try? SlurmCommands().run("scontrol", ["update", "nodename=\(node)", "state=resume"]))?.status == 0
                || (try? SlurmCommands().run("sinfo", ["-h", "-N", "-o", "%T"]))?.stdout.hasPrefix("idle") == true
        }
        XCTAssertTrue(waitUntil(seconds: 90) { !run.isRunning }, "run did not end")
        let stderr = try String(contentsOf: err, encoding: .utf8)
        XCTAssertEqual(run.terminationStatus, 0, stderr)
        let attempts = try Store(url: project.storeURL).jobs(key: victim.key)
        XCTAssertEqual(attempts.map(\.state), ["NODE_FAIL", "COMPLETED"])
        XCTAssertEqual(attempts.map(\.attempt), [1, 2])
        XCTAssertEqual(try Store(url: project.storeURL).startCounts()[victim.key], 1, "a retry is not a new start")
    }

    func testControllerRestartedMidSweepLosesNothing() throws {
        let spec = try project.write(spec(executor: "{poll_interval: 1}"))
        let (run, err) = try start(spec, env: ["STEPWISE_MIN_STAGE_SECONDS": "train=4"])
        _ = try waitForRunningJob()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/slurm-local.sh")
        let restart = try Process.run(URL(fileURLWithPath: "/bin/bash"), arguments: [script.path, "restart-controller"])
        restart.waitUntilExit()
        XCTAssertEqual(restart.terminationStatus, 0, "slurmctld restarted")
        XCTAssertTrue(waitUntil(seconds: 120) { !run.isRunning }, "run did not end")
        let stderr = try String(contentsOf: err, encoding: .utf8)
        XCTAssertEqual(run.terminationStatus, 0, stderr)
        let store = try Store(url: project.storeURL)
        let plan = try Planner.plan(try SpecParser.load(file: spec, root: project.root))
        XCTAssertEqual(try store.allKeys().count, plan.stages.count)
        for (key, n) in try store.startCounts() { XCTAssertEqual(n, 1, "stage \(key.prefix(10)) started \(n) times") }
    }
}

/// What needs no cluster: the `executor:` section (validated with positions, overlaid on the
/// user's config file, never part of a key), `gc` and the jobs table, the shared-file-system check.
final class SlurmOfflineTests: XCTestCase {
    var project: TempProject!
    override func setUpWithError() throws { project = try TempProject() }
    override func tearDown() { project.remove() }

    func testSettingsFromSpecOverConfigFile() throws {
        let config = project.root.appendingPathComponent("config.yaml")
        try "executor: {partition: cpu, account: lab, memory: 2G, max_retries: 3}\n".write(to: config, atomically: true, encoding: .utf8)
        let spec = try project.write(minimalSpec + """

            executor:
              partition: long
              time: {train: "2:00:00", evaluate: "20"}
              cpus: 4
              memory: {train: 8G}
              sbatch_flags: ["--qos=low"]
              max_jobs: 40
            """)
        let s = try ExecutorSection.settings(specFile: spec, environment: ["STEPWISE_CONFIG": config.path])
        XCTAssertEqual(s.partition, "long")
        XCTAssertEqual(s.account, "lab")
        XCTAssertEqual(s.maxRetries, 3)
        XCTAssertEqual(s.maxJobs, 40)
        XCTAssertEqual(s.sbatchArguments(for: "train"),
                       ["--partition=long", "--account=lab", "--time=2:00:00", "--cpus-per-task=4", "--mem=8G", "--qos=low"])
        XCTAssertEqual(s.sbatchArguments(for: "evaluate"),
                       ["--partition=long", "--account=lab", "--time=20", "--cpus-per-task=4", "--mem=2G", "--qos=low"])
    }

    func testBadValuesAreReportedWithPositions() throws {
        let yaml = minimalSpec + """

            executor:
              partiton: x
              time: {train: "two hours"}
              memory: {traim: 8G}
            """
        do {
            _ = try project.experiment(yaml)
            XCTFail("accepted a bad executor section")
        } catch let e as SpecError {
            let text = e.description
            XCTAssertTrue(text.contains("exp.yaml:7:3: error: executor.partiton"), text)
            XCTAssertTrue(text.contains("did you mean `partition`?"), text)
            XCTAssertTrue(text.contains("executor.time.train") && text.contains("Slurm time limit"), text)
            XCTAssertTrue(text.contains("executor.memory.traim"), text)
        }
    }

    func testExecutorSectionIsNotPartOfAnyKey() throws {
        let plain = try Planner.plan(try project.experiment(minimalSpec))
        let withExecutor = try Planner.plan(try project.experiment(minimalSpec + "\nexecutor: {partition: gpu, cpus: 8}\n"))
        XCTAssertEqual(plain.stages.map(\.key), withExecutor.stages.map(\.key))
    }

    func testGCKeepsTheFoldersOfJobsStillRunningOrNotCollected() throws {
        let store = try Store(url: project.storeURL)
        func job(_ name: String, state: String) throws -> URL {
            let dir = store.artifactDirectory.appendingPathComponent("jobs/\(name)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            _ = try store.insertJob(JobRecord(key: name, label: name, executor: "slurm", name: name, jobDir: dir.path,
                                              state: state, attempt: 1, runID: nil))
            return dir
        }
        let running = try job("a", state: "RUNNING"), done = try job("b", state: "COMPLETED")
        let failed = try job("c", state: "TIMEOUT")
        let orphans = Set(try GarbageCollector.orphanFolders(store: store).map(\.url.standardizedFileURL.path))
        XCTAssertFalse(orphans.contains(running.standardizedFileURL.path))
        XCTAssertFalse(orphans.contains(done.standardizedFileURL.path), "a finished job no coordinator collected yet")
        XCTAssertTrue(orphans.contains(failed.standardizedFileURL.path))
    }

    func testNodeLocalArtifactDirectoryIsRefusedOnAMultiNodeCluster() throws {
        XCTAssertThrowsError(try SlurmExecutor.checkShared(URL(fileURLWithPath: "/tmp/p/.stepwise/artifacts"), nodes: 4, what: "the artifact directory")) {
            XCTAssertTrue("\($0)".contains("node-local"), "\($0)")
        }
        XCTAssertNoThrow(try SlurmExecutor.checkShared(URL(fileURLWithPath: "/tmp/p/.stepwise/artifacts"), nodes: 1, what: "the artifact directory"))
        XCTAssertNoThrow(try SlurmExecutor.checkShared(URL(fileURLWithPath: "/work/p/.stepwise/artifacts"), nodes: 4, what: "the artifact directory"))
        if SlurmExecutor.fileSystemType(of: "/dev/shm") == "tmpfs" {
            XCTAssertThrowsError(try SlurmExecutor.checkShared(URL(fileURLWithPath: "/dev/shm/p/artifacts"), nodes: 2, what: "x"))
        }
        XCTAssertNotNil(SlurmExecutor.fileSystemType(of: "/"))
    }
}
