import Foundation

/// The closed set of answers an example's label is one of, read from the example itself:
/// lettered `Answer Choices:` lines (CQA, and the synthetic task with `choices:`), or NLI's three
/// labels for a `Premise: …\nHypothesis: …` input. nil for open answers (SVAMP's equations).
public struct LabelSet: Hashable, Sendable {
    public struct Choice: Hashable, Sendable {
        /// `a`, `b`, … for lettered choices; nil for NLI's label words.
        public var letter: String?
        public var text: String
    }

    public var choices: [Choice]

    public static let choicesHeader = "Answer Choices:"

    public static func of(_ example: Example) -> LabelSet? { of(input: example.input) }

    public static func of(input: String) -> LabelSet? {
        if let lettered = lettered(input) { return LabelSet(choices: lettered) }
        if input.hasPrefix("Premise: "), input.contains("\nHypothesis: ") {
            return LabelSet(choices: PaperDatasetLoader.nliLabels.map { Choice(letter: nil, text: $0) })
        }
        return nil
    }

    /// The lines `(a) text` after the last `Answer Choices:` line; nil when there are none.
    static func lettered(_ input: String) -> [Choice]? {
        let lines = input.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let header = lines.lastIndex(of: choicesHeader) else { return nil }
        var out: [Choice] = []
        for line in lines[(header + 1)...] {
            let chars = Array(line)
            guard chars.count >= 4, chars[0] == "(", chars[2] == ")", chars[3] == " ", chars[1].isLetter else { break }
            out.append(Choice(letter: String(chars[1]).lowercased(), text: String(chars[4...])))
        }
        return out.isEmpty ? nil : out
    }

    /// The text before the `Answer Choices:` block (the question alone), or the input as is.
    public static func question(of input: String) -> String {
        guard let r = input.range(of: "\n" + choicesHeader + "\n", options: .backwards) else { return input }
        return String(input[..<r.lowerBound])
    }

    /// The index of the choice a label names (its text, compared as `Metric.choice` does), nil if none.
    public func index(of label: String) -> Int? {
        let wanted = Metric.normalizeChoice(label)
        if wanted.isLetterOnly { return choices.firstIndex { $0.letter == wanted.text } }
        return choices.firstIndex { Metric.normalizeChoice($0.text).text == wanted.text }
    }

    /// Whether a label names its choice by letter alone (`c`, `(c)`): the synthetic task with
    /// `answer: letter`. Such a task's every target is a letter, so soft and counterfactual
    /// targets are written as letters too.
    public static func isLetter(_ label: String) -> Bool { Metric.normalizeChoice(label).isLetterOnly }

    /// Choice `j` written as a target in the form the gold label takes: its letter when the
    /// label is a bare letter (and the choice has one), else its text.
    public func target(_ j: Int, like label: String) -> String {
        if LabelSet.isLetter(label), let letter = choices[j].letter { return letter }
        return choices[j].text
    }

    /// The letter of the choice a label names (its text or its letter), nil if none.
    public func letter(of label: String) -> String? { index(of: label).flatMap { choices[$0].letter } }

    /// The choice a teacher's token stands for, or nil (punctuation, another word, or a prefix
    /// of more than one label word). Lettered choices match on the letter (`b`, ` b`, `(b`);
    /// label words on a non-empty prefix (` neut` → neutral).
    public func index(ofToken token: String) -> Int? {
        let bare = token.lowercased().filter { $0.isLetter || $0.isNumber }
        guard !bare.isEmpty else { return nil }
        if choices.contains(where: { $0.letter != nil }) {
            return choices.firstIndex { $0.letter == bare }
        }
        let matches = choices.indices.filter { choices[$0].text.lowercased().hasPrefix(bare) }
        return matches.count == 1 ? matches[0] : nil
    }
}
