import XCTest
@testable import Stepwise

/// PINTO and soft labels inside `stepwise run`: on the synthetic task with answer choices they
/// train, evaluate, and reach results.csv, report.md and the claims through the registry alone;
/// against an OpenAI-compatible server, the answer position's log-probabilities are kept, and a
/// server that sends none stops the run at its first response with nothing cached.
final class FamilyMethodsPipelineTests: FakeServerTestCase {
    func testBothMethodsRunEndToEndAndReachTheReport() throws {
        let project = try TempProject()
        defer { project.remove() }
        let spec = try project.write("""
            name: families
            dataset: {kind: synthetic-arith, train_size: 64, valid_size: 8, test_size: 16, choices: 3}
            teacher: {kind: synthetic, error_rate: 0.2, logprobs: true, top_logprobs: 5}
            student:
              tokenizer: {kind: bpe, vocab: 200}
              sizes:
                t: {d_model: 16, layers: 1, heads: 2, d_ff: 32}
            train: {steps: 4, batch_size: 8, eval_every: 2, max_input_length: 160, max_target_length: 16, seeds: [0, 1]}
            methods:
              standard_finetune: {}
              pinto: {counterfactual: [false, true]}
              soft_label_distillation: {alpha: 0.5, temperature: 2, k: 5}
            sweep: {data_fraction: [0.5]}
            claims:
              - soft_label_distillation >= standard_finetune at every data_fraction
              - pinto > standard_finetune at every data_fraction
            """)
        let r = try CLI.run(["run", spec, "--jobs", "2"], cwd: project.root)
        XCTAssertEqual(r.status, 0, r.stderr)
        let results = project.root.appendingPathComponent("Results/families")
        let csv = try String(contentsOf: results.appendingPathComponent("results.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n").map(String.init)
        for seed in [0, 1] {
            XCTAssertTrue(lines.contains { $0.hasPrefix("pinto,t,0.5,,\(seed),test,equation,") && $0.hasSuffix(",counterfactual=false") }, csv)
            XCTAssertTrue(lines.contains { $0.hasPrefix("pinto,t,0.5,,\(seed),test,equation,") && $0.hasSuffix(",counterfactual=true") }, csv)
            XCTAssertTrue(lines.contains { $0.hasPrefix("soft_label_distillation,t,0.5,,\(seed),test,equation,")
                                           && $0.hasSuffix(",alpha=0.5;k=5;temperature=2") }, csv)
        }
        let md = try String(contentsOf: results.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("| pinto (counterfactual) † |"), md)
        XCTAssertTrue(md.contains("| soft_label_distillation (α=0.5, top-5, T=2) |"), md)
        XCTAssertTrue(md.contains(ResultGroup.teacherAtTestNote), md)
        XCTAssertTrue(md.contains("Soft labels: at its answer"), md)
        let claims = try String(contentsOf: results.appendingPathComponent("claims.json"), encoding: .utf8)
        XCTAssertTrue(claims.contains("soft_label_distillation >= standard_finetune"), claims)
        XCTAssertTrue(claims.contains("pinto > standard_finetune"), claims)
        XCTAssertTrue(try String(contentsOf: results.appendingPathComponent("results.tex"), encoding: .utf8).contains("$^\\dagger$"))
    }

    func testAnnotationsKeepTheAnswerPositionsLogprobs() async throws {
        let s = try server()
        let t = try OpenAITeacher(config: OpenAITeacherConfig(baseURL: s.baseURL, model: "m", concurrency: 2, timeout: 5,
                                                              maxRetries: 1, logprobs: true, topLogprobs: 3),
                                  prompt: PromptTemplate(text: "{input}"), task: .svamp, cache: nil)
        let annotations = try await t.annotate([Example(id: "train-0", input: "twelve chars", label: "1")])
        // "I read 12 characters. The answer is ( 12 + 1 )." — the answer's first token with a digit.
        let p = try XCTUnwrap(annotations[0].answerLogprobs, annotations[0].raw)
        XCTAssertEqual(p.token, " 12")
        XCTAssertEqual(p.top.count, 3)
        let plain = try OpenAITeacher(config: OpenAITeacherConfig(baseURL: s.baseURL, model: "m", timeout: 5),
                                      prompt: PromptTemplate(text: "{input}"), task: .svamp, cache: nil)
        let without = try await plain.annotate([Example(id: "train-0", input: "twelve chars", label: "1")])
        XCTAssertNil(without[0].answerLogprobs)
    }

    /// Soft labels asked of a server that returns no log-probabilities: the annotation fails on
    /// its first response, with a clear error; no response is cached and no student trains.
    func testAServerWithoutLogprobsStopsSoftLabelsAtTheFirstResponse() async throws {
        let s = try server(["--no-logprobs"])
        let project = try TempProject()
        defer { project.remove() }
        try "Q: {input}\nA:".write(to: project.root.appendingPathComponent("prompt.txt"), atomically: true, encoding: .utf8)
        let spec = try project.write("""
            name: no-logprobs
            dataset: {kind: synthetic-arith, train_size: 16, valid_size: 4, test_size: 8, choices: 3}
            teacher:
              kind: openai
              base_url: \(s.baseURL)
              model: fake-70b
              prompt: prompt.txt
              parse_as: cqa
              concurrency: 1
              timeout: 10
              logprobs: true
              top_logprobs: 5
            student:
              sizes: {t: {d_model: 16, layers: 1, heads: 2, d_ff: 32}}
            train: {steps: 2, batch_size: 4}
            methods:
              soft_label_distillation: {}
            """)
        let r = try CLI.run(["run", spec], cwd: project.root)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("log-probabilities"), r.stderr)
        XCTAssertTrue(r.stderr.contains("teacher.logprobs"), r.stderr)
        let store = try Store(url: project.storeURL)
        XCTAssertEqual(try store.teacherRequestCount(), 0, "nothing cached as if it had log-probabilities")
        XCTAssertTrue(try store.summaries(kind: .train).isEmpty, "no student trained")
        let requests = try await s.stats()["requests"] as? Int
        XCTAssertEqual(requests, 1)
    }
}
