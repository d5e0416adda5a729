import XCTest
@testable import Stepwise

/// Which targets each method of the registry trains on (DESIGN.md's method table), and that the
/// spec, the plan and results.csv tell a method's variants apart.
final class MethodRegistryTests: XCTestCase {
    let examples = [
        Example(id: "train-0", input: "Luke scored 84 points in 2 rounds.", label: "( 84 / 2 )"),
        Example(id: "train-1", input: "Ann has 3 cats and 4 dogs.", label: "( 3 + 4 )"),
    ]
    let annotations: [String: Annotation] = [
        "train-0": Annotation(id: "train-0", raw: "…", rationale: "84 / 2 = 42.", label: "( 84 * 2 )", parsed: true),
        "train-1": Annotation(id: "train-1", raw: "garbled", rationale: "", label: "", parsed: false),
    ]

    func variant(lambda: Double? = nil, labels: String? = nil) -> MethodVariant {
        var v = MethodVariant()
        if let lambda { v.values["lambda"] = .number(lambda) }
        if let labels { v.values["labels"] = .string(labels) }
        return v
    }

    func testStandardFinetuneLearnsGoldLabels() throws {
        let s = try StandardFinetune.streams(variant(), examples: examples, annotations: [:], format: .stepwise)
        XCTAssertEqual(s, [.init(name: "label", inputs: examples.map(\.input), targets: ["( 84 / 2 )", "( 3 + 4 )"], weight: 1)])
    }

    func testTaskDistillationLearnsTeacherLabelsAndDropsUnparsed() throws {
        let s = try TaskDistillation.streams(variant(), examples: examples, annotations: annotations, format: .stepwise)
        XCTAssertEqual(s.count, 1)
        XCTAssertEqual(s[0].targets, ["( 84 * 2 )"])
        XCTAssertEqual(s[0].inputs, [examples[0].input])
    }

    func testDistillStepByStepHasTwoPrefixedTasksWeightedByLambda() throws {
        let s = try DistillStepByStep.streams(variant(lambda: 0.5, labels: "gold"), examples: examples, annotations: annotations, format: .stepwise)
        XCTAssertEqual(s.map(\.name), ["label", "rationale"])
        XCTAssertEqual(s[0].inputs.first, "[label] Luke scored 84 points in 2 rounds.")
        XCTAssertEqual(s[0].targets, ["( 84 / 2 )", "( 3 + 4 )"], "gold labels for every example")
        XCTAssertEqual(s[0].weight, 1)
        XCTAssertEqual(s[1].inputs, ["[rationale] Luke scored 84 points in 2 rounds."])
        XCTAssertEqual(s[1].targets, ["84 / 2 = 42."])
        XCTAssertEqual(s[1].weight, 0.5)

        let teacherLabels = try DistillStepByStep.streams(variant(lambda: 1, labels: "teacher"), examples: examples, annotations: annotations, format: .stepwise)
        XCTAssertEqual(teacherLabels[0].targets, ["( 84 * 2 )"])
    }

    func testSingleTaskWritesRationaleThenAnswer() throws {
        let s = try SingleTask.streams(variant(labels: "teacher"), examples: examples, annotations: annotations, format: .stepwise)
        XCTAssertEqual(s[0].targets, ["84 / 2 = 42. So the answer is ( 84 * 2 )."])
        XCTAssertEqual(SingleTask.prediction(variant(), output: "84 / 2 = 42. So the answer is ( 84 / 2 )."), "( 84 / 2 )")
        XCTAssertEqual(SingleTask.prediction(variant(), output: "no marker"), "")
    }

    func testOnlyDistillStepByStepPrefixesTestInputs() {
        XCTAssertEqual(DistillStepByStep.testInput(variant(), examples[0], format: .stepwise), "[label] \(examples[0].input)")
        XCTAssertEqual(TaskDistillation.testInput(variant(), examples[0], format: .stepwise), examples[0].input)
    }

    /// Pretrained students read the paper's code's inputs: `predict: ` / `explain: `, NLI
    /// premise and hypothesis joined by `</s>`, every input ending with `</s>`; single-task rows
    /// read x alone. From-scratch students keep `[label]` / `[rationale]`.
    func testPretrainedStudentsReadThePapersInputFormat() throws {
        let nli = [Example(id: "train-0", input: PaperDatasetLoader.nliInput(premise: "A man sleeps.", hypothesis: "A person rests."),
                           label: "entailment")]
        let notes = ["train-0": Annotation(id: "train-0", raw: "…", rationale: "Sleeping is resting.", label: "entailment", parsed: true)]
        let paper = StudentKind.pretrained.inputFormat(dataset: .esnli)
        XCTAssertTrue(paper.inputEndsWithEOS)
        let s = try DistillStepByStep.streams(variant(lambda: 1, labels: "gold"), examples: nli, annotations: notes, format: paper)
        XCTAssertEqual(s[0].inputs, ["predict: A man sleeps.</s>A person rests."])
        XCTAssertEqual(s[1].inputs, ["explain: A man sleeps.</s>A person rests."])
        XCTAssertEqual(DistillStepByStep.testInput(variant(), nli[0], format: paper), "predict: A man sleeps.</s>A person rests.")
        XCTAssertEqual(StandardFinetune.testInput(variant(), nli[0], format: paper), "A man sleeps.</s>A person rests.")
        XCTAssertEqual(try StandardFinetune.streams(variant(), examples: nli, annotations: [:], format: paper)[0].inputs,
                       ["A man sleeps.</s>A person rests."])
        // Other datasets keep their text; the from-scratch format is unchanged.
        let svamp = StudentKind.pretrained.inputFormat(dataset: .svamp)
        XCTAssertEqual(DistillStepByStep.testInput(variant(), examples[0], format: svamp), "predict: \(examples[0].input)")
        XCTAssertEqual(StudentKind.fromScratch.inputFormat(dataset: .esnli), .stepwise)
        XCTAssertEqual(StudentInputFormat.stepwise.input(nli[0]), nli[0].input)
        XCTAssertFalse(StudentInputFormat.stepwise.inputEndsWithEOS)
        // A premise holding the hypothesis marker's words still splits at the last marker.
        XCTAssertEqual(PaperDatasetLoader.nliParts(PaperDatasetLoader.nliInput(premise: "P\nHypothesis: x", hypothesis: "H"))?.hypothesis, "H")
        XCTAssertNil(PaperDatasetLoader.nliParts("no premise here"))
    }

    func testEveryRegisteredMethodHasAUniqueName() {
        XCTAssertEqual(Set(MethodRegistry.names).count, MethodRegistry.all.count)
        XCTAssertNotNil(MethodRegistry.named("distill_step_by_step"))
        XCTAssertNil(MethodRegistry.named("nope"))
    }

    /// Both label sources of single_task are planned, trained and reported as separate rows
    /// (they used to collide on the report's input role and one was silently dropped).
    func testTwoVariantsOfOneMethodAreSeparateStagesAndRows() throws {
        let project = try TempProject()
        defer { project.remove() }
        let e = try project.experiment("""
            name: variants
            dataset: {kind: synthetic-arith, train_size: 64, valid_size: 16, test_size: 32, seed: 1}
            teacher: {kind: synthetic, error_rate: 0.2, seed: 3}
            student:
              sizes: {tiny: {d_model: 16, layers: 1, heads: 2, d_ff: 32}}
            methods:
              single_task: {labels: [gold, teacher]}
            """)
        let plan = try Planner.plan(e)
        let trains = plan.stages.filter { $0.kind == .train }
        XCTAssertEqual(Set(trains.compactMap { $0.cell?.labels }), ["gold", "teacher"])
        let report = plan.stages[plan.reportIndex!]
        XCTAssertEqual(report.inputs.filter { plan.stages[$0.index].kind == .evaluate }.count, 2, "both evaluations reach the report")
        let rows = ["gold", "teacher"].map { labels in
            ResultRow(EvaluationArtifact(method: "single_task", size: "tiny", dataFraction: 1,
                                         options: MethodVariant(["labels": .string(labels)]), seed: 0, split: "test",
                                         metric: "equation", value: 0.5, count: 10))
        }
        XCTAssertNotEqual(rows[0].csvLine, rows[1].csvLine)
        XCTAssertTrue(rows[0].csvLine.hasSuffix("single_task,tiny,1,,0,test,equation,0.500000,labels=gold") && rows[0].csvLine.hasPrefix("single_task,tiny,"), rows[0].csvLine)
        XCTAssertNotEqual(rows[0].displayName, rows[1].displayName)
    }
}
