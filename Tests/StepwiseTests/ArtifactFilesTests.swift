import XCTest
@testable import Stepwise

/// Large artifacts as folders beside the store: what happens when they are deleted, truncated,
/// edited, when the disk fills up, and with a store from before folders existed.
final class ArtifactFilesTests: XCTestCase {
    var project: TempProject!
    override func setUpWithError() throws { project = try TempProject() }
    override func tearDown() { project.remove() }

    func runTiny() throws -> (spec: String, plan: Plan, csv: String) {
        let spec = try project.write(ExecutorConformance.spec)
        let r = try CLI.run(["run", spec, "--jobs", "2"], cwd: project.root)
        XCTAssertEqual(r.status, 0, r.stderr)
        let plan = try Planner.plan(try SpecParser.load(file: spec, root: project.root))
        let csv = try String(contentsOf: project.root.appendingPathComponent("Results/conf/results.csv"), encoding: .utf8)
        return (spec, plan, csv)
    }

    func checkpoint(of stage: Stage) throws -> URL {
        guard case .folder(let url)? = try Store(url: project.storeURL).location(stage.key) else {
            throw StepwiseError("\(stage.label) is not a folder artifact")
        }
        return url
    }

    func testDeletedOrTruncatedCheckpointIsNamedAndItsStageRunsAgain() throws {
        let (spec, plan, csv) = try runTiny()
        let trains = plan.stages.filter { $0.kind == .train }
        let gone = try checkpoint(of: trains[0]), cut = try checkpoint(of: trains[1])
        try FileManager.default.removeItem(at: gone.appendingPathComponent("model.safetensors"))
        let file = try FileHandle(forWritingTo: cut.appendingPathComponent("model.safetensors"))
        try file.truncate(atOffset: 100)
        try file.close()

        let planned = try CLI.run(["plan", spec], cwd: project.root)
        XCTAssertTrue(planned.stdout.contains("problem: \(trains[0].label): artifact folder \(gone.path)"), planned.stdout)
        XCTAssertTrue(planned.stdout.contains("problem: \(trains[1].label): artifact folder \(cut.path)"), planned.stdout)
        XCTAssertTrue(planned.stdout.contains("\(plan.stages.count) stages: \(plan.stages.count - 2) cached, 2 to run"), planned.stdout)

        let again = try CLI.run(["run", spec], cwd: project.root)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("2 ran"), again.stdout)
        let starts = try Store(url: project.storeURL).startCounts()
        for s in plan.stages { XCTAssertEqual(starts[s.key], trains.prefix(2).contains { $0.key == s.key } ? 2 : 1, s.label) }
        XCTAssertEqual(try String(contentsOf: project.root.appendingPathComponent("Results/conf/results.csv"), encoding: .utf8), csv)
        XCTAssertTrue(FileManager.default.fileExists(atPath: try checkpoint(of: trains[0]).appendingPathComponent("model.safetensors").path))
    }

    func testAnEditOfTheSameSizeIsCaughtByVerify() throws {
        let (spec, plan, _) = try runTiny()
        let train = try XCTUnwrap(plan.stages.first { $0.kind == .train })
        let config = try checkpoint(of: train).appendingPathComponent("config.json")
        var bytes = try Data(contentsOf: config)
        bytes[bytes.count / 2] ^= 0x20
        try bytes.write(to: config)

        let quick = try CLI.run(["status", spec], cwd: project.root)
        XCTAssertFalse(quick.stdout.contains("problem:"), "a size check cannot see it: \(quick.stdout)")
        let verified = try CLI.run(["status", spec, "--verify"], cwd: project.root)
        XCTAssertTrue(verified.stdout.contains("problem: \(train.label): artifact folder"), verified.stdout)
        XCTAssertTrue(verified.stdout.contains("does not match its recorded sha256"), verified.stdout)
    }

    /// A full disk while a checkpoint is written: the stage fails naming itself and the file;
    /// what finished is kept; with space again the next run finishes only what is missing.
    func testFullDiskFailsTheStageClearlyAndLosesNothing() throws {
        let artifacts = project.root.appendingPathComponent(".stepwise/artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        guard mountTmpfs(at: artifacts, size: "24k") else {
            throw XCTSkip("cannot mount a small tmpfs here (needs root): the full-disk case is not exercised")
        }
        defer { unmount(artifacts) }
        let spec = try project.write(ExecutorConformance.spec)
        let r = try CLI.run(["run", spec, "--jobs", "1"], cwd: project.root)
        XCTAssertEqual(r.status, 1, r.stdout)
        XCTAssertTrue(r.stderr.contains("train["), r.stderr)
        XCTAssertTrue(r.stderr.contains("No space left on device"), r.stderr)
        XCTAssertTrue(r.stderr.contains(artifacts.path), "names the file: \(r.stderr)")
        let store = try Store(url: project.storeURL)
        let kept = try store.allKeys()
        XCTAssertFalse(kept.isEmpty, "the dataset, subsamples, annotations and tokenizer finished and are kept")
        XCTAssertEqual(try store.integrityCheck(), "ok")

        unmount(artifacts)
        let again = try CLI.run(["run", spec], cwd: project.root)
        XCTAssertEqual(again.status, 0, again.stderr)
        let starts = try store.startCounts()
        for key in kept { XCTAssertEqual(starts[key], 1, "a finished stage ran again") }
    }

    func testAStoreFromBeforeFolderArtifactsIsMigratedAndItsOldCheckpointsCollected() throws {
        let old = try Store(url: project.storeURL, upTo: "v1")
        try old.execute(sql: """
            INSERT INTO artifacts (key, kind, label, params, inputs, payload, size, created, duration)
            VALUES ('deadbeef', 'train', 'train[old]', '{}', '{}', x'53574231', 4, 0, 1)
            """)
        let (_, plan, _) = try runTiny()
        let store = try Store(url: project.storeURL)
        XCTAssertEqual(try store.integrityCheck(), "ok")
        XCTAssertTrue(try store.allKeys().isSuperset(of: plan.stages.map(\.key)))
        let gc = try CLI.run(["gc"], cwd: project.root)
        XCTAssertEqual(gc.status, 0, gc.stderr)
        XCTAssertTrue(gc.stdout.contains("drop deadbeef train train[old] (4 bytes)"), gc.stdout)
        XCTAssertFalse(try store.allKeys().contains("deadbeef"))
    }

    func testGCRemovesUnreachableFoldersAndUnindexedScratch() throws {
        let (spec, plan, _) = try runTiny()
        let train = try XCTUnwrap(plan.stages.first { $0.kind == .train })
        let folder = try checkpoint(of: train)
        let scratch = project.root.appendingPathComponent(".stepwise/artifacts/jobs/leftover/output")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        try Data(count: 1000).write(to: scratch.appendingPathComponent("model.safetensors"))
        // Another spec replaces this one: everything of it becomes unreachable.
        try FileManager.default.removeItem(atPath: spec)
        try project.write(minimalSpec, name: "other")
        let gc = try CLI.run(["gc"], cwd: project.root)
        XCTAssertEqual(gc.status, 0, gc.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path), gc.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.path), gc.stdout)
        XCTAssertTrue(gc.stdout.contains("remove unindexed folder"), gc.stdout)
    }

    func mountTmpfs(at url: URL, size: String) -> Bool {
        guard getuid() == 0 else { return false }
        return shell(["mount", "-t", "tmpfs", "-o", "size=\(size)", "tmpfs", url.path]) == 0
    }

    func unmount(_ url: URL) { _ = shell(["umount", url.path]) }

    func shell(_ args: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }
}
