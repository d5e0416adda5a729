import XCTest
@testable import Stepwise

/// The paper's released layout through the whole pipeline: dataset → annotate (replay) → teacher row.
final class ReplayPipelineTests: XCTestCase {
    var project: TempProject!
    override func setUpWithError() throws { project = try TempProject() }
    override func tearDown() { project.remove() }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/paper/svamp")

    func copySvamp() throws {
        let dest = project.root.appendingPathComponent("datasets/svamp")
        try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.fixtures, to: dest)
    }

    static let spec = """
        name: svamp-replay
        dataset: {kind: svamp, path: datasets/svamp}
        teacher: {kind: replay, path: datasets/svamp/llm}
        methods:
          few_shot_cot: {}
        """

    func testReplayTeacherRowComesFromTheReleasedOutputs() throws {
        try copySvamp()
        let spec = try project.write(Self.spec)
        let r = try CLI.run(["run", spec], cwd: project.root)
        XCTAssertEqual(r.status, 0, r.stderr)
        let csv = try String(contentsOf: project.root.appendingPathComponent("Results/svamp-replay/results.csv"), encoding: .utf8)
        let row = try XCTUnwrap(csv.split(separator: "\n").dropFirst().first)
        XCTAssertTrue(row.hasPrefix("few_shot_cot,teacher,,,,test,equation,"), String(row))
    }

    func testEditingTheDataChangesTheDatasetKey() throws {
        try copySvamp()
        let e1 = try project.experiment(Self.spec)
        let k1 = try Planner.plan(e1).stages[0].key
        let file = project.root.appendingPathComponent("datasets/svamp/svamp_test.json")
        var text = try String(contentsOf: file, encoding: .utf8)
        text += #"{"input": "Ann has 2 cats and 2 dogs. How many pets?", "label": "( 2.0 + 2.0 )"}"# + "\n"
        try text.write(to: file, atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try Planner.plan(try project.experiment(Self.spec)).stages[0].key, k1)
    }

    func testMissingTeacherOutputsFailOneBranchAndNameTheFile() throws {
        try copySvamp()
        for chunk in ["train_CoT_0.json", "train_CoT_1.json"] {
            try FileManager.default.removeItem(at: project.root.appendingPathComponent("datasets/svamp/llm/\(chunk)"))
        }
        let spec = try project.write(Self.spec + "\n  task_distillation: {}\n")
        let r = try CLI.run(["run", spec], cwd: project.root)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("Failed stages:"), r.stderr)
        XCTAssertTrue(r.stderr.contains("annotate[replay train]"), r.stderr)
        XCTAssertTrue(r.stderr.contains("train_CoT_0.json"), r.stderr)
        XCTAssertTrue(r.stdout.contains("1 failed"), r.stdout)
        // The teacher's test row is on an independent branch and finished.
        let e = try project.experiment(Self.spec + "\n  task_distillation: {}\n")
        let keys = try Store(url: project.storeURL).allKeys()
        let teacherEval = try XCTUnwrap(try Planner.plan(e).stages.first { $0.kind == .teacherEval })
        XCTAssertTrue(keys.contains(teacherEval.key))
    }

    func testBadDatasetRowIsReportedWithFileAndLine() throws {
        try copySvamp()
        let file = project.root.appendingPathComponent("datasets/svamp/svamp_train.json")
        var text = try String(contentsOf: file, encoding: .utf8)
        text += "{\"input\": \"broken\"\n"
        try text.write(to: file, atomically: true, encoding: .utf8)
        let r = try CLI.run(["run", try project.write(Self.spec)], cwd: project.root)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("svamp_train.json:5"), r.stderr)
    }

    func testReplayNeedsAPaperDataset() throws {
        XCTAssertThrowsError(try project.experiment("""
            dataset: {kind: synthetic-arith}
            teacher: {kind: replay, path: .}
            methods: {few_shot_cot: {}}
            """)) { error in
            XCTAssertTrue("\(error)".contains("replay teacher reads the paper's released outputs"), "\(error)")
        }
    }
}
