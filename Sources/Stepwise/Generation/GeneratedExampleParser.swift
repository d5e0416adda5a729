import Foundation

/// Reads a generation completion back into examples. The prompt shows each exemplar as
///
///     Q: <input, possibly over several lines>
///     A: <rationale and answer, in the task's answer format>
///
/// and the teacher is asked to continue in kind. A block runs from a line starting with `Q:` to
/// the next such line; its first line starting with `A:` ends the input. Text before the first
/// `Q:` (a preamble such as "Here are four new problems:") is skipped; a completion without any
/// `Q:` line is one unreadable block.
public enum GeneratedExampleParser {
    public struct Block: Hashable, Sendable {
        /// The block as written (kept for the report and the failure message).
        public var text: String
        /// nil when the block has no question or no answer part.
        public var input: String?
        public var answer: String?
    }

    public static func blocks(_ completion: String) -> [Block] {
        let lines = completion.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var groups: [[String]] = []
        for line in lines {
            if starts(line, "Q:") { groups.append([line]) } else if !groups.isEmpty { groups[groups.count - 1].append(line) }
        }
        if groups.isEmpty {
            let text = completion.trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? [] : [Block(text: text, input: nil, answer: nil)]
        }
        return groups.map(read)
    }

    static func read(_ lines: [String]) -> Block {
        let text = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let a = lines.firstIndex(where: { starts($0, "A:") }) else { return Block(text: text, input: nil, answer: nil) }
        let question = ([after(lines[0], "Q:")] + lines[1..<a]).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let answer = ([after(lines[a], "A:")] + lines[(a + 1)...]).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !question.isEmpty, !answer.isEmpty else { return Block(text: text, input: nil, answer: nil) }
        return Block(text: text, input: question, answer: answer)
    }

    static func starts(_ line: String, _ marker: String) -> Bool {
        line.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix(marker)
    }

    static func after(_ line: String, _ marker: String) -> String {
        String(line.drop(while: { $0 == " " || $0 == "\t" }).dropFirst(marker.count))
    }
}
