import Foundation

/// An API teacher's distribution over an example's label set, read from the top-k alternatives
/// at its answer position (`Annotation.answerLogprobs`). Only this label-level distribution can
/// be learned from an API teacher: its other tokens belong to its own vocabulary, not the
/// student's, and the API returns at most k (≤ 20) of them per position anyway.
public struct TeacherLabelDistribution: Equatable, Sendable {
    /// One probability per choice of the label set, summing to 1.
    public var probabilities: [Double]
    /// The teacher's probability (at temperature 1) not on a label among the k alternatives:
    /// on other tokens, or beyond its top k. What renormalising spreads over the labels.
    public var missingMass: Double

    /// nil when no alternative names a label (the distribution would be undefined).
    /// `k`: use the k likeliest alternatives (all when nil); `temperature` divides the
    /// log-probabilities before renormalising over the labels.
    public static func make(_ position: TokenLogprob, labels: LabelSet, k: Int? = nil,
                            temperature: Double = 1) -> TeacherLabelDistribution? {
        precondition(temperature > 0, "temperature must be > 0")
        var alternatives = position.top.isEmpty ? [TokenLogprob.Alternative(token: position.token, logprob: position.logprob)]
                                                : position.top
        alternatives.sort { $0.logprob > $1.logprob }
        if let k { alternatives = Array(alternatives.prefix(k)) }
        let matched = alternatives.compactMap { a in labels.index(ofToken: a.token).map { (index: $0, logprob: a.logprob) } }
        guard let top = matched.map(\.logprob).max() else { return nil }
        var weights = [Double](repeating: 0, count: labels.choices.count)
        var mass = 0.0
        for m in matched {
            weights[m.index] += exp((m.logprob - top) / temperature)
            mass += exp(m.logprob)
        }
        let total = weights.reduce(0, +)
        return TeacherLabelDistribution(probabilities: weights.map { $0 / total }, missingMass: max(0, 1 - mass))
    }

    /// The mean missing mass over examples whose teacher answer has a position and a label set
    /// (all k alternatives the teacher returned, temperature 1); nil when there are none.
    public static func meanMissingMass(_ annotations: [Annotation], examples: [Example]) -> Double? {
        let byID = Dictionary(annotations.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var total = 0.0, count = 0
        for e in examples {
            guard let position = byID[e.id]?.answerLogprobs, let labels = LabelSet.of(e) else { continue }
            total += make(position, labels: labels)?.missingMass ?? 1
            count += 1
        }
        return count == 0 ? nil : total / Double(count)
    }
}
