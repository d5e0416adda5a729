import XCTest
@testable import Stepwise

/// The trainer inside the pipeline: tokenizer → train → evaluate → report, on a tiny student.
final class TrainPipelineTests: XCTestCase {
    func testTinyStudentsTrainEvaluateAndReport() throws {
        let project = try TempProject()
        defer { project.remove() }
        let spec = try project.write("""
            name: tiny
            dataset: {kind: synthetic-arith, train_size: 64, valid_size: 8, test_size: 16}
            teacher: {kind: synthetic, error_rate: 0.2}
            student:
              tokenizer: {kind: bpe, vocab: 200}
              sizes:
                t: {d_model: 16, layers: 1, heads: 2, d_ff: 32}
            train: {steps: 6, batch_size: 8, eval_every: 3, max_input_length: 48, max_target_length: 16}
            methods:
              few_shot_cot: {}
              standard_finetune: {}
              distill_step_by_step: {lambda: 0.5}
            sweep: {data_fraction: [0.5]}
            """)
        let r = try CLI.run(["run", spec, "--jobs", "2"], cwd: project.root)
        XCTAssertEqual(r.status, 0, r.stderr)
        let csv = try String(contentsOf: project.root.appendingPathComponent("Results/tiny/results.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, ResultRow.csvHeader)
        XCTAssertTrue(lines.contains { $0.hasPrefix("standard_finetune,t,0.5,,0,test,equation,") }, csv)
        XCTAssertTrue(lines.contains { $0.hasPrefix("distill_step_by_step,t,0.5,0.5,0,test,equation,") && $0.hasSuffix(",labels=gold") }, csv)
        XCTAssertTrue(lines.contains { $0.hasPrefix("few_shot_cot,teacher,,,,test,equation,") }, csv)

        // The stored checkpoint is a transformers-layout folder; the evaluation used the best validation step.
        let e = try SpecParser.load(file: spec, root: project.root)
        let plan = try Planner.plan(e)
        let store = try Store(url: project.storeURL)
        let train = try XCTUnwrap(plan.stages.first { $0.kind == .train })
        guard case .folder(let folder)? = try store.location(train.key) else { return XCTFail("the checkpoint is a folder artifact") }
        XCTAssertTrue(folder.path.hasPrefix(project.root.appendingPathComponent(".stepwise/artifacts").path), folder.path)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)),
                       ["model.safetensors", "config.json", "tokenizer.json", "training.json"])
        let summary = try JSONDecoder().decode(TrainingSummary.self, from: Data(contentsOf: folder.appendingPathComponent("training.json")))
        XCTAssertEqual(summary.validationCurve.map { Int($0[0]) }, [3, 6], "validation every eval_every steps and at the end")
        XCTAssertTrue([3, 6].contains(summary.bestStep))
        let evaluation = try XCTUnwrap(plan.stages.first { $0.kind == .evaluate })
        let row = try JSONDecoder().decode(EvaluationArtifact.self, from: try XCTUnwrap(try store.payload(evaluation.key)))
        XCTAssertEqual(row.count, 16, "the whole test split, scored once")
        XCTAssertEqual(row.bestStep, summary.bestStep)
        // The kept checkpoint is the first best validation score (selection on validation only).
        let scores = summary.validationCurve.map { $0[1] }
        let firstBest = summary.validationCurve[scores.firstIndex(of: scores.max()!)!][0]
        XCTAssertEqual(summary.bestStep, Int(firstBest))

        // Test predictions are computed once per cell: one evaluate start per cell, and a second
        // run (or a report) starts nothing.
        let cells = plan.stages.filter { $0.kind == .evaluate }
        let starts = try store.startCounts()
        XCTAssertEqual(cells.count, 2)
        for stage in cells { XCTAssertEqual(starts[stage.key], 1, stage.label) }
        let again = try CLI.run(["run", spec], cwd: project.root)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try store.startCounts(), starts)
    }
}
