import XCTest
@testable import Stepwise

/// PINTO: the student reads the teacher's rationale on every split (test included, so the
/// teacher is needed at deployment and the report says so), and its counterfactual stream.
final class PINTOMethodTests: XCTestCase {
    let cqa = [
        Example(id: "train-0", input: "Where is a river?\nAnswer Choices:\n(a) bank\n(b) desk\n(c) sky", label: "bank"),
        Example(id: "train-1", input: "What is cold?\nAnswer Choices:\n(a) fire\n(b) ice\n(c) sun", label: "ice"),
    ]
    let annotations: [String: Annotation] = [
        "train-0": Annotation(id: "train-0", raw: "…", rationale: "Rivers run between two banks of earth and mud.", label: "bank", parsed: true),
        "train-1": Annotation(id: "train-1", raw: "garbled", rationale: "", label: "", parsed: false),
    ]

    func variant(_ counterfactual: Bool) -> MethodVariant { MethodVariant(["counterfactual": .string(counterfactual ? "true" : "false")]) }

    func testTrainsOnInputPlusRationaleAndReadsTheTestRationale() throws {
        let s = try PINTO.streams(variant(false), examples: cqa, annotations: annotations, format: .stepwise)
        XCTAssertEqual(s.map(\.name), ["label"])
        XCTAssertEqual(s[0].inputs, ["\(cqa[0].input) [rationale] Rivers run between two banks of earth and mud.",
                                     "\(cqa[1].input) [rationale] "], "an unparsed teacher output gives no rationale")
        XCTAssertEqual(s[0].targets, ["bank", "ice"], "gold labels")
        let test = Example(id: "test-3", input: "Q?", label: "x")
        let testAnnotation = Annotation(id: "test-3", raw: "…", rationale: "The teacher's test rationale.", label: "x", parsed: true)
        XCTAssertEqual(PINTO.testInput(variant(false), test, format: .stepwise, annotation: testAnnotation), "Q? [rationale] The teacher's test rationale.")
        // Methods that do not read the teacher at test time ignore an annotation.
        XCTAssertEqual(StandardFinetune.testInput(MethodVariant(), test, format: .stepwise, annotation: testAnnotation), "Q?")
        XCTAssertTrue(PINTO.needsTeacherAtTest)
        XCTAssertEqual(PINTO.teacherSplits, [.train, .valid, .test])
    }

    /// Train reads train and valid annotations (validation decodes with rationales), evaluate
    /// reads the test annotations; the other methods' stages are as before.
    func testPlanWiresEverySplitsAnnotationsToPINTOOnly() throws {
        let project = try TempProject()
        defer { project.remove() }
        let e = try project.experiment("""
            name: pinto-plan
            dataset: {kind: synthetic-arith, train_size: 64, valid_size: 16, test_size: 32, seed: 1}
            teacher: {kind: synthetic, error_rate: 0.2, seed: 3}
            student:
              sizes: {tiny: {d_model: 16, layers: 1, heads: 2, d_ff: 32}}
            methods:
              standard_finetune: {}
              pinto: {}
            """)
        let plan = try Planner.plan(e)
        func roles(_ kind: StageKind, _ method: String) -> Set<String> {
            Set(plan.stages.first { $0.kind == kind && $0.cell?.method == method }!.inputs.map(\.role))
        }
        XCTAssertEqual(roles(.train, "pinto"), ["dataset", "subsample", "tokenizer", "annotate_train", "annotate_valid"])
        XCTAssertEqual(roles(.evaluate, "pinto"), ["dataset", "train", "annotate_test"])
        XCTAssertEqual(roles(.train, "standard_finetune"), ["dataset", "subsample", "tokenizer"])
        XCTAssertEqual(roles(.evaluate, "standard_finetune"), ["dataset", "train"])
        XCTAssertEqual(plan.stages.filter { $0.kind == .annotate }.count, 3, "train, valid and test annotated")
    }

    /// `plan`'s cost estimate counts the counterfactual stream: a second batch every step.
    func testTheCostEstimateCountsTheCounterfactualStream() throws {
        let project = try TempProject()
        defer { project.remove() }
        let e = try project.experiment("""
            name: pinto-cost
            dataset: {kind: synthetic-arith, train_size: 64, valid_size: 16, test_size: 32, seed: 1, choices: 3}
            teacher: {kind: synthetic, error_rate: 0.2, seed: 3}
            student:
              sizes: {tiny: {d_model: 16, layers: 1, heads: 2, d_ff: 32}}
            methods:
              standard_finetune: {}
              pinto: {counterfactual: [false, true]}
            """)
        let trains = try Planner.plan(e).stages.filter { $0.kind == .train }
        func cost(_ method: String, _ counterfactual: String?) throws -> Double {
            try XCTUnwrap(trains.first { $0.cell?.method == method && $0.cell?.variant.string("counterfactual") == counterfactual }).work.cost
        }
        XCTAssertGreaterThan(try cost("standard_finetune", nil), 0)
        XCTAssertEqual(try cost("pinto", "false"), try cost("standard_finetune", nil))
        XCTAssertEqual(try cost("pinto", "true"), 2 * (try cost("standard_finetune", nil)))
    }

    /// 30 % of the words (rounded) replaced, each by another word, the same way every time.
    func testCounterfactualPerturbationIsDeterministicAndReplacesThirtyPercent() {
        let words = (0..<20).map { "w\($0)" }
        let rationale = words.joined(separator: " ")
        let vocabulary = ["alpha", "beta", "gamma", "w3"]
        let a = PINTO.perturbed(rationale, id: "train-7", vocabulary: vocabulary)
        XCTAssertEqual(a, PINTO.perturbed(rationale, id: "train-7", vocabulary: vocabulary))
        let out = a.split(separator: " ").map(String.init)
        XCTAssertEqual(out.count, 20)
        XCTAssertEqual(zip(words, out).filter { $0 != $1 }.count, 6, a)
        XCTAssertTrue(zip(words, out).allSatisfy { $0 == $1 || vocabulary.contains($1) })
        XCTAssertNotEqual(a, PINTO.perturbed(rationale, id: "train-8", vocabulary: vocabulary), "seeded by the example")
        XCTAssertEqual(PINTO.perturbed("one two three", id: "x", vocabulary: ["zz"]).split(separator: " ").filter { $0 == "zz" }.count, 1)
    }

    /// The counterfactual stream: perturbed inputs toward the uniform distribution over the
    /// choices, loss weight 1; only examples with a rationale; open answers are an error.
    func testCounterfactualStreamTargetsTheUniformLabelDistribution() throws {
        let s = try PINTO.streams(variant(true), examples: cqa, annotations: annotations, format: .stepwise)
        XCTAssertEqual(s.map(\.name), ["label", "counterfactual"])
        let cf = s[1]
        XCTAssertEqual(cf.weight, 1)
        XCTAssertEqual(cf.targets, ["bank", "desk", "sky"])
        XCTAssertEqual(cf.exampleWeights, [1.0 / 3, 1.0 / 3, 1.0 / 3])
        XCTAssertEqual(Set(cf.inputs).count, 1)
        XCTAssertNotEqual(cf.inputs[0], s[0].inputs[0], "the rationale is perturbed")
        XCTAssertTrue(cf.inputs[0].hasPrefix(cqa[0].input + " [rationale] "))
        XCTAssertEqual(try PINTO.streams(variant(true), examples: cqa, annotations: annotations, format: .stepwise), s, "deterministic")
        let open = [Example(id: "train-0", input: "Ann has 3 cats.", label: "( 3 )")]
        XCTAssertThrowsError(try PINTO.streams(variant(true), examples: open, annotations: annotations, format: .stepwise)) { error in
            XCTAssertTrue("\(error)".contains("label set"), "\(error)")
        }
    }

    /// The row carries the flag through the Markdown table, LaTeX and figures, by the method's
    /// `needsTeacherAtTest` alone.
    func testReportRowsCarryTheTeacherAtTestFlag() throws {
        func row(_ method: String, _ options: [String: JSONValue], _ fraction: Double) -> ResultRow {
            ResultRow(EvaluationArtifact(method: method, size: "t", dataFraction: fraction, options: MethodVariant(options),
                                         seed: 0, split: "test", metric: "equation", value: 0.5, count: 10))
        }
        let rows = [0.5, 1].flatMap { f in [row("pinto", ["counterfactual": .string("false")], f), row("standard_finetune", [:], f)] }
        XCTAssertEqual(rows[0].group.labelledName, "pinto (no counterfactual) †")
        XCTAssertEqual(rows[1].group.labelledName, "standard_finetune")
        let project = try TempProject()
        defer { project.remove() }
        let context = ReportContext(try project.experiment("""
            name: flags
            dataset: {kind: synthetic-arith, train_size: 64, valid_size: 16, test_size: 32}
            teacher: {kind: synthetic}
            student:
              sizes: {t: {d_model: 16, layers: 1, heads: 2, d_ff: 32}}
            methods:
              standard_finetune: {}
              pinto: {}
            sweep: {data_fraction: [0.5, 1.0]}
            """))
        let md = MarkdownReport(context: context, rows: rows, missing: []).render()
        XCTAssertTrue(md.contains("| pinto (no counterfactual) † |"), md)
        XCTAssertTrue(md.contains("| standard_finetune |"), md)
        XCTAssertTrue(md.contains(ResultGroup.teacherAtTestNote), md)
        let tex = LatexTable(context: context, rows: rows).render()
        XCTAssertTrue(tex.contains("pinto (no counterfactual)$^\\dagger$"), tex)
        XCTAssertTrue(tex.contains("\\footnotesize $^\\dagger$ needs the teacher at test time"), tex)
        let svg = Figures.dataSize(title: "x", metric: "equation", size: "t", rows: rows, arms: nil)
        XCTAssertTrue(svg.contains(">pinto (no counterfactual) †<"), svg)
        let plain = MarkdownReport(context: context, rows: rows.filter { $0.method != "pinto" }, missing: []).render()
        XCTAssertFalse(plain.contains("†"), "no note without such a row")
    }
}
