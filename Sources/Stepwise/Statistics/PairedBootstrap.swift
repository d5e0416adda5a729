/// How the seeds of two compared arms relate.
public enum SeedPairing: String, Sendable, Codable {
    /// Runs with the same seed at the same data fraction trained on the same subsample: the
    /// difference is taken per shared seed, and seeds are resampled together.
    case bySeed = "paired by seed"
    /// Different data fractions (so different subsamples for the same seed value), or a seedless
    /// arm: each arm's seeds are resampled on their own. Examples stay paired either way.
    case independent = "seeds not paired"

    /// Pairing by seed is valid only when the same seed meant the same training subsample.
    public static func forFractions(_ a: Double, _ b: Double) -> SeedPairing {
        a == b ? .bySeed : .independent
    }
}

/// A percentile-bootstrap estimate: the statistic on the data and its interval.
public struct BootstrapEstimate: Sendable, Equatable, Codable {
    public var estimate: Double
    public var lower: Double
    public var upper: Double
    /// The standard deviation of the bootstrap distribution.
    public var standardError: Double
    public var confidence: Double
    public var resamples: Int
}

/// The mean difference A − B with its interval and what it was computed from.
public struct ArmDifference: Sendable {
    public var difference: BootstrapEstimate
    public var pairing: SeedPairing
    public var seedsA: [Int]
    public var seedsB: [Int]
    /// Seeds run for only one of two arms paired by seed; not used.
    public var unpairedSeedsLeftOut: [Int]
    public var examples: Int
    let variance: VarianceModel
}

/// An arm's mean score with its interval.
public struct ArmMean: Sendable {
    public var mean: BootstrapEstimate
    public var seeds: [Int]
    public var examples: Int
    let variance: VarianceModel
}

/// The paired bootstrap of docs/DESIGN.md § Verdicts.
///
/// The statistic is the mean over seeds of each seed's mean over the test examples — the cell's
/// metric averaged over its runs. For a difference paired by seed that equals the mean over
/// shared seeds and examples of A's score minus B's; unpaired, it is A's mean minus B's mean.
/// The interval resamples examples (always, the same draw for A and B) and seeds (for every arm
/// with two or more), from one generator with a fixed seed: the same inputs give the same interval,
/// bit for bit, on every platform.
public struct PairedBootstrap: Sendable {
    /// "STEPWISE" in ASCII: any fixed value would do; this one is fixed for good.
    public static let defaultGeneratorSeed: UInt64 = 0x5354_4550_5749_5345

    public var resamples: Int
    public var confidence: Double
    public var generatorSeed: UInt64

    public init(resamples: Int = 10_000, confidence: Double = 0.95, generatorSeed: UInt64 = PairedBootstrap.defaultGeneratorSeed) {
        precondition(resamples >= 1, "PairedBootstrap needs at least one resample")
        precondition(confidence > 0 && confidence < 1, "PairedBootstrap confidence must be in (0, 1)")
        self.resamples = resamples
        self.confidence = confidence
        self.generatorSeed = generatorSeed
    }

    /// A − B. With `.bySeed`, the seeds both arms ran are paired and any others left out (and
    /// listed); with no seed in common, or a seedless arm, the seeds are not paired.
    public func difference(_ a: ArmScores, _ b: ArmScores, pairing requested: SeedPairing) throws -> ArmDifference {
        try a.requireSameExamples(as: b)
        let shared = a.seeds.filter(Set(b.seeds).contains)
        let paired = requested == .bySeed && !a.seedless && !b.seedless && !shared.isEmpty
        let terms: [BootstrapTerm]
        if paired {
            let table = a.rows(forSeeds: shared).subtracting(b.rows(forSeeds: shared))
            terms = [BootstrapTerm(table: table, sign: 1, resamplesSeeds: shared.count > 1)]
        } else {
            terms = [BootstrapTerm(table: a.table, sign: 1, resamplesSeeds: a.table.rows > 1),
                     BootstrapTerm(table: b.table, sign: -1, resamplesSeeds: b.table.rows > 1)]
        }
        let leftOut = paired ? (a.seeds + b.seeds).filter { !shared.contains($0) }.sorted() : []
        return ArmDifference(difference: estimate(terms), pairing: paired ? .bySeed : .independent,
                             seedsA: paired ? shared : a.seeds, seedsB: paired ? shared : b.seeds,
                             unpairedSeedsLeftOut: leftOut, examples: a.examples,
                             variance: VarianceModel(terms: terms, seeded: paired ? [true] : [!a.seedless, !b.seedless]))
    }

    /// The arm's mean score over its seeds and examples.
    public func mean(_ a: ArmScores) -> ArmMean {
        let terms = [BootstrapTerm(table: a.table, sign: 1, resamplesSeeds: a.table.rows > 1)]
        return ArmMean(mean: estimate(terms), seeds: a.seeds, examples: a.examples,
                       variance: VarianceModel(terms: terms, seeded: [!a.seedless]))
    }

    func estimate(_ terms: [BootstrapTerm]) -> BootstrapEstimate {
        let engine = HierarchicalBootstrap(resamples: resamples, generatorSeed: generatorSeed)
        let sorted = engine.distribution(terms).sorted()
        let tail = (1 - confidence) / 2
        let mean = sorted.reduce(0, +) / Double(sorted.count)
        let spread = sorted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(sorted.count - 1, 1))
        return BootstrapEstimate(estimate: HierarchicalBootstrap.estimate(terms),
                                 lower: Distributions.percentile(ofSorted: sorted, tail),
                                 upper: Distributions.percentile(ofSorted: sorted, 1 - tail),
                                 standardError: spread.squareRoot(), confidence: confidence, resamples: resamples)
    }
}
