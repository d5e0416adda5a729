import Foundation

/// The synthetic teacher writing new training examples, offline, as an LLM prompted with a
/// generation prompt would — in the `Q: … A: …` block format `GeneratedExampleParser` reads,
/// after a one-line preamble. Deterministic in the request (its seed, the shown examples, the
/// mix and the count asked for), independent of anything else.
///
/// Each block is, drawn independently:
/// - with probability `copyRate`, a shown example's input copied verbatim (a duplicate of a
///   training input, as LLMs do when shown examples);
/// - with `nearCopyRate`, a shown example's input lower-cased with doubled spaces after its
///   sentences (a duplicate only after normalization);
/// - with `repeatRate`, the block before it again (a duplicate of a generated example);
/// - with `unreadableRate`, a new problem whose `A:` line is missing (unparseable);
/// - otherwise a new problem from the synthetic task's generator with the dataset's `mix` (its
///   operation counts and distractors), in the style of the shown ones (with as many lettered
///   choices when they have them), answered as `annotate` would: wrong at the teacher's
///   `errorRate`, and with probability `missingAnswerRate` without the answer marker (a label
///   the task's parser rejects).
/// New problems come from the same templates as the dataset, so some equal a train, valid or
/// test input by chance, as a real teacher's sometimes do.
extension SyntheticTeacher {
    public static let copyRate = 0.08
    public static let nearCopyRate = 0.04
    public static let repeatRate = 0.04
    public static let unreadableRate = 0.03
    public static let missingAnswerRate = 0.04

    public func generate(shown: [Example], count: Int, mix: SyntheticArith.Mix = .standard) -> String {
        var rng = SeededRandom(seed: seed, "generate", String(count), shown.map(\.input).joined(separator: "\u{1}"))
        let choices = shown.first.flatMap { LabelSet.lettered($0.input)?.count }
        var blocks: [String] = []
        for j in 0..<count {
            let roll = rng.double()
            var edge = Self.copyRate
            if roll < edge, !shown.isEmpty {
                let e = rng.pick(shown)
                blocks.append(block(e.input, answerText(answer(e).raw)))
                continue
            }
            edge += Self.nearCopyRate
            if roll < edge, !shown.isEmpty {
                let e = rng.pick(shown)
                let respaced = e.input.lowercased().replacingOccurrences(of: ". ", with: ".  ")
                blocks.append(block(respaced, answerText(answer(e).raw)))
                continue
            }
            edge += Self.repeatRate
            if roll < edge, let last = blocks.last {
                blocks.append(last)
                continue
            }
            edge += Self.unreadableRate
            let unreadable = roll < edge
            let problem = SyntheticArith.problem(using: &rng, mix: mix)
            var example = Example(id: "gen-\(rng.next() % 1_000_000_007)-\(j)", input: problem.input, label: problem.equation)
            if let choices { example = SyntheticChoices.apply(example, count: choices, seed: seed) }
            let annotation = answer(example)
            var text = answerText(annotation.raw)
            if rng.chance(Self.missingAnswerRate) {
                text = "\(annotation.rationale) So we get \(annotation.label) in the end."
            }
            blocks.append(unreadable ? "Q: \(example.input)\n\(text)" : block(example.input, text))
        }
        return "Here are \(count) new problems in the same style:\n\n" + blocks.joined(separator: "\n\n")
    }

    private func block(_ input: String, _ answer: String) -> String { "Q: \(input)\nA: \(answer)" }

    /// A completion's answer without the next question it runs on into.
    private func answerText(_ raw: String) -> String {
        raw.components(separatedBy: "\n\nQ:")[0]
    }
}
