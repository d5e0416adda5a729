import XCTest
@testable import Stepwise

/// The synthetic multiple-choice task answered by the choice's letter (`dataset.answer: letter`):
/// same inputs and teacher completions as with equation labels, every label and target a
/// letter, and a spec without the option plans the keys it planned before the option existed.
final class SyntheticLetterAnswerTests: XCTestCase {
    let open = SyntheticArith.splits(train: 60, valid: 8, test: 20, seed: 4)
    var equations: DatasetSplits { SyntheticChoices.apply(open, count: 4, seed: 4) }
    var letters: DatasetSplits { SyntheticChoices.apply(open, count: 4, seed: 4, letters: true) }

    func testLabelsAreTheGoldChoicesLetterAndInputsAreUnchanged() throws {
        for (e, l) in zip(equations.train + equations.test, letters.train + letters.test) {
            XCTAssertEqual(e.input, l.input)
            let labels = try XCTUnwrap(LabelSet.of(l))
            XCTAssertTrue(["a", "b", "c", "d"].contains(l.label), l.label)
            XCTAssertEqual(labels.letter(of: e.label), l.label, "the letter names the gold equation's choice")
            XCTAssertTrue(Metric.choice.isCorrect(prediction: l.label, gold: l.label))
            XCTAssertTrue(Metric.choice.isCorrect(prediction: "(\(l.label))", gold: l.label))
            let other = ["a", "b", "c", "d"].first { $0 != l.label }!
            XCTAssertFalse(Metric.choice.isCorrect(prediction: other, gold: l.label))
        }
        XCTAssertEqual(Set(letters.train.map(\.label)).count, 4, "the gold letter varies")
    }

    /// The teacher reasons and writes exactly as with equation labels; its label is the letter
    /// of the choice it picked, so it is right exactly when it was right before.
    func testTheTeacherAnswersWithTheLetterOfTheSameChoice() throws {
        let teacher = SyntheticTeacher(errorRate: 0.3, seed: 1, topLogprobs: 5)
        var wrong = 0
        for (e, l) in zip(equations.train, letters.train) {
            let a = teacher.annotate(e), b = teacher.annotate(l)
            XCTAssertEqual(a.raw, b.raw)
            XCTAssertEqual(a.rationale, b.rationale)
            XCTAssertEqual(a.answerLogprobs, b.answerLogprobs)
            XCTAssertTrue(b.parsed, b.raw)
            XCTAssertEqual(LabelSet.of(l)?.letter(of: a.label), b.label)
            XCTAssertTrue(b.raw.contains("So the answer is (\(b.label)) "), b.raw)
            XCTAssertEqual(Metric.equation.isCorrect(prediction: a.label, gold: e.label), Metric.choice.isCorrect(prediction: b.label, gold: l.label))
            if b.label != l.label { wrong += 1 }
        }
        XCTAssertGreaterThan(wrong, 0, "the teacher still makes mistakes")
    }

    /// Soft labels and PINTO's counterfactual stream write every choice as a letter when the
    /// gold label is one (and as text for CQA, as before).
    func testSoftAndCounterfactualTargetsAreLetters() throws {
        let teacher = SyntheticTeacher(errorRate: 0.3, seed: 1, topLogprobs: 5)
        let examples = Array(letters.train.prefix(12))
        let annotations = Dictionary(uniqueKeysWithValues: examples.map { ($0.id, teacher.annotate($0)) })
        let soft = try SoftLabelDistillation.streams(MethodVariant(["alpha": .number(0.5), "temperature": .number(1), "k": .number(5)]),
                                                     examples: examples, annotations: annotations, format: .stepwise)
        XCTAssertEqual(Set(soft[0].targets), ["a", "b", "c", "d"])
        let pinto = try PINTO.streams(MethodVariant(["counterfactual": .string("true")]), examples: examples,
                                      annotations: annotations, format: .stepwise)
        XCTAssertEqual(pinto[1].targets.count, 4 * examples.count)
        XCTAssertEqual(Set(pinto[1].targets), ["a", "b", "c", "d"])
        let cqa = Example(id: "train-0", input: "Where is a river?\nAnswer Choices:\n(a) bank\n(b) desk", label: "bank")
        XCTAssertEqual(LabelSet.of(cqa)?.target(1, like: cqa.label), "desk")
    }

    /// Generated examples of a letter-answer task are kept with letter labels, like the real ones.
    func testGeneratedExamplesGetLetterLabels() throws {
        let teacher = SyntheticTeacher(errorRate: 0.15, seed: 0)
        var filter = GenerationFilter(splits: letters, task: .cqa, mode: .paper, metric: .choice)
        let completion = teacher.generate(shown: Array(letters.train.prefix(4)), count: 12)
        let kept = GeneratedExampleParser.blocks(completion).enumerated()
            .map { filter.judge($1, id: "gen-0-\($0)", request: 0) }.filter { $0.verdict == .kept }
        XCTAssertFalse(kept.isEmpty)
        for c in kept {
            XCTAssertTrue(["a", "b", "c", "d"].contains(c.label), c.label)
            XCTAssertTrue(c.raw.contains("(\(c.label)) "), c.raw)
        }
        // The exemplars an API teacher is shown answer with the letter and its choice's text.
        let e = letters.train[0]
        let text = try XCTUnwrap(LabelSet.of(e)?.choices.first { $0.letter == e.label }?.text)
        XCTAssertEqual(GenerationPrompt.answerLine(label: e.label, input: e.input, task: .cqa), "So the answer is (\(e.label)) \(text).")
    }

    func testTheSpecOptionIsCheckedAndOnlyChangesKeysWhenSet() throws {
        let project = try TempProject()
        defer { project.remove() }
        func spec(_ dataset: String) -> String { minimalSpec.replacingOccurrences(of: "seed: 1}", with: "seed: 1\(dataset)}") }
        let noChoices = try project.issues(spec(", answer: letter"))
        XCTAssertEqual(noChoices.map(\.path), ["dataset.answer"])
        XCTAssertEqual(noChoices.first?.line, 2)
        XCTAssertTrue(noChoices.first?.message.contains("add `choices:`") ?? false, noChoices.first?.message ?? "")
        XCTAssertEqual(try project.issues(spec(", choices: 4, answer: letter, metric: equation")).map(\.path), ["dataset.metric"])
        XCTAssertEqual(try project.issues(spec(", choices: 4, answer: letters")).first?.suggestion, "letter")

        let lettered = try project.experiment(spec(", choices: 4, answer: letter"))
        XCTAssertEqual(lettered.dataset.answer, "letter")
        XCTAssertEqual(lettered.dataset.metric, "choice")
        let plain = try project.experiment(spec(", choices: 4"))
        XCTAssertEqual(try project.experiment(spec(", choices: 4, answer: equation")).dataset, plain.dataset)
        XCTAssertEqual(plain.dataset.metric, "equation")
        XCTAssertFalse(JSONValue(encoding: plain.dataset).canonical.contains("answer"), "unset: the dataset key as before")
        XCTAssertNotEqual(try Planner.plan(lettered).stages[0].key, try Planner.plan(plain).stages[0].key)
    }
}
