import XCTest
@testable import Stepwise

final class SpecValidationTests: XCTestCase {
    var project: TempProject!
    override func setUpWithError() throws { project = try TempProject() }
    override func tearDown() { project.remove() }

    func issues(_ yaml: String, line: UInt = #line) throws -> [SpecIssue] { try project.issues(yaml, line: line) }

    func testValidSpecParsesWithDefaults() throws {
        let e = try project.experiment(minimalSpec)
        XCTAssertEqual(e.name, "mini")
        XCTAssertEqual(e.dataset.metric, "equation")
        XCTAssertEqual(e.methods.map(\.name), ["few_shot_cot"])
        XCTAssertEqual(e.sweep.dataFractions, [1.0])
        XCTAssertEqual(e.root.standardizedFileURL.path, project.root.standardizedFileURL.path)
    }

    func testUnknownKeyNamesLineColumnPathAndSuggestion() throws {
        let found = try issues(minimalSpec + "\nsweep:\n  data_fracion: [0.5]\n")
        XCTAssertEqual(found.count, 1)
        let issue = try XCTUnwrap(found.first)
        XCTAssertEqual(issue.line, 7)
        XCTAssertEqual(issue.column, 3)
        XCTAssertEqual(issue.path, "sweep.data_fracion")
        XCTAssertEqual(issue.suggestion, "data_fraction")
        XCTAssertTrue(issue.file.hasSuffix("Experiments/exp.yaml"))
        XCTAssertTrue(issue.description.contains("exp.yaml:7:3: error: sweep.data_fracion"), issue.description)
        XCTAssertTrue(issue.description.contains("did you mean `data_fraction`?"), issue.description)
    }

    func testSeveralErrorsAreReportedAtOnce() throws {
        let yaml = """
            name: many
            dataset: {kind: svamp, path: no/such/dir}
            teacher: {kind: synthetic}
            student:
              sizes:
                small: {d_model: 64, layers: 2, heads: 4, d_ff: 128}
            train: {seeds: [0, 1, 1]}
            methods:
              standard_finetune: {}
              distill_step_by_step: {lambda: -0.5}
              distil_step_by_step: {}
            sweep:
              data_fraction: [0, 0.5, 1.5]
              size: [smal]
            """
        let found = try issues(yaml)
        func find(_ path: String, _ text: String) -> SpecIssue? {
            found.first { $0.path == path && $0.message.contains(text) }
        }
        XCTAssertNotNil(find("dataset.path", "no such file"), "\(found)")
        XCTAssertNotNil(find("train.seeds", "duplicate value `1`"), "\(found)")
        XCTAssertNotNil(find("methods.distill_step_by_step.lambda", "λ ≥ 0"), "\(found)")
        let method = try XCTUnwrap(find("methods.distil_step_by_step", "unknown key"), "\(found)")
        XCTAssertEqual(method.suggestion, "distill_step_by_step")
        XCTAssertEqual(method.line, 11)
        let fractions = found.filter { $0.path == "sweep.data_fraction" }
        XCTAssertEqual(fractions.count, 2, "0 and 1.5 are outside (0, 1]: \(fractions)")
        XCTAssertEqual(fractions.map(\.column).sorted(), [19, 27])
        let size = try XCTUnwrap(find("sweep.size", "not declared"), "\(found)")
        XCTAssertEqual(size.suggestion, "small")
        XCTAssertEqual(size.line, 14)
    }

    func testUnknownValueSuggestsClosest() throws {
        let found = try issues(minimalSpec.replacingOccurrences(of: "kind: synthetic,", with: "kind: synthtic,"))
        XCTAssertEqual(found.first?.path, "teacher.kind")
        XCTAssertEqual(found.first?.suggestion, "synthetic")
    }

    func testKeyOfAnotherKindIsRejected() throws {
        let found = try issues(minimalSpec.replacingOccurrences(of: "seed: 1}", with: "seed: 1, path: x}"))
        XCTAssertEqual(found.first?.path, "dataset.path")
        XCTAssertTrue(found.first?.message.contains("does not apply to dataset kind `synthetic-arith`") ?? false)
    }

    func testSyntheticMixIsCheckedAndOnlyChangesKeysWhenSet() throws {
        let found = try issues(minimalSpec.replacingOccurrences(of: "seed: 1}", with: "seed: 1, operations: [1, 1], distractor_rate: 1.5}"))
        XCTAssertEqual(found.map(\.path), ["dataset.operations", "dataset.distractor_rate"], "\(found)")
        XCTAssertEqual(found.first?.line, 2)

        let mixed = try project.experiment(minimalSpec.replacingOccurrences(of: "seed: 1}", with: "seed: 1, operations: [1, 1, 0], distractor_rate: 0}"))
        XCTAssertEqual(mixed.dataset.operationWeights, [1, 1, 0])
        XCTAssertEqual(mixed.dataset.distractorRate, 0)
        // Unset, the dataset key is what it was before these keys existed (stores stay valid).
        let plain = try project.experiment(minimalSpec)
        XCTAssertNil(plain.dataset.operationWeights)
        XCTAssertFalse(JSONValue(encoding: plain.dataset).canonical.contains("operation"))
        XCTAssertNotEqual(try Planner.plan(mixed).stages[0].key, try Planner.plan(plain).stages[0].key)
    }

    func testSweepOfUndeclaredMethod() throws {
        let found = try issues(minimalSpec + "\nsweep: {method: [standard_finetune, few_shot_cto]}\n")
        XCTAssertEqual(found.count, 2, "\(found)")
        XCTAssertTrue(found[0].message.contains("not declared under methods"))
        XCTAssertEqual(found[1].suggestion, "few_shot_cot")
    }

    func testDuplicateSeedsInSweep() throws {
        let found = try issues(minimalSpec + "\nsweep: {seed: [2, 2]}\n")
        XCTAssertEqual(found.map(\.path), ["sweep.seed"])
    }

    func testInvalidYAMLHasAPosition() throws {
        let found = try issues("name: x\ndataset: {kind: synthetic-arith\n")
        XCTAssertEqual(found.count, 1)
        XCTAssertGreaterThanOrEqual(found[0].line, 2)
        XCTAssertTrue(found[0].message.hasPrefix("invalid YAML"))
    }

    func testMissingRequiredSection() throws {
        let found = try issues("name: x\nteacher: {kind: synthetic}\nmethods: {few_shot_cot: {}}\n")
        XCTAssertEqual(found.map(\.path), ["dataset"])
        XCTAssertTrue(found[0].message.contains("missing required key `dataset`"))
    }

    func testValidateCommandExitsTwoAndPrintsEveryError() throws {
        let path = try project.write(minimalSpec + "\nsweep:\n  data_fraction: [2]\n  sizes: [tiny]\n")
        let r = try CLI.run(["validate", path], cwd: project.root)
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("exp.yaml:7:19: error: sweep.data_fraction: expected a fraction in (0, 1], found 2.0"), r.stderr)
        XCTAssertTrue(r.stderr.contains("exp.yaml:8:3: error: sweep.sizes: unknown key `sizes`"), r.stderr)
        XCTAssertTrue(r.stderr.contains("did you mean `size`?"), r.stderr)
        XCTAssertTrue(r.stderr.contains("2 errors in spec"), r.stderr)
    }

    func testSuggestionDistance() {
        XCTAssertEqual(Suggestion.closest(to: "lamda", among: ["lambda", "labels"]), "lambda")
        XCTAssertNil(Suggestion.closest(to: "zebra", among: ["lambda", "labels"]))
        XCTAssertEqual(Suggestion.editDistance("ab", "ba"), 1)
    }
}
