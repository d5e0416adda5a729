import Foundation

/// What the teacher wrote for one example and what the parser made of it.
public struct TeacherSample: Codable, Hashable, Sendable {
    public var id: String
    public var input: String
    public var gold: String
    public var raw: String
    public var rationale: String
    public var label: String
    public var parsed: Bool
    /// The parsed label is right under the dataset's metric (never for an unparsed output).
    public var correct: Bool
}

/// For one annotated split: a fixed, seeded handful of examples, and the parse failures (every
/// one up to a limit), so a reader can check what the teacher said before trusting the students.
public struct TeacherSampleSet: Codable, Hashable, Sendable {
    public var split: String
    public var samples: [TeacherSample]
    public var failures: [TeacherSample]
    /// All parse failures of the split (more than `failures` holds when over the limit).
    public var failureCount: Int

    public static let sampleCount = 5
    public static let failureLimit = 20

    /// The choice depends only on the split's name and its example ids (each example gets a
    /// seeded draw; the lowest `count` are shown), so the same examples are shown on every run,
    /// whatever the order of the stored annotations, and across teachers.
    public static func choose(split: String, annotations: [Annotation], examples: [Example], metric: Metric,
                              count: Int = sampleCount, failureLimit: Int = failureLimit) -> TeacherSampleSet {
        let byID = Dictionary(annotations.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        // In dataset order.
        let paired = examples.compactMap { e in byID[e.id].map { ($0, e) } }
        func sample(_ a: Annotation, _ e: Example) -> TeacherSample {
            TeacherSample(id: a.id, input: e.input, gold: e.label, raw: a.raw, rationale: a.rationale, label: a.label,
                          parsed: a.parsed, correct: a.parsed && metric.isCorrect(prediction: a.label, gold: e.label))
        }
        let draws = paired.indices.map { i -> (UInt64, Int) in
            var rng = SeededRandom(seed: 0, "teacher-samples", split, paired[i].1.id)
            return (rng.next(), i)
        }
        let chosen = draws.sorted { $0 < $1 }.prefix(count).map(\.1).sorted().map { sample(paired[$0].0, paired[$0].1) }
        let failed = paired.filter { !$0.0.parsed }
        return TeacherSampleSet(split: split, samples: chosen, failures: failed.prefix(failureLimit).map { sample($0.0, $0.1) },
                                failureCount: failed.count)
    }
}

enum TeacherSampleMarkdown {
    static func render(_ sets: [TeacherSampleSet]) -> String {
        guard !sets.isEmpty else { return "" }
        var out = "\n## Teacher samples\n"
        for set in sets {
            out += "\n### \(set.split) split\n\n"
            out += "\(set.samples.count) examples chosen with a fixed seed, and the outputs without a parsable answer "
            out += set.failureCount == 0 ? "(none).\n"
                : "(\(set.failureCount)\(set.failureCount > set.failures.count ? ", the first \(set.failures.count) shown" : "")).\n"
            for s in set.samples { out += sample(s) }
            if !set.failures.isEmpty {
                out += "\n#### Parse failures (\(set.split))\n"
                for s in set.failures { out += sample(s) }
            }
        }
        return out
    }

    static func sample(_ s: TeacherSample) -> String {
        let verdict = !s.parsed ? "no parsable answer" : s.correct ? "right" : "wrong"
        var out = "\n**\(inlineCode(s.id))** — gold \(inlineCode(s.gold)), teacher \(inlineCode(s.parsed ? s.label : "∅")): **\(verdict)**\n\n"
        out += "input:\n\n" + fenced(s.input) + "\nteacher's completion (raw):\n\n" + fenced(s.raw)
        if s.parsed { out += "\nparsed rationale:\n\n" + fenced(s.rationale) }
        return out
    }

    /// A fenced block whose fence is longer than any backtick run in the text.
    static func fenced(_ text: String) -> String {
        let fence = String(repeating: "`", count: max(3, longestBacktickRun(text) + 1))
        return "\(fence)text\n\(text.hasSuffix("\n") ? String(text.dropLast()) : text)\n\(fence)\n"
    }

    static func inlineCode(_ text: String) -> String {
        let ticks = String(repeating: "`", count: longestBacktickRun(text) + 1)
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        return flat.isEmpty ? "(empty)" : "\(ticks) \(flat) \(ticks)"
    }

    static func longestBacktickRun(_ text: String) -> Int {
        var best = 0, run = 0
        for c in text { if c == "`" { run += 1; best = max(best, run) } else { run = 0 } }
        return best
    }
}
