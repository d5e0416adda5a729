import XCTest
@testable import Stepwise

final class PlanExpansionTests: XCTestCase {
    var project: TempProject!
    override func setUpWithError() throws { project = try TempProject() }
    override func tearDown() { project.remove() }

    static let sweepSpec = """
        name: sweep
        dataset: {kind: synthetic-arith, train_size: 64, valid_size: 16, test_size: 32}
        teacher: {kind: synthetic}
        student:
          sizes:
            a: {d_model: 32, layers: 1, heads: 2, d_ff: 64}
            b: {d_model: 64, layers: 1, heads: 2, d_ff: 128}
            c: {d_model: 64, layers: 2, heads: 2, d_ff: 128}
        train: {steps: 10, seeds: [0, 1]}
        methods:
          few_shot_cot: {}
          standard_finetune: {}
          task_distillation: {}
          distill_step_by_step: {lambda: [0.5, 1.0, 2.0], labels: [gold, teacher]}
        sweep:
          data_fraction: [0.125, 0.25, 0.5, 1.0]
          size: [a, b]
        """

    func testSchedulerStartsTheLongestChainsFirst() throws {
        let plan = try Planner.plan(try project.experiment(Self.sweepSpec))
        let order = StagePriority.launchOrder(plan)
        XCTAssertEqual(order.sorted(), Array(plan.stages.indices), "a permutation of the plan")
        // Everything depends on the dataset; among trained cells the two-stream method on the
        // larger size comes first and single-stream cells of the smaller size last.
        XCTAssertEqual(plan.stages[order[0]].kind, .dataset)
        let trains = order.map { plan.stages[$0] }.filter { $0.kind == .train }.compactMap(\.cell)
        XCTAssertEqual(trains.first?.method, "distill_step_by_step")
        XCTAssertEqual(trains.first?.size, "b")
        XCTAssertEqual(trains.last?.size, "a")
        XCTAssertNotEqual(trains.last?.method, "distill_step_by_step")
        // Each evaluate follows its own train in rank (it is on that train stage's chain).
        for (i, s) in plan.stages.enumerated() where s.kind == .evaluate {
            let train = s.inputs.first { $0.role == "train" }!.index
            XCTAssertLessThan(order.firstIndex(of: train)!, order.firstIndex(of: i)!)
        }
    }

    func testSweepExpansionCounts() throws {
        let e = try project.experiment(Self.sweepSpec)
        // 2 sizes × 4 fractions × 2 seeds = 16 per plain method; dsbs × 3 λ × 2 label sources.
        let cells = e.cells
        XCTAssertEqual(cells.filter { $0.method == "standard_finetune" }.count, 16)
        XCTAssertEqual(cells.filter { $0.method == "task_distillation" }.count, 16)
        XCTAssertEqual(cells.filter { $0.method == "distill_step_by_step" }.count, 16 * 6)
        XCTAssertEqual(cells.count, 128)
        XCTAssertEqual(Set(cells).count, cells.count)

        let plan = try Planner.plan(e)
        func count(_ k: StageKind) -> Int { plan.stages.filter { $0.kind == k }.count }
        XCTAssertEqual(count(.dataset), 1)
        XCTAssertEqual(count(.subsample), 8, "one per (fraction, seed), shared by methods and sizes")
        XCTAssertEqual(count(.annotate), 2, "train (for distillation) and test (for the teacher row)")
        XCTAssertEqual(count(.tokenizer), 1)
        XCTAssertEqual(count(.train), 128)
        XCTAssertEqual(count(.evaluate), 128)
        XCTAssertEqual(count(.teacherEval), 1)
        XCTAssertEqual(count(.report), 1)
        XCTAssertEqual(Set(plan.stages.map(\.key)).count, plan.stages.count, "every stage has its own key")
        for (i, s) in plan.stages.enumerated() {
            XCTAssertTrue(s.inputs.allSatisfy { $0.index < i }, "inputs precede their users")
        }
    }

    func testSweepLambdaOverridesMethodLambda() throws {
        let e = try project.experiment(Self.sweepSpec + "\n  lambda: [0.1]\n  method: [distill_step_by_step]\n  labels: [gold]\n")
        XCTAssertEqual(e.cells.count, 2 * 4 * 2)
        XCTAssertTrue(e.cells.allSatisfy { $0.lambda == 0.1 && $0.labels == "gold" })
        XCTAssertFalse(e.teacherSplits.contains(.test))
    }

    func testTeacherOnlyPlanNeedsNoTrainingStages() throws {
        let plan = try Planner.plan(try project.experiment(minimalSpec))
        XCTAssertEqual(plan.stages.map(\.kind), [.dataset, .annotate, .teacherEval, .report])
    }
}

/// Kinds that build their key JSON by hand (for planning speed) build exactly what the
/// generic encoder would.
final class KeyParamsTests: XCTestCase {
    func testHandBuiltKeyParamsEqualTheEncodersJSON() throws {
        let project = try TempProject()
        defer { project.remove() }
        let plan = try Planner.plan(try project.experiment(PlanExpansionTests.sweepSpec))
        var checked = 0
        for stage in plan.stages where stage.kind == .train || stage.kind == .evaluate {
            let payload = try JSONSerialization.jsonObject(with: try stage.work.encode()) as! [String: Any]
            let params = try JSONSerialization.data(withJSONObject: payload["params"]!)
            let generic: JSONValue
            if stage.kind == .train {
                generic = JSONValue(encoding: try JSONDecoder().decode(TrainStage.Params.self, from: params))
            } else {
                generic = JSONValue(encoding: try JSONDecoder().decode(EvaluateStage.Params.self, from: params))
            }
            XCTAssertEqual(stage.params, generic, stage.label)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 100)
        let cell = Cell(method: "distill_step_by_step", size: "a", dataFraction: 0.25, seed: 2,
                        variant: MethodVariant(["lambda": .number(0.5), "labels": .string("gold")]))
        XCTAssertEqual(cell.json, JSONValue(encoding: cell))
    }
}
