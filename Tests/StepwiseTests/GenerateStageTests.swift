import XCTest
@testable import Stepwise

/// The generate stage with the built-in synthetic teacher, its keys, and its spec errors.
final class GenerateStageTests: XCTestCase {
    var project: TempProject!
    override func setUpWithError() throws { project = try TempProject() }
    override func tearDown() { project.remove() }

    static let splits = SyntheticArith.splits(train: 64, valid: 16, test: 32, seed: 1)

    static func params(perExample: Int, perRequest: Int = 4) -> GenerateStage.Params {
        GenerateStage.Params(teacher: TeacherSpec(kind: .synthetic, errorRate: 0.15, seed: 0),
                             generate: GenerateSpec(shots: 4, perRequest: perRequest), prompt: nil,
                             implementation: SyntheticTeacher.version, dataset: .syntheticArith, metric: "equation",
                             dataFraction: 0.5, seed: 0, perExample: perExample)
    }

    func generate(_ p: GenerateStage.Params, splits: DatasetSplits = splits) throws -> GenerationArtifact {
        let ids = SubsampleStage.choose(ids: splits.train.map(\.id), fraction: p.dataFraction, seed: p.seed)
        let inputs = StageInputs(label: "generate", artifacts: [
            ("dataset", .inline(try ArtifactCodec.encode(splits))),
            ("subsample", .inline(try ArtifactCodec.encode(SubsampleStage.Artifact(fraction: p.dataFraction, seed: p.seed, ids: ids)))),
        ], threads: 1)
        let output = StageOutput(folder: project.root)
        try GenerateStage.run(p, settings: AnnotateStage.Settings(replayFiles: []), inputs: inputs, output: output)
        return try ArtifactCodec.decode(GenerationArtifact.self, from: XCTUnwrap(output.payload), what: "generation")
    }

    /// The synthetic teacher copies shown examples and repeats itself on purpose; none of it is
    /// kept, and no kept example equals any split's input, exactly or normalized.
    func testSyntheticGenerationKeepsNoInputOfAnySplit() throws {
        let g = try generate(Self.params(perExample: 2))
        XCTAssertEqual(g.realExamples, 32)
        XCTAssertEqual(g.target, 64)
        XCTAssertGreaterThanOrEqual(g.kept, g.target)
        let inputs = Set(Split.allCases.flatMap { Self.splits[$0].map(\.input) })
        let normalized = Set(inputs.map(NormalizedText.of))
        for c in g.candidates where c.verdict == .kept {
            XCTAssertFalse(inputs.contains(c.input), c.input)
            XCTAssertFalse(normalized.contains(NormalizedText.of(c.input)), c.input)
            XCTAssertFalse(c.rationale.isEmpty)
            XCTAssertNotNil(EquationEvaluator.evaluate(c.label), c.label)
        }
        let kept = g.candidates.filter { $0.verdict == .kept }.map { NormalizedText.of($0.input) }
        XCTAssertEqual(Set(kept).count, kept.count, "kept examples are distinct")
        XCTAssertGreaterThan(g.count(.duplicateOfTrain), 0, "the synthetic teacher copies shown examples")
        XCTAssertGreaterThan(g.count(.duplicateOfGenerated), 0)
        XCTAssertGreaterThan(g.count(.unparseable) + g.count(.labelRejected), 0)
        XCTAssertTrue(g.candidates.contains { $0.match == "normalized" })
        // Deterministic: the same request gives the same examples.
        XCTAssertEqual(try generate(Self.params(perExample: 2)).candidates, g.candidates)
    }

    /// One example per real one reads a prefix of the requests two per example reads: cells
    /// share the teacher's work, and the first kept examples are the same.
    func testFewerPerExampleReadsAPrefixOfTheSameRequests() throws {
        let one = try generate(Self.params(perExample: 1)), two = try generate(Self.params(perExample: 2))
        XCTAssertLessThan(one.requests, two.requests)
        XCTAssertEqual(one.candidates, Array(two.candidates.prefix(one.candidates.count)))
        let training = GeneratedData.training(two, count: 5)
        XCTAssertEqual(training.examples.count, 5)
        XCTAssertEqual(training.examples.map(\.id), two.candidates.filter { $0.verdict == .kept }.prefix(5).map(\.id))
        XCTAssertEqual(training.annotations[training.examples[0].id]?.rationale,
                       two.candidates.first { $0.verdict == .kept }?.rationale)
    }

    // MARK: - Keys

    /// The key-invalidation matrix's spec.
    static let base = KeyInvalidationTests.base

    func keys(_ yaml: String, _ name: String) throws -> [String: String] {
        let plan = try Planner.plan(try project.experiment(yaml, name: name))
        return Dictionary(plan.stages.map { ($0.label, $0.key) }, uniquingKeysWith: { a, _ in a })
    }

    /// New problems follow the dataset's difficulty mix, as the real ones do: with only
    /// three-operation problems asked for, every problem the teacher writes itself has three
    /// operations (its copies of shown examples keep theirs).
    func testNewProblemsFollowTheDatasetsMix() throws {
        let shown = Array(Self.splits.train.prefix(4))
        let threeOnly = SyntheticArith.Mix(oneOperation: 0, twoOperations: 0, threeOperations: 1)
        func operationCounts(_ mix: SyntheticArith.Mix) -> [Int] {
            let text = SyntheticTeacher(errorRate: 0, seed: 0).generate(shown: shown, count: 60, mix: mix)
            let shownInputs = Set(shown.map { NormalizedText.of($0.input) })
            return text.components(separatedBy: "\n\nQ: ").dropFirst().compactMap { block -> Int? in
                let lines = block.components(separatedBy: "\n")
                guard let answer = lines.first(where: { $0.hasPrefix("A: ") }), !shownInputs.contains(NormalizedText.of(lines[0])),
                      let marker = answer.range(of: "The answer is ") else { return nil }
                return answer[marker.upperBound...].filter { "+-*/".contains($0) }.count
            }
        }
        let mixed = operationCounts(.standard), three = operationCounts(threeOnly)
        XCTAssertGreaterThan(three.count, 30)
        XCTAssertEqual(Set(three), [3])
        XCTAssertTrue(mixed.contains(1) && mixed.contains(2), "the default mix has one- and two-operation problems: \(mixed)")
    }

    /// A spec's `operations` and `distractor_rate` reach the generate stage, in its key; the
    /// default mix leaves the key as it was.
    func testTheDatasetsMixReachesTheGenerateStage() throws {
        let spec = Self.base.replacingOccurrences(of: "standard_finetune: {}", with: "standard_finetune: {synthetic: {per_example: 2}}")
        func mix(_ yaml: String, _ name: String) throws -> SyntheticArith.Mix? {
            let plan = try Planner.plan(try project.experiment(yaml, name: name))
            let stage = try XCTUnwrap(plan.stages.first { $0.label == "generate[synthetic f=0.5 seed=0 ×2]" })
            return try JSONDecoder.snakeCase.decode(GenerateStage.Params.self, from: Data(stage.work.keyParams.canonical.utf8)).mix
        }
        XCTAssertNil(try mix(spec, "a"))
        XCTAssertNil(try mix(spec.replacingOccurrences(of: "test_size: 32}", with: "test_size: 32, operations: [4, 4, 2]}"), "b"))
        XCTAssertEqual(try mix(spec.replacingOccurrences(of: "test_size: 32}", with: "test_size: 32, operations: [1, 1, 0], distractor_rate: 0}"), "c"),
                       SyntheticArith.Mix(oneOperation: 1, twoOperations: 1, threeOperations: 0, distractorRate: 0))
    }

    func testPerExampleZeroKeepsEveryKey() throws {
        let base = try keys(Self.base, "a")
        let off = try keys(Self.base.replacingOccurrences(of: "standard_finetune: {}", with: "standard_finetune: {synthetic: {per_example: 0}}"), "b")
        XCTAssertEqual(off.filter { !$0.key.hasPrefix("report[") }, base.filter { !$0.key.hasPrefix("report[") })
        XCTAssertFalse(off.keys.contains { $0.hasPrefix("generate[") })
    }

    func testPerExampleChangesOnlyThatMethodsCellsAndAddsGenerateStages() throws {
        let base = try keys(Self.base, "a")
        let two = try keys(Self.base.replacingOccurrences(of: "standard_finetune: {}", with: "standard_finetune: {synthetic: {per_example: 2}}"), "b")
        let three = try keys(Self.base.replacingOccurrences(of: "standard_finetune: {}", with: "standard_finetune: {synthetic: {per_example: 3}}"), "c")
        for (label, key) in base where !label.hasPrefix("report[") && !label.contains("standard_finetune") {
            XCTAssertEqual(two[label], key, label)
        }
        XCTAssertFalse(two.keys.contains { $0.contains("standard_finetune") && !$0.contains("synthetic=2") && !$0.hasPrefix("report[") })
        let generated = two.keys.filter { $0.hasPrefix("generate[") }.sorted()
        XCTAssertEqual(generated, ["generate[synthetic f=0.5 seed=0 ×2]", "generate[synthetic f=1 seed=0 ×2]"])
        let trained = "train[standard_finetune a f=0.5 synthetic=2 seed=0]"
        XCTAssertNotNil(two[trained])
        XCTAssertNotEqual(two[trained], three[trained.replacingOccurrences(of: "=2", with: "=3")])
        XCTAssertNotEqual(two["generate[synthetic f=0.5 seed=0 ×2]"], three["generate[synthetic f=0.5 seed=0 ×3]"])
        // How the teacher generates is the generate stage's business: annotations keep their keys.
        let shots = try keys(Self.base.replacingOccurrences(of: "standard_finetune: {}", with: "standard_finetune: {synthetic: {per_example: 2}}")
            .replacingOccurrences(of: "error_rate: 0.15}", with: "error_rate: 0.15, generate: {shots: 2}}"), "d")
        XCTAssertEqual(shots["annotate[synthetic train]"], base["annotate[synthetic train]"])
        XCTAssertNotEqual(shots["generate[synthetic f=0.5 seed=0 ×2]"], two["generate[synthetic f=0.5 seed=0 ×2]"])
    }

    func testSweepingPerExampleMakesOneRowPerValue() throws {
        let e = try project.experiment(Self.base.replacingOccurrences(of: "sweep: {data_fraction: [0.5, 1.0]}",
                                                                      with: "sweep: {data_fraction: [0.5, 1.0], synthetic: {per_example: [0, 1]}}"))
        let cells = e.cells.filter { $0.method == "standard_finetune" }
        XCTAssertEqual(Set(cells.map { GeneratedData.perExample($0.variant) }), [0, 1])
        // distill_step_by_step accepts it too; few_shot_cot trains nothing.
        XCTAssertTrue(e.cells.contains { $0.method == "distill_step_by_step" && GeneratedData.perExample($0.variant) == 1 })
    }

    // MARK: - Spec errors

    func issues(_ yaml: String) throws -> [SpecIssue] { try project.issues(yaml) }

    func testSpecErrorsArePositionedWhereGenerationIsAsked() throws {
        var found = try issues(Self.base.replacingOccurrences(of: "standard_finetune: {}", with: "standard_finetune: {synthetic: 2}"))
        XCTAssertEqual(found.map(\.path), ["methods.standard_finetune.synthetic"])
        XCTAssertTrue(found[0].message.contains("expected a mapping"), found[0].message)

        found = try issues(Self.base.replacingOccurrences(of: "standard_finetune: {}", with: "standard_finetune: {synthetic: {per_example: -1}}"))
        XCTAssertEqual(found.map(\.path), ["methods.standard_finetune.synthetic.per_example"])

        found = try issues(Self.base.replacingOccurrences(of: "standard_finetune: {}", with: "standard_finetune: {synthetic: {per_exmple: 1}}"))
        XCTAssertTrue(found.contains { $0.path == "methods.standard_finetune.synthetic.per_exmple" && $0.suggestion == "per_example" }, "\(found)")

        // PINTO reads the teacher at test time: a generated example has nothing to show it there.
        found = try issues(Self.base.replacingOccurrences(of: "standard_finetune: {}", with: "pinto: {synthetic: {per_example: 1}}"))
        XCTAssertEqual(found.map(\.path), ["methods.pinto.synthetic"])

        // The replay teacher has only the paper's outputs for existing inputs.
        let data = project.root.appendingPathComponent("datasets/svamp/llm")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        found = try issues("""
            dataset: {kind: svamp, path: datasets/svamp}
            teacher: {kind: replay, path: datasets/svamp/llm}
            methods:
              standard_finetune: {synthetic: {per_example: 2}}
            """)
        let replay = try XCTUnwrap(found.first { $0.path == "methods.standard_finetune.synthetic" }, "\(found)")
        XCTAssertEqual(replay.line, 4)
        XCTAssertTrue(replay.message.contains("replay teacher"), replay.message)
    }

    func testAnOpenAITeacherNeedsAGenerationPromptWithItsPlaceholder() throws {
        try "Q: {input}\nA:".write(to: project.root.appendingPathComponent("cot.txt"), atomically: true, encoding: .utf8)
        let spec = """
            dataset: {kind: synthetic-arith, train_size: 16, valid_size: 4, test_size: 4}
            teacher: {kind: openai, base_url: "http://127.0.0.1:9/v1", model: m, prompt: cot.txt}
            methods:
              standard_finetune: {synthetic: {per_example: 1}}
            """
        var found = try issues(spec)
        XCTAssertEqual(found.map(\.path), ["teacher.generate.prompt"])
        XCTAssertTrue(found[0].message.contains("Experiments/prompts/svamp_generate.txt"), found[0].message)

        try "Write new problems.".write(to: project.root.appendingPathComponent("gen.txt"), atomically: true, encoding: .utf8)
        found = try issues(spec.replacingOccurrences(of: "prompt: cot.txt}", with: "prompt: cot.txt, generate: {prompt: gen.txt}}"))
        XCTAssertEqual(found.map(\.path), ["teacher.generate.prompt"])
        XCTAssertTrue(found[0].message.contains("{examples}") && found[0].message.contains("gen.txt"), found[0].message)

        try "New problems like these:\n{examples}\n".write(to: project.root.appendingPathComponent("gen.txt"), atomically: true, encoding: .utf8)
        let e = try project.experiment(spec.replacingOccurrences(of: "prompt: cot.txt}", with: "prompt: cot.txt, generate: {prompt: gen.txt, per_request: 2}}"))
        XCTAssertEqual(e.teacher.generate?.perRequest, 2)
        XCTAssertEqual(e.teacher.generate?.prompt, "gen.txt")

        found = try issues(minimalSpec.replacingOccurrences(of: "seed: 3}", with: "seed: 3, generate: {prompt: gen.txt}}"))
        XCTAssertEqual(found.map(\.path), ["teacher.generate.prompt"])   // the synthetic teacher needs no prompt
    }
}
