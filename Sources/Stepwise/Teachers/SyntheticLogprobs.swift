import Foundation

/// Token log-probabilities for the synthetic teacher's completions, shaped like an API's
/// (`TokenLogprob`: the chosen token, its log-probability, the k likeliest alternatives) so the
/// quickstart can show soft labels offline. Synthetic, not a model's: every number is drawn from
/// a generator seeded by (teacher seed, example id), so they are deterministic.
///
/// Tokens are words with their leading space, and single punctuation characters. At the answer
/// position of a multiple-choice completion (the letter in "(c)") the teacher is confident when
/// right (55–95 % on its letter) and hesitant when wrong (40–70 %, with most of the rest on the
/// gold letter); the other letters share what is left, and 2–8 % goes to tokens that are no
/// label (" The", " (", a newline) or beyond the top k — the "missing mass" soft labels
/// renormalise away. Elsewhere a token gets 74–98 % and its alternatives are common words.
public struct SyntheticLogprobs: Sendable {
    public var seed: UInt64
    /// Alternatives per token (0: none).
    public var top: Int

    static let fillers = [" the", ",", " and", " is", ".", " of", " to", " a"]
    static let nonLabels = [" The", " (", "\n"]

    /// One entry per token of `annotation.raw`; the tokens spell the text exactly.
    public func tokens(for annotation: Annotation, example: Example) -> [TokenLogprob] {
        var rng = SeededRandom(seed: seed, "logprobs", example.id)
        let pieces = Self.split(annotation.raw)
        let choices = LabelSet.lettered(example.input)
        let answer = choices == nil ? nil : answerIndex(pieces, annotation.raw)
        return pieces.enumerated().map { i, piece in
            if i == answer, let choices, let letter = choices.firstIndex(where: { $0.letter == piece }) {
                let gold = LabelSet(choices: choices).index(of: example.label) ?? letter
                return choiceLogprobs(piece, chosen: letter, gold: gold, letters: choices.map { $0.letter ?? "" }, rng: &rng)
            }
            let p = 0.74 + 0.24 * rng.double()
            var alternatives = [TokenLogprob.Alternative(token: piece, logprob: log(p))]
            var rest = 1 - p
            for filler in Self.fillers where filler != piece && alternatives.count < top {
                let share = rest * (0.3 + 0.4 * rng.double())
                alternatives.append(.init(token: filler, logprob: log(share)))
                rest -= share
            }
            return TokenLogprob(token: piece, logprob: log(p), top: Array(alternatives.prefix(top)))
        }
    }

    /// The index of the first piece after "So the answer is" that holds a letter.
    func answerIndex(_ pieces: [String], _ raw: String) -> Int? {
        guard let marker = raw.range(of: AnswerPosition.marker(for: .cqa)) else { return nil }
        let offset = raw.distance(from: raw.startIndex, to: marker.upperBound)
        var position = 0
        for (i, piece) in pieces.enumerated() {
            if position >= offset, piece.contains(where: { $0.isLetter }) { return i }
            position += piece.count
        }
        return nil
    }

    func choiceLogprobs(_ piece: String, chosen: Int, gold: Int, letters: [String], rng: inout SeededRandom) -> TokenLogprob {
        let missing = 0.02 + 0.06 * rng.double()
        var p = [Double](repeating: 0, count: letters.count)
        p[chosen] = chosen == gold ? 0.55 + 0.4 * rng.double() : 0.4 + 0.3 * rng.double()
        p[chosen] = min(p[chosen], 1 - missing - 0.005 * Double(letters.count))
        var rest = 1 - missing - p[chosen]
        if chosen != gold {
            p[gold] = rest * (0.5 + 0.4 * rng.double())
            rest -= p[gold]
        }
        let others = letters.indices.filter { $0 != chosen && $0 != gold }
        let shares = others.map { _ in 0.1 + rng.double() }
        let total = shares.reduce(0, +)
        for (j, share) in zip(others, shares) { p[j] = rest * share / total }
        if others.isEmpty, chosen == gold, letters.count > 1 { p[chosen] += rest }
        var alternatives = letters.indices.map { TokenLogprob.Alternative(token: letters[$0], logprob: log(max(p[$0], 1e-12))) }
        // Most of the missing mass on tokens that name no label; the rest beyond any top k.
        for (token, share) in zip(Self.nonLabels, [0.4, 0.2, 0.1]) {
            alternatives.append(.init(token: token, logprob: log(missing * share)))
        }
        alternatives.sort { ($0.logprob, $1.token) > ($1.logprob, $0.token) }
        return TokenLogprob(token: piece, logprob: log(p[chosen]), top: Array(alternatives.prefix(top)))
    }

    /// Words with their leading space, and single punctuation characters: concatenated, the text.
    static func split(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        func isWord(_ c: Character) -> Bool { c.isLetter || c.isNumber }
        for c in text {
            if isWord(c) {
                if let last = current.last, !isWord(last), current != " " { out.append(current); current = "" }
                current.append(c)
            } else if c == " " {
                if !current.isEmpty { out.append(current) }
                current = " "
            } else {
                if !current.isEmpty, current != " " { out.append(current); current = "" }
                current.append(c)
                out.append(current)
                current = ""
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
