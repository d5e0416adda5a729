import Foundation

/// Response-based KD (Hinton et al., 2015) from an API teacher, at the label level: the student
/// learns `x → label` against the target distribution (1−α)·onehot(gold) + α·q, where q is the
/// teacher's distribution over the example's label set at its answer position (top-k
/// log-probabilities ÷ T, renormalised over the labels; `TeacherLabelDistribution`). Written as
/// one weighted pair (x → label_j) per label with weight t_j, so the stream's summed weighted CE
/// is the soft-label cross entropy over label sequences. Label-set tasks only (CQA's choices,
/// NLI's labels, the synthetic task with `choices:`).
public enum SoftLabelDistillation: DistillationMethod {
    public static let name = "soft_label_distillation"
    public static let version = 1
    public static var teacherSplits: Set<Split> { [.train] }
    /// Targets below this weight are dropped (and the rest renormalised): a pair costs a whole
    /// row of the batch whatever its weight.
    static let smallestWeight = 1e-3

    public static var options: [MethodOption] {
        [MethodOption(key: "alpha", kind: .number(minimum: 0, maximum: 1), defaults: [.number(0.5)],
                      meaning: "the weight α of the teacher's soft labels against the gold one-hot", display: { "α=\($0.plain)" }),
         MethodOption(key: "temperature", kind: .number(minimum: 0, exclusive: true), defaults: [.number(1)],
                      meaning: "the temperature T dividing the teacher's log-probabilities", display: { "T=\($0.plain)" }),
         MethodOption(key: "k", kind: .number(minimum: 1, integer: true), defaults: [.number(5)],
                      meaning: "how many of the teacher's top alternatives are read", display: { "top-\($0.plain)" })]
    }

    public static func streams(_ variant: MethodVariant, examples: [Example], annotations: [String: Annotation],
                               format: StudentInputFormat) throws -> [TextStream] {
        let alpha = variant.double("alpha") ?? 0.5
        let temperature = variant.double("temperature") ?? 1
        let k = Int(variant.double("k") ?? 5)
        var inputs: [String] = [], targets: [String] = [], weights: [Double] = []
        func add(_ e: Example, _ target: String, _ weight: Double) { inputs.append(format.input(e)); targets.append(target); weights.append(weight) }
        guard alpha > 0 else {
            // Nothing from the teacher: standard fine-tuning's pairs.
            for e in examples { add(e, e.label, 1) }
            return [TextStream(name: "label", inputs: inputs, targets: targets, weight: 1)]
        }
        let positions = examples.compactMap { annotations[$0.id]?.answerLogprobs }
        guard !positions.isEmpty else {
            throw StepwiseError("\(name) needs the teacher's log-probabilities at its answers: set `teacher.logprobs: true` and "
                                + "`teacher.top_logprobs: \(k)` (or more) in the spec")
        }
        let offered = positions.map { max(1, $0.top.count) }.max() ?? 0
        guard offered >= k else {
            throw StepwiseError("\(name) reads k=\(k) alternatives, but the teacher's answers carry at most \(offered) "
                                + "(raise teacher.top_logprobs or lower k)")
        }
        for e in examples {
            guard let labels = LabelSet.of(e) else {
                throw StepwiseError("\(name) needs a task with a label set (answer choices or NLI labels); example \(e.id) has an open answer")
            }
            let gold = labels.index(of: e.label)
            guard let position = annotations[e.id]?.answerLogprobs,
                  let q = TeacherLabelDistribution.make(position, labels: labels, k: k, temperature: temperature) else {
                add(e, e.label, 1)   // no teacher distribution (no parsable answer): the gold label alone
                continue
            }
            var t = q.probabilities.map { alpha * $0 }
            if let gold { t[gold] += 1 - alpha }
            let goldOutside = gold == nil ? 1 - alpha : 0   // a gold label the choices do not name
            let kept = t.indices.filter { t[$0] >= smallestWeight }
            let total = kept.reduce(goldOutside) { $0 + t[$1] }
            if goldOutside > 0 { add(e, e.label, goldOutside / total) }
            for j in kept { add(e, j == gold ? e.label : labels.target(j, like: e.label), t[j] / total) }
        }
        let allOne = weights.allSatisfy { $0 == 1 }
        return [TextStream(name: "label", inputs: inputs, targets: targets, weight: 1, exampleWeights: allOne ? nil : weights)]
    }
}
