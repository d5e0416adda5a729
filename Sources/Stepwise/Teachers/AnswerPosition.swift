import Foundation

/// Where in a completion the teacher chose its label: the first generated token after the
/// dataset's answer marker that holds a letter or digit — `b` in "So the answer is (b) river",
/// ` neutral` in "So the answer is neutral." Tokens of punctuation before it (` (`) decide
/// nothing. Its top-k alternatives are what soft labels from an API teacher are made of.
public enum AnswerPosition {
    /// The marker the paper's rule for the task reads the answer after.
    public static func marker(for task: PaperTask) -> String {
        switch task {
        case .svamp: return "The answer is"
        case .cqa, .anli: return "So the answer is"
        case .esnli: return "Answer:"
        }
    }

    /// The answer position's log-probabilities, or nil when the text has no marker, the tokens
    /// do not spell the text out that far, or no token after the marker holds a letter or digit.
    public static func find(in text: String, tokens: [TokenLogprob], task: PaperTask) -> TokenLogprob? {
        guard let marker = text.range(of: marker(for: task)) else { return nil }
        let offset = text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: marker.upperBound)
        let scalars = Array(text.unicodeScalars)
        var position = 0
        for t in tokens {
            let piece = Array(t.token.unicodeScalars)
            let end = position + piece.count
            // The tokens must spell the completion: otherwise offsets mean nothing.
            guard end <= scalars.count, Array(scalars[position..<end]) == piece else { return nil }
            if end > offset, piece[max(0, offset - position)...].contains(where: { CharacterSet.alphanumerics.contains($0) }) {
                return t
            }
            position = end
        }
        return nil
    }
}
