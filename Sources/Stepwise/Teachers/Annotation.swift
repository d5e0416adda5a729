/// What a teacher said about one example: its raw text and what the parser made of it.
public struct Annotation: Codable, Hashable, Sendable {
    /// The `Example.id` this annotates.
    public var id: String
    /// The teacher's raw completion, before any parsing.
    public var raw: String
    /// The parsed chain of thought ("" when it could not be parsed).
    public var rationale: String
    /// The parsed answer ("" when it could not be parsed; an empty label counts as wrong).
    public var label: String
    /// False when the output had no recognizable answer marker.
    public var parsed: Bool
    /// When the teacher was asked for log-probabilities: those of the answer's first token that
    /// holds a letter or digit (where it chose among the labels: `b` of `(b)`, ` neutral`), with
    /// its top-k alternatives (`AnswerPosition`). nil otherwise, and then absent from the JSON,
    /// so annotations without them keep their bytes.
    public var answerLogprobs: TokenLogprob?

    public init(id: String, raw: String, rationale: String, label: String, parsed: Bool, answerLogprobs: TokenLogprob? = nil) {
        self.id = id
        self.raw = raw
        self.rationale = rationale
        self.label = label
        self.parsed = parsed
        self.answerLogprobs = answerLogprobs
    }
}
