import Foundation

/// PINTO (Wang et al., ICLR 2023): the student reads the teacher's rationale and answers,
/// `x [rationale] r → gold label`, on every split — so the teacher must write a rationale for
/// each validation and test input too, and stays in the loop at deployment.
///
/// `counterfactual: true` adds the paper's counterfactual regularizer as a second stream of
/// loss weight 1: the same inputs with 30 % of the rationale's words replaced by random words
/// from the training rationales (`perturbed`), trained toward the uniform distribution over the
/// example's label set (one pair per label, weight 1/K), i.e. to be unsure when the rationale is
/// broken. It needs a label-set task (answer choices or NLI labels).
public enum PINTO: DistillationMethod {
    public static let name = "pinto"
    public static let version = 1
    /// The share of rationale words the counterfactual stream replaces.
    public static let perturbedShare = 0.3
    public static var teacherSplits: Set<Split> { [.train, .valid, .test] }
    public static var needsTeacherAtTest: Bool { true }
    /// The counterfactual regularizer is a second stream, trained every step beside the first.
    public static func streamCount(_ variant: MethodVariant) -> Int { variant.string("counterfactual") == "true" ? 2 : 1 }

    public static var options: [MethodOption] {
        [MethodOption(key: "counterfactual", kind: .choice(["false", "true"]), defaults: [.string("false")],
                      meaning: "whether to add the counterfactual regularizer (perturbed rationales → uniform over the labels)",
                      display: { $0.plain == "true" ? "counterfactual" : "no counterfactual" })]
    }

    /// The student's input: the example and the teacher's rationale for it ("" when the teacher
    /// gave none it could parse), joined by the student's rationale marker (`[rationale]`, a
    /// token of a from-scratch tokenizer already; `explain:` for a pretrained T5).
    public static func input(_ example: Example, rationale: String, format: StudentInputFormat) -> String {
        "\(format.input(example)) \(format.rationalePrefix.trimmingCharacters(in: .whitespaces)) \(rationale)"
    }

    static func rationale(_ example: Example, _ annotations: [String: Annotation]) -> String {
        annotations[example.id].map { $0.parsed ? $0.rationale : "" } ?? ""
    }

    public static func streams(_ variant: MethodVariant, examples: [Example], annotations: [String: Annotation],
                               format: StudentInputFormat) throws -> [TextStream] {
        var out = [TextStream(name: "label", inputs: examples.map { input($0, rationale: rationale($0, annotations), format: format) },
                              targets: examples.map(\.label), weight: 1)]
        guard variant.string("counterfactual") == "true" else { return out }
        // Every training rationale's words, sorted: the pool replacements are drawn from.
        let vocabulary = Set(examples.flatMap { rationale($0, annotations).split(separator: " ").map(String.init) }).sorted()
        var inputs: [String] = [], targets: [String] = [], weights: [Double] = []
        for e in examples {
            guard let labels = LabelSet.of(e) else {
                throw StepwiseError("\(name) with counterfactual: true needs a task with a label set (its regularizer makes the "
                                    + "prediction uniform over the answer choices); example \(e.id) has an open answer")
            }
            let r = rationale(e, annotations)
            guard !r.isEmpty else { continue }
            let broken = input(e, rationale: perturbed(r, id: e.id, vocabulary: vocabulary), format: format)
            let gold = labels.index(of: e.label)
            for j in labels.choices.indices {
                inputs.append(broken)
                targets.append(j == gold ? e.label : labels.target(j, like: e.label))
                weights.append(1 / Double(labels.choices.count))
            }
        }
        if !inputs.isEmpty {
            out.append(TextStream(name: "counterfactual", inputs: inputs, targets: targets, weight: 1, exampleWeights: weights))
        }
        return out
    }

    public static func testInput(_ variant: MethodVariant, _ example: Example, format: StudentInputFormat, annotation: Annotation?) -> String {
        input(example, rationale: annotation.map { $0.parsed ? $0.rationale : "" } ?? "", format: format)
    }

    /// `rationale` with round(30 %) of its space-separated words replaced, each by a different
    /// word of `vocabulary`; the positions and words are drawn from a generator seeded by the
    /// example id, so the same example is perturbed the same way in every run.
    public static func perturbed(_ rationale: String, id: String, vocabulary: [String]) -> String {
        var words = rationale.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        var rng = SeededRandom(seed: 0x9170, "pinto-counterfactual", id)
        let count = Int((perturbedShare * Double(words.count)).rounded())
        let positions = rng.shuffled(Array(words.indices)).prefix(count)
        let n = vocabulary.count
        for i in positions where n > 1 || (n == 1 && vocabulary[0] != words[i]) {
            var j = rng.int(below: n)
            // Another word, uniformly among the rest (the vocabulary is sorted and unique).
            if vocabulary[j] == words[i] { j = (j + 1 + rng.int(below: n - 1)) % n }
            words[i] = vocabulary[j]
        }
        return words.joined(separator: " ")
    }
}
