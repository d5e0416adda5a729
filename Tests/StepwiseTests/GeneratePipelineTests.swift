import XCTest
@testable import Stepwise

/// Teacher-generated training data inside `stepwise plan` and `stepwise run`: offline with the
/// synthetic teacher into results.csv and the report, and against the local OpenAI-compatible
/// fake server — whose "teacher" writes duplicates of test, validation and training inputs on
/// purpose — with per-request caching and resume.
final class GeneratePipelineTests: FakeServerTestCase {
    func generations(_ project: TempProject) throws -> [GenerationArtifact] {
        let store = try Store(url: project.storeURL)
        return try store.summaries(kind: .generate).map { s in
            try ArtifactCodec.decode(GenerationArtifact.self, from: XCTUnwrap(try store.payload(s.key)), what: s.label)
        }
    }

    func testSyntheticTeacherOfflineIntoResultsAndReport() throws {
        let project = try TempProject()
        defer { project.remove() }
        let spec = try project.write("""
            name: generated
            dataset: {kind: synthetic-arith, train_size: 64, valid_size: 8, test_size: 16}
            teacher: {kind: synthetic, error_rate: 0.15}
            student:
              tokenizer: {kind: bpe, vocab: 200}
              sizes:
                t: {d_model: 16, layers: 1, heads: 2, d_ff: 32}
            train: {steps: 4, batch_size: 8, eval_every: 2, max_target_length: 24, seeds: [0, 1]}
            methods:
              standard_finetune: {synthetic: {per_example: [0, 2]}}
              distill_step_by_step: {synthetic: {per_example: 2}}
            sweep: {data_fraction: [0.25]}
            """)
        let plan = try CLI.run(["plan", spec], cwd: project.root)
        XCTAssertEqual(plan.status, 0, plan.stderr)
        XCTAssertTrue(plan.stdout.contains("generate[synthetic f=0.25 seed=1 ×2]"), plan.stdout)
        // 16 real examples × 2 / 4 per request.
        XCTAssertTrue(plan.stdout.contains("teacher: generate[synthetic f=0.25 seed=0 ×2]: 8 requests"), plan.stdout)

        let r = try CLI.run(["run", spec, "--jobs", "2"], cwd: project.root)
        XCTAssertEqual(r.status, 0, r.stderr)
        let results = project.root.appendingPathComponent("Results/generated")
        let csv = try String(contentsOf: results.appendingPathComponent("results.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n").map(String.init)
        for seed in [0, 1] {
            XCTAssertTrue(lines.contains { $0.hasPrefix("standard_finetune,t,0.25,,\(seed),test,equation,") && $0.hasSuffix(",") }, csv)
            XCTAssertTrue(lines.contains { $0.hasPrefix("standard_finetune,t,0.25,,\(seed),test,equation,") && $0.hasSuffix(",synthetic=2") }, csv)
            XCTAssertTrue(lines.contains { $0.hasPrefix("distill_step_by_step,t,0.25,1,\(seed),test,equation,")
                                           && $0.hasSuffix(",labels=gold;synthetic=2") }, csv)
        }
        let md = try String(contentsOf: results.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("| standard_finetune (+2× generated) |"), md)
        XCTAssertTrue(md.contains("## Generated training data"), md)
        XCTAssertTrue(md.contains("| 25 % | 0 | 2 | 16 | 32 |"), md)
        XCTAssertTrue(md.contains("duplicate of test"), md)
        let html = try String(contentsOf: results.appendingPathComponent("index.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("<section id=\"generated\">"), html)

        let gens = try generations(project)
        XCTAssertEqual(gens.count, 2)   // one per seed: both methods share it
        let dataset = SyntheticArith.splits(train: 64, valid: 8, test: 16, seed: 0)
        let inputs = Set(Split.allCases.flatMap { dataset[$0].map { NormalizedText.of($0.input) } })
        for g in gens {
            XCTAssertGreaterThanOrEqual(g.kept, g.target)
            XCTAssertFalse(g.candidates.contains { $0.verdict == .kept && inputs.contains(NormalizedText.of($0.input)) })
        }
        // The students saw the generated examples: 16 real + 32 generated.
        let store = try Store(url: project.storeURL)
        let trained = try store.summaries(kind: .train).first { $0.label.contains("standard_finetune") && $0.label.contains("synthetic=2") }
        guard case .folder(let folder)? = try store.location(XCTUnwrap(trained).key) else { return XCTFail("no checkpoint folder") }
        let summary = try JSONDecoder().decode(TrainingSummary.self, from: Data(contentsOf: folder.appendingPathComponent("training.json")))
        XCTAssertEqual(summary.trainExamples, 48)
    }

    /// The required check: a teacher that writes test, validation and training inputs back —
    /// exactly and with changed case, spacing and punctuation — never gets one into training.
    func testGeneratedExamplesNeverContainATestValidationOrTrainingInput() throws {
        let project = try TempProject()
        defer { project.remove() }
        let (spec, dataset) = try openAIProject(project, generations: """
            Here are new problems:

            Q: Cy buys 6 boxes of 5 eggs. How many eggs does Cy buy?
            A: 6 * 5 = 30 eggs. The answer is ( 6 * 5 ).

            Q: bo has 9 pens, and loses 4 -- how many pens does bo have
            A: 9 - 4 = 5 pens. The answer is ( 9 - 4 ).

            Q: Ann has 3 cats and gets 2 more. How many cats does Ann have?
            A: 3 + 2 = 5 cats. The answer is ( 3 + 2 ).

            Q: DEE SAWS 8 LOGS INTO 2 PIECES EACH!  HOW MANY PIECES DOES DEE HAVE?
            A: 8 * 2 = 16 pieces. The answer is ( 8 * 2 ).

            Q: Eve has 8 kites and buys 7 more. How many kites does Eve have?
            A: 8 + 7 = 15 kites. The answer is ( 8 + 7 ).

            Q: Hal had 25 stamps and gave away 11. How many stamps are left?
            A: Hal has 25 - 11 = 14 stamps left. The answer is ( 25 - 11 ).
            """)
        let s = try server(["--generations", project.root.appendingPathComponent("generations.txt").path])
        let r = try CLI.run(["run", try spec(s), "--jobs", "2"], cwd: project.root)
        XCTAssertEqual(r.status, 0, r.stderr)

        let g = try XCTUnwrap(try generations(project).first)
        let first = g.candidates.filter { $0.request == 0 }
        XCTAssertEqual(first.map(\.verdict), [.duplicateOfTest, .duplicateOfValid, .duplicateOfTrain, .duplicateOfTest, .kept, .kept])
        XCTAssertEqual(first.map(\.match), ["exact", "normalized", "exact", "normalized", nil, nil])
        let inputs = Set(Split.allCases.flatMap { dataset[$0].map(\.input) })
        let normalized = Set(inputs.map(NormalizedText.of))
        let kept = g.candidates.filter { $0.verdict == .kept }
        XCTAssertEqual(kept.map(\.input), ["Eve has 8 kites and buys 7 more. How many kites does Eve have?",
                                           "Hal had 25 stamps and gave away 11. How many stamps are left?"])
        XCTAssertFalse(kept.contains { inputs.contains($0.input) || normalized.contains(NormalizedText.of($0.input)) })
        // Later requests get the same text: all of it duplicates now.
        XCTAssertTrue(g.candidates.filter { $0.request > 0 }.allSatisfy { $0.verdict != .kept })
        let md = try String(contentsOf: project.root.appendingPathComponent("Results/gen-openai/report.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("kept fewer examples than wanted"), md)
        XCTAssertTrue(md.contains("| standard_finetune (+1× generated) |"), md)
        XCTAssertGreaterThan(g.promptTokens, 0)
    }

    /// An interrupted generation resumes: the requests answered before a failure are read from
    /// the request cache, and none is paid for twice.
    func testAnInterruptedGenerationResumesWithoutPayingTwice() async throws {
        let project = try TempProject()
        defer { project.remove() }
        // One training input makes the server fail once (max_retries: 0) every request that shows
        // it: one that request 0 does not show and one of requests 1–3 (the first batch) does.
        let order = SubsampleStage.choose(ids: Self.train.indices.map { "train-\($0)" }, fraction: 1, seed: 0)
        let subsample = order.map { Example(id: $0, input: "", label: "") }
        func shown(_ request: Int) -> Set<String> {
            Set(GenerationShots.pick(subsample, shots: 3, fraction: 1, seed: 0, request: request).map(\.id))
        }
        let marked = try XCTUnwrap(Self.train.indices.first { i in
            !shown(0).contains("train-\(i)") && (1...3).contains { shown($0).contains("train-\(i)") }
        })
        let (spec, _) = try openAIProject(project, generations: "Q: Eve has 8 kites and buys 7 more. How many kites does Eve have?\nA: The answer is ( 8 + 7 ).",
                                          markTrainInput: marked, perRequest: 4)
        let s = try server(["--generations", project.root.appendingPathComponent("generations.txt").path])
        let path = try spec(s)
        let first = try CLI.run(["run", path], cwd: project.root)
        XCTAssertEqual(first.status, 1, first.stdout + first.stderr)
        XCTAssertTrue((first.stdout + first.stderr).contains("500"), first.stdout + first.stderr)
        let answeredBefore = try await s.stats()["answered"] as! Int
        XCTAssertGreaterThan(answeredBefore, 0, "some requests were answered before the failure")
        // Each later request that shows it fails once too: each run gets further, none pays twice.
        var runs = 1, last = first
        while last.status != 0 && runs < 15 {
            last = try CLI.run(["run", path], cwd: project.root)
            runs += 1
        }
        XCTAssertEqual(last.status, 0, last.stdout + last.stderr)
        let stats = try await s.stats()
        XCTAssertEqual(stats["answered_again"] as? Int, 0, "\(stats)")
        let g = try XCTUnwrap(try generations(project).first)
        XCTAssertEqual(stats["answered"] as? Int, g.requests, "every request answered once, \(stats)")
        // Once done, a run sends nothing.
        let again = try CLI.run(["run", path], cwd: project.root)
        XCTAssertEqual(again.status, 0, again.stderr)
        let after = try await s.stats()
        XCTAssertEqual(after["answered"] as? Int, stats["answered"] as? Int)
    }

    /// A prompt whose completions hold no example fails the stage, showing the first outputs;
    /// nothing trains on it.
    func testAPromptWithNoParsableExampleFailsShowingTheOutputs() throws {
        let project = try TempProject()
        defer { project.remove() }
        let (spec, _) = try openAIProject(project, generations: nil)
        let s = try server()
        let r = try CLI.run(["run", try spec(s)], cwd: project.root)
        XCTAssertEqual(r.status, 1, r.stderr)
        let out = r.stdout + r.stderr
        XCTAssertTrue(out.contains("hold no parsable example"), out)
        XCTAssertTrue(out.contains("I read "), out)   // the fake server's completion, shown
        XCTAssertTrue(try generations(project).isEmpty)
    }

    // MARK: - A project against the fake server

    static let train = [
        "Ann has 3 cats and gets 2 more. How many cats does Ann have?", "Fay has 7 cups and breaks 3. How many cups does Fay have?",
        "Gil has 4 bags of 6 nuts. How many nuts does Gil have?", "Ivy has 12 figs and eats 5. How many figs does Ivy have?",
        "Jay has 10 pins and gets 8 more. How many pins does Jay have?", "Kat has 20 beads in 4 rows. How many beads are in a row?",
        "Lu has 5 jars of 3 figs. How many figs does Lu have?", "Max has 9 toys and gets 9 more. How many toys does Max have?",
        "Ned has 14 cards and gives away 6. How many cards does Ned have?", "Oli has 18 eggs in 3 boxes. How many eggs are in a box?",
        "Pam has 2 kites and gets 11 more. How many kites does Pam have?", "Quin has 30 coins and spends 12. How many coins are left?",
        "Rae has 6 vases of 4 roses. How many roses does Rae have?", "Sam has 16 pears and eats 7. How many pears does Sam have?",
        "Tia has 21 sweets in 7 bags. How many sweets are in a bag?", "Uli has 13 rocks and finds 4 more. How many rocks does Uli have?",
    ]
    static let labels = ["( 3 + 2 )", "( 7 - 3 )", "( 4 * 6 )", "( 12 - 5 )", "( 10 + 8 )", "( 20 / 4 )", "( 5 * 3 )", "( 9 + 9 )",
                         "( 14 - 6 )", "( 18 / 3 )", "( 2 + 11 )", "( 30 - 12 )", "( 6 * 4 )", "( 16 - 7 )", "( 21 / 7 )", "( 13 + 4 )"]

    /// A jsonl dataset, a generation prompt with the fake server's [[generate]] marker, and the
    /// server's generation text (`generations`, nil: the server's usual completion); returns a
    /// function writing the spec for a server, and the dataset.
    func openAIProject(_ project: TempProject, generations: String?, markTrainInput: Int? = nil,
                       perRequest: Int = 10) throws -> ((FakeOpenAIServer) throws -> String, DatasetSplits) {
        func rows(_ items: [(String, String)]) -> String {
            items.map { String(decoding: try! JSONSerialization.data(withJSONObject: ["input": $0.0, "label": $0.1], options: [.sortedKeys]),
                               as: UTF8.self) }.joined(separator: "\n") + "\n"
        }
        var train = Array(zip(Self.train, Self.labels))
        if let i = markTrainInput { train[i].0 += " [[500x1]]" }
        let valid = [("Bo has 9 pens and loses 4. How many pens does Bo have?", "( 9 - 4 )")]
        let test = [("Cy buys 6 boxes of 5 eggs. How many eggs does Cy buy?", "( 6 * 5 )"),
                    ("Dee saws 8 logs into 2 pieces each. How many pieces does Dee have?", "( 8 * 2 )")]
        let data = project.root.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try rows(train).write(to: data.appendingPathComponent("train.jsonl"), atomically: true, encoding: .utf8)
        try rows(valid).write(to: data.appendingPathComponent("valid.jsonl"), atomically: true, encoding: .utf8)
        try rows(test).write(to: data.appendingPathComponent("test.jsonl"), atomically: true, encoding: .utf8)
        try "Q: {input}\nA:".write(to: project.root.appendingPathComponent("cot.txt"), atomically: true, encoding: .utf8)
        try "[[generate]] Write {count} new problems like these:\n\n{examples}\n"
            .write(to: project.root.appendingPathComponent("gen.txt"), atomically: true, encoding: .utf8)
        if let generations {
            try generations.write(to: project.root.appendingPathComponent("generations.txt"), atomically: true, encoding: .utf8)
        }
        let split = { (items: [(String, String)], name: String) in items.enumerated().map { Example(id: "\(name)-\($0)", input: $1.0, label: $1.1) } }
        let dataset = DatasetSplits(train: split(train, "train"), valid: split(valid, "valid"), test: split(test, "test"))
        let spec = { (s: FakeOpenAIServer) throws -> String in
            try project.write("""
                name: gen-openai
                dataset: {kind: jsonl, train: data/train.jsonl, valid: data/valid.jsonl, test: data/test.jsonl, metric: equation}
                teacher:
                  kind: openai
                  base_url: \(s.baseURL)
                  model: m
                  prompt: cot.txt
                  parse_as: svamp
                  concurrency: 1
                  max_retries: 0
                  timeout: 10
                  generate: {prompt: gen.txt, shots: 3, per_request: \(perRequest)}
                student:
                  tokenizer: {kind: bpe, vocab: 200}
                  sizes:
                    t: {d_model: 16, layers: 1, heads: 2, d_ff: 32}
                train: {steps: 2, batch_size: 4, eval_every: 2, max_target_length: 16, seeds: [0]}
                methods:
                  standard_finetune: {synthetic: {per_example: 1}}
                """)
        }
        return (spec, dataset)
    }
}
