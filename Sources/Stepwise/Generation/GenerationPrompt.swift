import Foundation

/// A generation prompt (`Experiments/prompts/*_generate.txt`): instructions with `{examples}`
/// — where the request's real training examples go, each written as a worked exemplar in the
/// task's answer format — and optionally `{count}`, the number of new examples asked for.
public struct GenerationPrompt: Hashable, Sendable {
    public static let examplesPlaceholder = "{examples}"
    public var text: String

    public init(text: String) { self.text = text }

    /// Reads a prompt file; throws naming the file when it cannot be read or lacks `{examples}`.
    public init(contentsOfFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw PromptTemplateError(path: path, message: "cannot read the generation prompt")
        }
        guard text.contains(Self.examplesPlaceholder) else {
            throw PromptTemplateError(path: path, message: "the generation prompt has no \(Self.examplesPlaceholder) placeholder "
                                      + "(where the request's real training examples go)")
        }
        self.text = text
    }

    /// The full prompt for one request.
    public func render(_ shown: [Example], count: Int, task: PaperTask) -> String {
        Placeholders.fill(text, ["examples": shown.map { Self.exemplar($0, task: task) }.joined(separator: "\n\n"),
                                 "count": String(count)])
    }

    /// `Q: <input>\nA: <answer line>`: the block format `GeneratedExampleParser` reads back.
    /// Real examples carry no rationale here (the training split has none of its own).
    static func exemplar(_ e: Example, task: PaperTask) -> String {
        "Q: \(e.input)\nA: \(answerLine(label: e.label, input: e.input, task: task))"
    }

    /// The label as the paper's answer rule for `task` reads it back.
    static func answerLine(label: String, input: String, task: PaperTask) -> String {
        switch task {
        case .svamp: return "The answer is \(label)."
        case .cqa:
            // A letter label (`answer: letter`) is shown with its choice's text, as CQA answers.
            let labels = LabelSet.of(input: input)
            let choice = labels.flatMap { set in set.index(of: label).map { set.choices[$0] } }
            return "So the answer is (\(choice?.letter ?? "a")) \(choice?.text ?? label)."
        case .anli: return "So the answer is \(label)."
        case .esnli: return "Answer: \(label)"
        }
    }
}

/// Which real training examples request `index` shows: `shots` of the cell's subsample,
/// drawn without replacement by a generator seeded with the subsample's fraction and seed and
/// the request's index — so a request's prompt never depends on how many examples a cell
/// wants (cells with 1 and 2 per example share their first requests, and an OpenAI-compatible
/// teacher's request cache answers them once).
public enum GenerationShots {
    public static func pick(_ subsample: [Example], shots: Int, fraction: Double, seed: Int, request: Int) -> [Example] {
        var rng = SeededRandom(seed: UInt64(bitPattern: Int64(seed)), "generate", JSONValue.format(fraction), String(request))
        var pool = subsample
        var out: [Example] = []
        while out.count < shots && !pool.isEmpty {
            out.append(pool.remove(at: rng.int(below: pool.count)))
        }
        return out
    }
}
