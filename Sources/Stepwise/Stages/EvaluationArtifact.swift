import Foundation

/// One scored row of the comparison: what `evaluate` and `teacher_eval` store, and what the
/// report turns into `results.csv` rows.
public struct EvaluationArtifact: Codable, Sendable {
    public var method: String
    /// A student size name, or `teacher` for the few-shot CoT row.
    public var size: String
    public var dataFraction: Double?
    /// The method's option values for this cell (λ, label source, …).
    public var options: MethodVariant?
    public var seed: Int?
    public var split: String
    public var metric: String
    public var value: Double
    public var count: Int
    /// Teacher rows: how many test outputs had no parsable answer.
    public var parseFailures: Int?
    /// Student rows: parameters of the trained model and the training step chosen on validation.
    public var parameters: Int?
    public var bestStep: Int?
    public var predictions: [String]?
    /// Per test example, in the same order: its id and its score under the metric (1 right,
    /// 0 wrong): what the claims' bootstrap resamples and `predictions/*.jsonl` publishes.
    public var exampleIDs: [String]?
    public var scores: [Double]?
}

