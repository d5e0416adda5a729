import XCTest
@testable import Stepwise

/// Label-level soft labels from an API teacher's log-probabilities: the label set, the answer
/// position, the distribution (k, T, missing mass), the weighted pairs, and the synthetic
/// teacher's log-probabilities that let the quickstart show it offline.
final class SoftLabelMethodTests: XCTestCase {
    let cqa = Example(id: "train-0", input: "Where is a river?\nAnswer Choices:\n(a) bank\n(b) desk\n(c) sky", label: "bank")
    let nli = Example(id: "train-1", input: "Premise: A man sleeps.\nHypothesis: A man is awake.", label: "contradiction")

    func position(_ alternatives: [(String, Double)]) -> TokenLogprob {
        TokenLogprob(token: alternatives[0].0, logprob: alternatives[0].1,
                     top: alternatives.map { TokenLogprob.Alternative(token: $0.0, logprob: $0.1) })
    }

    func annotation(_ e: Example, _ p: TokenLogprob?) -> Annotation {
        Annotation(id: e.id, raw: "…", rationale: "r", label: e.label, parsed: true, answerLogprobs: p)
    }

    func variant(alpha: Double, temperature: Double = 1, k: Double = 5) -> MethodVariant {
        MethodVariant(["alpha": .number(alpha), "temperature": .number(temperature), "k": .number(k)])
    }

    func testLabelSetsAreReadFromTheInput() throws {
        let choices = try XCTUnwrap(LabelSet.of(cqa))
        XCTAssertEqual(choices.choices.map(\.text), ["bank", "desk", "sky"])
        XCTAssertEqual(choices.choices.map(\.letter), ["a", "b", "c"])
        XCTAssertEqual(choices.index(of: "bank"), 0)
        XCTAssertEqual(choices.index(of: "(b)"), 1)
        XCTAssertEqual(choices.index(ofToken: " (b"), 1)
        XCTAssertEqual(choices.index(ofToken: "c"), 2)
        XCTAssertNil(choices.index(ofToken: " ("))
        XCTAssertNil(choices.index(ofToken: "d"))
        let labels = try XCTUnwrap(LabelSet.of(nli))
        XCTAssertEqual(labels.choices.map(\.text), ["entailment", "neutral", "contradiction"])
        XCTAssertEqual(labels.index(ofToken: " neut"), 1)
        XCTAssertEqual(labels.index(ofToken: "Contr"), 2)
        XCTAssertNil(labels.index(ofToken: " the"))
        XCTAssertNil(LabelSet.of(Example(id: "x", input: "Ann has 3 cats.", label: "( 3 )")), "open answers")
        XCTAssertEqual(LabelSet.question(of: cqa.input), "Where is a river?")
    }

    func testTheAnswerPositionIsTheFirstTokenAfterTheMarkerWithALetter() {
        let text = "Rivers have banks. So the answer is (a) bank."
        let pieces = ["Rivers", " have", " banks", ".", " So", " the", " answer", " is", " (", "a", ")", " bank", "."]
        let tokens = pieces.enumerated().map { TokenLogprob(token: $1, logprob: -Double($0)) }
        XCTAssertEqual(AnswerPosition.find(in: text, tokens: tokens, task: .cqa)?.token, "a")
        XCTAssertEqual(AnswerPosition.find(in: "So the answer is neutral.", tokens: [.init(token: "So the answer is", logprob: 0),
                                                                                   .init(token: " neutral", logprob: -0.1)],
                                           task: .anli)?.token, " neutral")
        XCTAssertNil(AnswerPosition.find(in: text, tokens: tokens, task: .svamp), "no marker")
        XCTAssertNil(AnswerPosition.find(in: text, tokens: [.init(token: "Other text", logprob: 0)], task: .cqa),
                     "tokens that do not spell the text")
    }

    /// k alternatives, T on the log-probabilities, renormalised over the labels, missing mass kept.
    func testTheDistributionOverTheLabelSet() throws {
        let labels = try XCTUnwrap(LabelSet.of(cqa))
        let p = position([("a", log(0.6)), (" (", log(0.1)), ("b", log(0.2)), (" b", log(0.05)), ("c", log(0.02))])
        let all = try XCTUnwrap(TeacherLabelDistribution.make(p, labels: labels))
        XCTAssertEqual(all.probabilities[0], 0.6 / 0.87, accuracy: 1e-12)
        XCTAssertEqual(all.probabilities[1], 0.25 / 0.87, accuracy: 1e-12, "two tokens of one label add up")
        XCTAssertEqual(all.missingMass, 0.13, accuracy: 1e-12)
        let top3 = try XCTUnwrap(TeacherLabelDistribution.make(p, labels: labels, k: 3))
        for (got, want) in zip(top3.probabilities, [0.75, 0.25, 0]) { XCTAssertEqual(got, want, accuracy: 1e-12, "k=3 keeps a, ( and b") }
        XCTAssertEqual(top3.missingMass, 0.2, accuracy: 1e-12)
        let hot = try XCTUnwrap(TeacherLabelDistribution.make(p, labels: labels, k: 3, temperature: 2))
        XCTAssertEqual(hot.probabilities[0], sqrt(0.6) / (sqrt(0.6) + sqrt(0.2)), accuracy: 1e-12)
        XCTAssertEqual(hot.missingMass, 0.2, accuracy: 1e-12, "the missing mass is at T = 1")
        XCTAssertNil(TeacherLabelDistribution.make(position([(" (", -0.1)]), labels: labels), "no label among the alternatives")
        // The report's number: the mean over examples with an answer position.
        let annotations = [annotation(cqa, p), annotation(nli, nil)]
        XCTAssertEqual(TeacherLabelDistribution.meanMissingMass(annotations, examples: [cqa, nli])!, 0.13, accuracy: 1e-12)
        XCTAssertNil(TeacherLabelDistribution.meanMissingMass([annotation(cqa, nil)], examples: [cqa]))
    }

    func testWeightedPairsMixTheTeacherWithGold() throws {
        let p = position([("b", log(0.5)), ("a", log(0.3)), ("c", log(0.1))])
        let s = try SoftLabelDistillation.streams(variant(alpha: 0.5, k: 3), examples: [cqa], annotations: ["train-0": annotation(cqa, p)], format: .stepwise)
        XCTAssertEqual(s.count, 1)
        XCTAssertEqual(s[0].inputs, [cqa.input, cqa.input, cqa.input])
        XCTAssertEqual(s[0].targets, ["bank", "desk", "sky"])
        let w = try XCTUnwrap(s[0].exampleWeights)
        XCTAssertEqual(w[0], 0.5 + 0.5 * 0.3 / 0.9, accuracy: 1e-12)
        XCTAssertEqual(w[1], 0.5 * 0.5 / 0.9, accuracy: 1e-12)
        XCTAssertEqual(w[2], 0.5 * 0.1 / 0.9, accuracy: 1e-12)
        XCTAssertEqual(w.reduce(0, +), 1, accuracy: 1e-12)
    }

    /// α = 0 is standard fine-tuning's pairs, exactly; so is a one-hot teacher on the gold label
    /// (then every pair's weight is 1 and the trainer's weighted CE is plain CE bit for bit).
    func testAlphaZeroAndOneHotTeachersAreStandardFineTuning() throws {
        let examples = [cqa, nli]
        let standard = try StandardFinetune.streams(MethodVariant(), examples: examples, annotations: [:], format: .stepwise)
        let p = position([("b", log(0.9)), ("a", log(0.1))])
        let soft = ["train-0": annotation(cqa, p), "train-1": annotation(nli, position([(" neutral", -0.1)]))]
        XCTAssertEqual(try SoftLabelDistillation.streams(variant(alpha: 0), examples: examples, annotations: soft, format: .stepwise), standard)
        XCTAssertEqual(try SoftLabelDistillation.streams(variant(alpha: 0), examples: examples, annotations: [:], format: .stepwise), standard,
                       "α = 0 needs nothing from the teacher")
        let oneHot = ["train-0": annotation(cqa, position([("a", 0)])), "train-1": annotation(nli, position([(" contradiction", 0)]))]
        XCTAssertEqual(try SoftLabelDistillation.streams(variant(alpha: 0.7, k: 1), examples: examples, annotations: oneHot, format: .stepwise), standard)
    }

    func testClearErrorsWithoutLogprobsOrLabelSets() {
        XCTAssertThrowsError(try SoftLabelDistillation.streams(variant(alpha: 0.5), examples: [cqa],
                                                               annotations: ["train-0": annotation(cqa, nil)], format: .stepwise)) { error in
            XCTAssertTrue("\(error)".contains("teacher.logprobs: true"), "\(error)")
        }
        let open = Example(id: "train-0", input: "Ann has 3 cats.", label: "( 3 )")
        XCTAssertThrowsError(try SoftLabelDistillation.streams(variant(alpha: 0.5, k: 1), examples: [open],
                                                               annotations: ["train-0": annotation(open, position([("3", 0)]))], format: .stepwise)) { error in
            XCTAssertTrue("\(error)".contains("label set"), "\(error)")
        }
        XCTAssertThrowsError(try SoftLabelDistillation.streams(variant(alpha: 0.5, k: 5), examples: [cqa],
                                                               annotations: ["train-0": annotation(cqa, position([("a", -0.1), ("b", -3)]))], format: .stepwise)) { error in
            XCTAssertTrue("\(error)".contains("at most 2"), "\(error)")
        }
    }

    /// The synthetic task with `choices:` and the synthetic teacher's made-up log-probabilities.
    func testSyntheticChoicesAndTeacherLogprobs() throws {
        let open = SyntheticArith.splits(train: 40, valid: 0, test: 0, seed: 5)
        let mc = SyntheticChoices.apply(open, count: 4, seed: 5)
        XCTAssertEqual(mc, SyntheticChoices.apply(open, count: 4, seed: 5), "deterministic")
        let plain = SyntheticTeacher(errorRate: 0.3, seed: 2)
        let withLogprobs = SyntheticTeacher(errorRate: 0.3, seed: 2, topLogprobs: 5)
        var missing: [Double] = [], wrong = 0, goldHeavier = 0
        for (e, o) in zip(mc.train, open.train) {
            let labels = try XCTUnwrap(LabelSet.of(e))
            XCTAssertEqual(labels.choices.count, 4)
            XCTAssertTrue(e.input.hasPrefix(o.input + "\nAnswer Choices:\n"))
            let values = labels.choices.map { EquationEvaluator.evaluate($0.text)! }
            XCTAssertEqual(Set(values).count, 4, "choices have different values")
            XCTAssertNotNil(labels.index(of: e.label), "the gold equation is a choice")
            // The teacher answers with a choice; its open-answer outputs are unchanged.
            let a = withLogprobs.annotate(e)
            XCTAssertTrue(a.parsed, a.raw)
            let chosen = try XCTUnwrap(labels.index(of: a.label), a.raw)
            XCTAssertEqual(plain.annotate(e).raw, a.raw, "log-probabilities change no text")
            XCTAssertNil(plain.annotate(e).answerLogprobs)
            XCTAssertEqual(withLogprobs.annotate(o).raw, plain.annotate(o).raw)
            XCTAssertFalse(plain.annotate(o).raw.contains("Answer Choices"))
            let p = try XCTUnwrap(a.answerLogprobs, a.raw)
            XCTAssertEqual(p.token, labels.choices[chosen].letter)
            XCTAssertEqual(p.top.count, 5)
            XCTAssertEqual(p.top.map(\.logprob), p.top.map(\.logprob).sorted(by: >))
            let q = try XCTUnwrap(TeacherLabelDistribution.make(p, labels: labels))
            missing.append(q.missingMass)
            let gold = labels.index(of: e.label)!
            if chosen != gold {
                wrong += 1
                if q.probabilities[gold] == q.probabilities.enumerated().filter({ $0.offset != chosen }).map(\.element).max() { goldHeavier += 1 }
            }
        }
        XCTAssertTrue(missing.allSatisfy { $0 > 0.005 && $0 < 0.2 }, "\(missing)")
        XCTAssertGreaterThan(wrong, 0)
        XCTAssertEqual(goldHeavier, wrong, "a mistaken teacher puts most of the rest on the gold label")
        // Same seed, same numbers.
        XCTAssertEqual(withLogprobs.annotate(mc.train[0]), SyntheticTeacher(errorRate: 0.3, seed: 2, topLogprobs: 5).annotate(mc.train[0]))
    }
}
