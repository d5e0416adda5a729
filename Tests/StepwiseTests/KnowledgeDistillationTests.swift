import XCTest
@testable import Stepwise

/// `knowledge_distillation` from an embedded teacher: the spec's options and their errors, the
/// teacher's train stage in the plan (one stage shared with the same cell of the teacher's
/// method), the keys, and the method end to end — α = 0 trains standard fine-tuning's weights
/// bit for bit, and the rows reach results.csv, report.md and the claims.
final class KnowledgeDistillationTests: XCTestCase {
    var project: TempProject!
    override func setUpWithError() throws { project = try TempProject() }
    override func tearDown() { project.remove() }

    static func spec(methods: String, sweep: String = "sweep: {data_fraction: [0.5]}", sizes: String? = nil) -> String {
        """
        name: kd
        dataset: {kind: synthetic-arith, train_size: 48, valid_size: 8, test_size: 16}
        teacher: {kind: synthetic, error_rate: 0.2}
        student:
          tokenizer: {kind: bpe, vocab: 200}
          sizes:
        \(sizes ?? "    s: {d_model: 16, layers: 1, heads: 2, d_ff: 32}\n    big: {d_model: 32, layers: 1, heads: 2, d_ff: 64}")
        train: {steps: 4, batch_size: 8, eval_every: 2, max_target_length: 16, seeds: [0, 1]}
        methods:
        \(methods)
        \(sweep)
        """
    }

    func issues(_ yaml: String, line: UInt = #line) throws -> [SpecIssue] { try project.issues(yaml, line: line) }

    func testTheTeachersTrainStageIsSharedWithTheSweptTeacherMethod() throws {
        let e = try project.experiment(Self.spec(methods: """
              standard_finetune: {}
              knowledge_distillation: {teacher_size: big, alpha: [0.5, 0.9]}
            """, sweep: "sweep: {data_fraction: [0.5], size: [s, big]}"))
        let plan = try Planner.plan(e)
        let trains = plan.stages.filter { $0.kind == .train }
        // standard_finetune at s and big, KD (2 α) at s and big, per seed: the teacher is big's standard_finetune stage.
        XCTAssertEqual(trains.count, 2 * (2 + 4), trains.map(\.label).joined(separator: "\n"))
        XCTAssertEqual(Set(trains.map(\.key)).count, trains.count)
        for seed in [0, 1] {
            let teacher = try XCTUnwrap(plan.stages.firstIndex { $0.label == "train[standard_finetune big f=0.5 seed=\(seed)]" })
            let kd = trains.filter { $0.cell?.method == "knowledge_distillation" && $0.cell?.seed == seed }
            XCTAssertEqual(kd.count, 4)
            for stage in kd { XCTAssertEqual(stage.inputs.first { $0.role == "teacher" }?.index, teacher, stage.label) }
        }
        // Not swept: the teacher still trains (one stage per fraction and seed) but is no row of the report.
        let unswept = try Planner.plan(try project.experiment(Self.spec(methods: """
              knowledge_distillation: {teacher_size: big}
            """, sweep: "sweep: {data_fraction: [0.5], size: [s]}"), name: "unswept"))
        XCTAssertEqual(unswept.stages.filter { $0.kind == .train }.map(\.label).sorted(),
                       ["train[knowledge_distillation s f=0.5 alpha=0.5 sequence=gold teacher_method=standard_finetune teacher_size=big temperature=2 seed=0]",
                        "train[knowledge_distillation s f=0.5 alpha=0.5 sequence=gold teacher_method=standard_finetune teacher_size=big temperature=2 seed=1]",
                        "train[standard_finetune big f=0.5 seed=0]", "train[standard_finetune big f=0.5 seed=1]"])
        XCTAssertEqual(unswept.stages.filter { $0.kind == .evaluate }.count, 2)
        // A teacher method that learns from the LLM teacher gets the train split annotated.
        let viaTeacher = try Planner.plan(try project.experiment(Self.spec(methods: """
              knowledge_distillation: {teacher_size: big, teacher_method: distill_step_by_step}
            """, sweep: "sweep: {data_fraction: [0.5], size: [s]}"), name: "dss"))
        XCTAssertTrue(viaTeacher.stages.contains { $0.label.hasPrefix("annotate[synthetic train]") })
        let dssTeacher = try XCTUnwrap(viaTeacher.stages.first { $0.label.hasPrefix("train[distill_step_by_step big") })
        XCTAssertTrue(dssTeacher.inputs.contains { $0.role == "annotate_train" })
    }

    /// The KD student's key follows α, T, the teacher's size and method and the sequence option;
    /// the teacher's stage key does not move with the student's options.
    func testKeyChangesWithEveryOption() throws {
        func keys(_ options: String) throws -> (student: String, teacher: String) {
            let plan = try Planner.plan(try project.experiment(Self.spec(methods: "  knowledge_distillation: \(options)",
                                                                         sweep: "sweep: {data_fraction: [0.5], size: [s], seed: [0]}"),
                                                               name: "k\(abs(options.hashValue))"))
            let student = try XCTUnwrap(plan.stages.first { $0.cell?.method == "knowledge_distillation" && $0.kind == .train })
            let teacher = try XCTUnwrap(student.inputs.first { $0.role == "teacher" })
            return (student.key, plan.stages[teacher.index].key)
        }
        let base = try keys("{teacher_size: big}")
        let variants = ["{teacher_size: big, alpha: 0.3}", "{teacher_size: big, temperature: 4}", "{teacher_size: s}",
                        "{teacher_size: big, teacher_method: task_distillation}", "{teacher_size: big, sequence: teacher}"]
        var seen = Set([base.student])
        for v in variants {
            let k = try keys(v)
            XCTAssertTrue(seen.insert(k.student).inserted, "\(v) must change the student's key")
            if !v.contains("teacher_size: s") && !v.contains("teacher_method") { XCTAssertEqual(k.teacher, base.teacher, v) }
        }
        XCTAssertEqual(try keys("{teacher_size: big, alpha: 0.5, temperature: 2, sequence: gold}").student, base.student, "defaults written out")
    }

    func testBadTeacherOptionsArePositionedErrors() throws {
        let undeclared = try issues(Self.spec(methods: "  knowledge_distillation: {teacher_size: huge}"))
        XCTAssertEqual(undeclared.map(\.path), ["methods.knowledge_distillation.teacher_size"])
        XCTAssertTrue(undeclared[0].message.contains("size `huge` is not declared under student.sizes (declared: `s`, `big`)"), undeclared[0].message)
        XCTAssertEqual(undeclared[0].line, 11)

        let missing = try issues(Self.spec(methods: "  knowledge_distillation: {alpha: 0.5}"))
        XCTAssertEqual(missing.map(\.path), ["methods.knowledge_distillation.teacher_size"])
        XCTAssertTrue(missing[0].message.contains("missing required option `teacher_size`"), missing[0].message)

        let method = try issues(Self.spec(methods: "  knowledge_distillation: {teacher_size: big, teacher_method: pinto}"))
        XCTAssertEqual(method.map(\.path), ["methods.knowledge_distillation.teacher_method"])
        XCTAssertTrue(method[0].message.contains("`standard_finetune`"), method[0].message)
        XCTAssertFalse(method[0].message.contains("`pinto`,"), "PINTO needs the LLM at test: no teacher student")

        let sweptSize = try issues(Self.spec(methods: "  knowledge_distillation: {}", sweep: "sweep: {teacher_size: [big, nope]}"))
        XCTAssertEqual(sweptSize.map(\.path), ["sweep.teacher_size"])

        // A pretrained teacher for a from-scratch student: no shared tokenizer.
        let mixed = try issues(Self.spec(methods: "  knowledge_distillation: {teacher_size: t5}",
                                         sweep: "sweep: {size: [s]}",
                                         sizes: "    s: {d_model: 16, layers: 1, heads: 2, d_ff: 32}\n    t5: {init: /nonexistent/t5-small}"))
        XCTAssertEqual(mixed.map(\.path), ["methods.knowledge_distillation.teacher_size"])
        XCTAssertTrue(mixed[0].message.contains("the teacher size `t5` is pretrained but the swept size `s` is trained from scratch"), mixed[0].message)
        XCTAssertEqual(mixed[0].line, 11)
    }

    func artifact(_ stage: Stage) throws -> URL {
        guard case .folder(let url)? = try Store(url: project.storeURL).location(stage.key) else {
            throw StepwiseError("\(stage.label) is not a folder artifact")
        }
        return url
    }

    /// The method end to end: α = 0 is standard fine-tuning bit for bit (the same weights file),
    /// α > 0 on gold and on the teacher's sequences trains other weights, and every row reaches
    /// results.csv, report.md and claims.json through the registry alone.
    func testEndToEndIntoTheReportAndAlphaZeroIsStandardFinetune() throws {
        let spec = try project.write(Self.spec(methods: """
              standard_finetune: {}
              knowledge_distillation: {teacher_size: big, alpha: [0, 0.5], sequence: [gold, teacher]}
            """, sweep: """
            sweep: {data_fraction: [0.5], size: [s]}
            claims:
              - knowledge_distillation >= standard_finetune at every data_fraction
            """))
        let r = try CLI.run(["run", spec, "--jobs", "2"], cwd: project.root)
        XCTAssertEqual(r.status, 0, r.stderr)
        let plan = try Planner.plan(try SpecParser.load(file: spec, root: project.root))
        for seed in [0, 1] {
            let cells = plan.stages.filter { $0.kind == .train && $0.cell?.seed == seed && $0.cell?.size == "s" }
            let standard = try XCTUnwrap(cells.first { $0.cell?.method == "standard_finetune" })
            let zero = try XCTUnwrap(cells.first { $0.cell?.variant.double("alpha") == 0 && $0.cell?.variant.string("sequence") == "gold" })
            let half = try XCTUnwrap(cells.first { $0.cell?.variant.double("alpha") == 0.5 && $0.cell?.variant.string("sequence") == "gold" })
            let weights = { (s: Stage) in try Data(contentsOf: try self.artifact(s).appendingPathComponent("model.safetensors")) }
            XCTAssertEqual(try weights(zero), try weights(standard), "α = 0 is standard fine-tuning, seed \(seed)")
            XCTAssertNotEqual(try weights(half), try weights(standard), "α = 0.5 learns from the teacher, seed \(seed)")
        }
        let results = project.root.appendingPathComponent("Results/kd")
        let csv = try String(contentsOf: results.appendingPathComponent("results.csv"), encoding: .utf8)
        for variant in ["alpha=0.5;sequence=gold;teacher_method=standard_finetune;teacher_size=big;temperature=2",
                        "alpha=0.5;sequence=teacher;teacher_method=standard_finetune;teacher_size=big;temperature=2"] {
            XCTAssertTrue(csv.contains("knowledge_distillation,s,0.5,,0,test,equation,") && csv.contains(variant), csv)
        }
        XCTAssertFalse(csv.contains("standard_finetune,big"), "the unswept teacher is no row")
        let md = try String(contentsOf: results.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("| knowledge_distillation (α=0.5, on teacher outputs, by standard_finetune, teacher big, T=2) |"), md)
        let claims = try String(contentsOf: results.appendingPathComponent("claims.json"), encoding: .utf8)
        XCTAssertTrue(claims.contains("knowledge_distillation >= standard_finetune"), claims)
    }

    func testLossesByNameAreValidatedWithPositions() throws {
        func kd(_ options: String) -> String { Self.spec(methods: "  knowledge_distillation: {teacher_size: big, \(options)}") }
        let unknown = try issues(kd("losses: {ce: 1, kll: 0.5}"))
        XCTAssertEqual(unknown.map(\.path), ["methods.knowledge_distillation.losses.kll"])
        XCTAssertEqual(unknown.first?.suggestion, "kl")
        XCTAssertTrue(unknown.first?.message.contains("`ce`, `kl`, `cosine`, `mse`") ?? false, unknown.first?.message ?? "")
        XCTAssertEqual(unknown.first?.line, 11)
        XCTAssertEqual(try issues(kd("losses: {ce: 1, cosine: 0.1, mse: 0.1}")).map(\.path), ["methods.knowledge_distillation.losses"])
        XCTAssertEqual(try issues(kd("losses: {ce: -1, kl: 1}")).map(\.path), ["methods.knowledge_distillation.losses.ce"])
        XCTAssertEqual(try issues(kd("losses: {ce: 0, kl: 0}")).map(\.path), ["methods.knowledge_distillation.losses"])
        let both = try issues(kd("alpha: 0.3, losses: {ce: 1}"))
        XCTAssertEqual(both.map(\.path), ["methods.knowledge_distillation.alpha"])
        XCTAssertTrue(both.first?.message.contains("does not apply when `losses` is given") ?? false)

        let e = try project.experiment(Self.spec(methods: "  knowledge_distillation: {teacher_size: big, losses: [{ce: 1, kl: 0.5, cosine: 0.1}, {ce: 1, kl: 0}]}",
                                                 sweep: "sweep: {size: [s], seed: [0]}"))
        XCTAssertEqual(e.cells.count, 2)
        XCTAssertTrue(e.cells.allSatisfy { $0.variant.values["alpha"] == nil }, "losses replaces alpha")
        let example = Example(id: "train-0", input: "Ann has 3 cats.", label: "( 3 )")
        let distilbert = try KnowledgeDistillation.streams(e.cells[0].variant, examples: [example], annotations: [:], format: .stepwise)
        XCTAssertEqual(distilbert[0].distillation?.ceWeight, 1)
        XCTAssertEqual(distilbert[0].distillation?.klWeight, 0.5)
        XCTAssertEqual(distilbert[0].distillation?.hiddenDistance, "cosine")
        XCTAssertEqual(distilbert[0].distillation?.hiddenWeight, 0.1)
        XCTAssertEqual(e.cells[0].variant.values["losses"]?.plain, "{ce:1 cosine:0.1 kl:0.5}")
        let hinton = try KnowledgeDistillation.streams(MethodVariant(["teacher_size": .string("big"), "alpha": .number(0.25)]),
                                                       examples: [example], annotations: [:], format: .stepwise)
        XCTAssertEqual(hinton[0].distillation?.ceWeight, 0.75)
        XCTAssertNil(hinton[0].distillation?.hiddenDistance)
    }

    /// `hidden_layers` only picks the layers of a cosine or mse term: without one it would change
    /// the key and nothing else, so it is an error at its own key, saying what to add.
    func testHiddenLayersWithoutAHiddenTermIsAPositionedError() throws {
        func kd(_ options: String) -> String { Self.spec(methods: "  knowledge_distillation: {teacher_size: big, \(options)}") }
        for options in ["hidden_layers: uniform", "alpha: 0.5, hidden_layers: final", "losses: {ce: 1, kl: 0.5}, hidden_layers: uniform"] {
            let found = try issues(kd(options))
            XCTAssertEqual(found.map(\.path), ["methods.knowledge_distillation.hidden_layers"], options)
            XCTAssertEqual(found.first?.line, 11, options)
            let written = "  knowledge_distillation: {teacher_size: big, \(options)}"
            XCTAssertEqual(found.first?.column, written.distance(from: written.startIndex, to: written.range(of: "hidden_layers")!.lowerBound) + 1)
            XCTAssertTrue(found.first?.message.contains("`cosine` or `mse` term of `losses`") ?? false, found.first?.message ?? "")
        }
        // Any value of a swept `losses` with a hidden term makes it mean something.
        XCTAssertNoThrow(try project.experiment(kd("losses: {ce: 1, mse: 0.1}, hidden_layers: uniform")))
        XCTAssertNoThrow(try project.experiment(kd("losses: [{ce: 1}, {ce: 1, cosine: 0.1}], hidden_layers: uniform")))
    }

    /// `plan`'s cost estimate counts an embedded teacher's forward pass (a third of a training
    /// step per example, at the teacher's size) on every step of a KD cell.
    func testTheCostEstimateCountsTheTeachersForwardPass() throws {
        let e = try project.experiment(Self.spec(methods: """
              standard_finetune: {}
              knowledge_distillation: {teacher_size: big}
            """, sweep: "sweep: {data_fraction: [0.5], size: [s], seed: [0]}"))
        let plan = try Planner.plan(e)
        func cost(_ method: String, size: String = "s") throws -> Double {
            try XCTUnwrap(plan.stages.first { $0.kind == .train && $0.cell?.method == method && $0.cell?.size == size }).work.cost
        }
        let steps = Double(e.train.steps * e.train.batchSize)
        let s = try XCTUnwrap(e.student.size(named: "s")), big = try XCTUnwrap(e.student.size(named: "big"))
        XCTAssertEqual(try cost("standard_finetune"), steps * TrainStage.weightMultiplyAdds(s))
        XCTAssertEqual(try cost("knowledge_distillation"), steps * (TrainStage.weightMultiplyAdds(s) + TrainStage.weightMultiplyAdds(big) / 3),
                       accuracy: 1e-6 * steps)
        XCTAssertGreaterThan(try cost("standard_finetune", size: "big"), 0, "the teacher's own train stage is planned with its cost")
    }

    /// DistilBERT's three terms by name end to end, and `kl: 0` with `ce: 1` is standard
    /// fine-tuning bit for bit.
    func testLossesByNameEndToEnd() throws {
        let spec = try project.write(Self.spec(methods: """
              standard_finetune: {}
              knowledge_distillation: {teacher_size: big, losses: [{ce: 1, kl: 0}, {ce: 1, kl: 0.5, cosine: 0.1}], hidden_layers: uniform}
            """, sweep: "sweep: {data_fraction: [0.5], size: [s], seed: [0]}"))
        let r = try CLI.run(["run", spec, "--jobs", "2"], cwd: project.root)
        XCTAssertEqual(r.status, 0, r.stderr)
        let plan = try Planner.plan(try SpecParser.load(file: spec, root: project.root))
        let cells = plan.stages.filter { $0.kind == .train && $0.cell?.size == "s" }
        let weights = { (s: Stage) in try Data(contentsOf: try self.artifact(s).appendingPathComponent("model.safetensors")) }
        let standard = try XCTUnwrap(cells.first { $0.cell?.method == "standard_finetune" })
        let zero = try XCTUnwrap(cells.first { $0.cell?.variant.values["losses"]?.plain == "{ce:1 kl:0}" })
        let distilbert = try XCTUnwrap(cells.first { $0.cell?.variant.values["losses"]?.plain == "{ce:1 cosine:0.1 kl:0.5}" })
        XCTAssertEqual(try weights(zero), try weights(standard))
        XCTAssertNotEqual(try weights(distilbert), try weights(standard))
        let md = try String(contentsOf: project.root.appendingPathComponent("Results/kd/report.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("| knowledge_distillation (uniform layers, losses {ce:1 cosine:0.1 kl:0.5}, on gold outputs, by standard_finetune, teacher big, T=2) |"), md)
    }
}
