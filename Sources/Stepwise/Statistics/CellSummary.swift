/// A cell's entry in the results table: its metric over seeds, with the spread and an interval,
/// and which interval it is.
public struct CellSummary: Sendable, Equatable, Codable {
    public enum IntervalMethod: String, Sendable, Codable {
        /// mean ± t_{0.975, S−1} · sd/√S over the seeds' metrics (two or more seeds): how much the
        /// cell would move if training were rerun with other seeds, on this test set.
        case tOverSeeds = "t-interval over seeds"
        /// The percentile bootstrap over test examples (one seed): test-set sampling only.
        case bootstrapOverExamples = "bootstrap over test examples"
    }

    /// The mean over seeds of each seed's metric (its mean score over the test examples).
    public var mean: Double
    /// The sample standard deviation (n − 1) of the seeds' metrics; nil with one seed.
    public var standardDeviation: Double?
    public var lower: Double
    public var upper: Double
    public var interval: IntervalMethod
    public var confidence: Double
    public var seeds: Int
    public var examples: Int

    /// Summarises an arm; `bootstrap` gives the interval's confidence, and the resampling when
    /// there is one seed.
    public init(_ arm: ArmScores, bootstrap: PairedBootstrap = PairedBootstrap()) {
        let perSeed = arm.seedMeans
        mean = perSeed.reduce(0, +) / Double(perSeed.count)
        confidence = bootstrap.confidence
        seeds = perSeed.count
        examples = arm.examples
        if perSeed.count >= 2 {
            let sd = Distributions.sampleVariance(perSeed).squareRoot()
            let t = Distributions.studentTQuantile(1 - (1 - confidence) / 2, degreesOfFreedom: perSeed.count - 1)
            let half = t * sd / Double(perSeed.count).squareRoot()
            standardDeviation = sd
            lower = mean - half
            upper = mean + half
            interval = .tOverSeeds
        } else {
            let m = bootstrap.mean(arm).mean
            standardDeviation = nil
            lower = m.lower
            upper = m.upper
            interval = .bootstrapOverExamples
        }
    }
}
