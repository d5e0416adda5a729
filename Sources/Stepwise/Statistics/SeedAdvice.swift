import Foundation

/// What would likely settle an inconclusive verdict (docs/DESIGN.md § Verdicts, "Add seeds").
public enum SeedAdvice: Sendable, Equatable, CustomStringConvertible {
    /// Run this many seeds per arm in total (`more` than now).
    case addSeeds(total: Int, more: Int)
    /// It would take about `seedsNeeded` seeds per arm, more than is worth running: the effect
    /// may be too small to matter.
    case effectTooSmall(seedsNeeded: Int)
    /// No number of seeds would likely do: the test set alone spreads the estimate by
    /// ± `halfWidth` (a larger test set could, or the effect is too small to resolve).
    case testSetTooSmall(halfWidth: Double)
    /// Some arm has one run, so its between-seed variance is unknown: run `total` seeds first.
    case measureSeedVariance(total: Int)

    public var description: String {
        switch self {
        case let .addSeeds(total, more):
            return "add seeds: \(total) per arm (\(more) more) would likely settle it"
        case let .effectTooSmall(needed):
            return "it would take about \(needed) seeds per arm to settle: the effect may be too small to matter"
        case let .testSetTooSmall(halfWidth):
            return "more seeds would likely not settle it: the test set alone spreads the estimate by ±\(points(halfWidth)) points; the effect may be too small to resolve on this test set"
        case let .measureSeedVariance(total):
            return "one run gives no measure of how much training seeds vary: run at least \(total) seeds, then the advice can say how many"
        }
    }

    /// The advice for an estimate that must move the interval `margin` away from the boundary
    /// it straddles (|A − B| for a comparison, the distance to the band's edge for a reference).
    ///
    /// With S seeds per arm the projected variance is V(S) = perSeed/S + examples. The interval
    /// would likely clear the boundary — with probability `power` if the true effect is the one
    /// observed — when (z_{1−α/2} + z_power)·√V(S) ≤ margin, the usual n = ((z + z_β)·σ/δ)²
    /// sample-size reasoning solved for S.
    static func advise(_ model: VarianceModel, margin: Double, confidence: Double, power: Double,
                       minimumSeeds: Int, maximumSeeds: Int) -> SeedAdvice {
        let zInterval = Distributions.normalQuantile(1 - (1 - confidence) / 2)
        let floorHalfWidth = zInterval * model.examples.squareRoot()
        guard let current = model.seeds else { return .testSetTooSmall(halfWidth: floorHalfWidth) }
        guard model.seedVarianceKnown else { return .measureSeedVariance(total: max(3, minimumSeeds)) }
        let z = zInterval + Distributions.normalQuantile(power)
        let room = (margin / z) * (margin / z) - model.examples
        guard room > 0 else { return .testSetTooSmall(halfWidth: floorHalfWidth) }
        let exact = model.perSeed / room
        guard exact <= Double(maximumSeeds) else { return .effectTooSmall(seedsNeeded: Int(min(exact, 1e9).rounded(.up))) }
        // An inconclusive interval at a count the model says suffices: one more seed at least.
        let needed = max(Int(exact.rounded(.up)), current + 1, minimumSeeds)
        guard needed <= maximumSeeds else { return .effectTooSmall(seedsNeeded: needed) }
        return .addSeeds(total: needed, more: needed - current)
    }
}

/// A metric fraction as points (0.612 → "61.2").
func points(_ value: Double) -> String {
    String(format: "%.1f", value * 100)
}

/// A signed difference as points (0.05 → "+5.0").
func signedPoints(_ value: Double) -> String {
    String(format: "%+.1f", value * 100)
}
