import Foundation

/// Text as compared for near-duplicates: Unicode compatibility-normalized (NFKC: full-width
/// digits, ligatures and the like become their plain forms), lower-cased, and every run of
/// characters that are not letters or digits — spaces, punctuation, line breaks — made one
/// space, trimmed at both ends. "Mia has 12 apples." and "mia  has 12 apples" are the same.
public enum NormalizedText {
    public static func of(_ text: String) -> String {
        var out = ""
        var gap = false
        for c in text.precomposedStringWithCompatibilityMapping.lowercased() {
            if c.isLetter || c.isNumber {
                if gap && !out.isEmpty { out.append(" ") }
                out.append(c)
                gap = false
            } else {
                gap = true
            }
        }
        return out
    }
}

/// Decides each generated block's verdict (`GenerationVerdict`, in its order): readable, not an
/// input of any split (exact or normalized), not a repeat of an example kept before it, and a
/// label the task's answer parser reads and the task can score. Kept examples join the
/// generated set that later ones are compared with.
public struct GenerationFilter {
    struct Seen { var split: Split?; var id: String }
    private var exact: [String: Seen] = [:]
    private var normalized: [String: Seen] = [:]
    let task: PaperTask
    let mode: ParseMode
    let metric: Metric
    /// The dataset names choices by letter (`answer: letter`): a kept label is written as its
    /// choice's letter, like the real ones, whatever form the teacher's answer took.
    let letterLabels: Bool

    /// Every split's inputs; an input found in several splits is reported as the later one of
    /// train, valid, test (a leak into test is the one that matters).
    public init(splits: DatasetSplits, task: PaperTask, mode: ParseMode, metric: Metric) {
        self.task = task; self.mode = mode; self.metric = metric
        letterLabels = !splits.train.isEmpty && splits.train.allSatisfy { LabelSet.isLetter($0.label) }
        for split in Split.allCases {
            for e in splits[split] {
                exact[e.input] = Seen(split: split, id: e.id)
                normalized[NormalizedText.of(e.input)] = Seen(split: split, id: e.id)
            }
        }
    }

    public mutating func judge(_ block: GeneratedExampleParser.Block, id: String, request: Int) -> GeneratedCandidate {
        var c = GeneratedCandidate(id: id, request: request, input: block.input ?? "", label: "", rationale: "",
                                   raw: block.answer ?? block.text, verdict: .unparseable, match: nil, duplicateOf: nil)
        guard let input = block.input, let answer = block.answer else { return c }
        let key = NormalizedText.of(input)
        let found = exact[input].map { ($0, "exact") } ?? normalized[key].map { ($0, "normalized") }
        if let (seen, how) = found {
            c.verdict = seen.split.map(GenerationVerdict.duplicate(of:)) ?? .duplicateOfGenerated
            c.match = how
            c.duplicateOf = seen.id
            return c
        }
        let parsed = PaperOutputParser.parse(answer, task: task, mode: mode)
        c.label = parsed.label.trimmingCharacters(in: .whitespacesAndNewlines)
        c.rationale = parsed.rationale.trimmingCharacters(in: .whitespacesAndNewlines)
        guard parsed.parsed, !c.label.isEmpty, scorable(c.label, input: input) else {
            c.verdict = .labelRejected
            return c
        }
        if letterLabels, let letter = LabelSet.of(input: input)?.letter(of: c.label) { c.label = letter }
        c.verdict = .kept
        exact[input] = Seen(split: nil, id: id)
        normalized[key] = Seen(split: nil, id: id)
        return c
    }

    /// A label the task can score: an equation that evaluates, for the equation metric; one of
    /// the input's own label set (lettered choices, NLI's three labels) when it has one.
    func scorable(_ label: String, input: String) -> Bool {
        if metric == .equation, EquationEvaluator.evaluate(label) == nil { return false }
        if let set = LabelSet.of(input: input), set.index(of: label) == nil { return false }
        return true
    }
}
