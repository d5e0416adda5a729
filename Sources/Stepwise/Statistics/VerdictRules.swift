import Foundation

/// A comparison claim `A op B` decided with uncertainty.
public struct ComparisonVerdict: Sendable {
    public var verdict: Verdict
    public var comparison: ComparisonOperator
    public var labelA: String
    public var labelB: String
    public var difference: ArmDifference
    /// Only for an inconclusive verdict.
    public var advice: SeedAdvice?
    /// One line: the numbers and why they give this verdict.
    public var reason: String
}

/// One data fraction's comparison within an "at every data_fraction" claim.
public struct FractionComparison: Sendable {
    public var fraction: Double
    public var comparison: ComparisonVerdict

    public init(fraction: Double, comparison: ComparisonVerdict) {
        self.fraction = fraction
        self.comparison = comparison
    }
}

/// "A op B at every data_fraction": reproduced only if every fraction is, contradicted if any
/// fraction is, inconclusive otherwise (or when no fraction has results for both arms).
public struct EveryFractionVerdict: Sendable {
    public var verdict: Verdict
    public var fractions: [FractionComparison]
}

/// A reference claim `A = v ± tol` decided with uncertainty.
public struct ReferenceVerdict: Sendable {
    public var verdict: Verdict
    public var label: String
    public var value: Double
    public var tolerance: Double
    public var mean: ArmMean
    public var advice: SeedAdvice?
    public var reason: String
}

/// The rules of docs/DESIGN.md § Verdicts, with their parameters.
public struct VerdictRules: Sendable {
    public var bootstrap: PairedBootstrap
    /// An arm whose scores depend on a training seed needs this many runs for a verdict other
    /// than inconclusive: with one, the interval holds test-set sampling but not training noise,
    /// the very noise that flipped single-seed verdicts between CPUs.
    public var minimumSeeds: Int
    /// "Likely" in the add-seeds advice: the chance the advised seeds settle it, if the true
    /// effect is the one observed.
    public var advicePower: Double
    /// Beyond this many seeds per arm the advice says the effect may be too small instead.
    public var maximumAdvisedSeeds: Int

    public init(bootstrap: PairedBootstrap = PairedBootstrap(), minimumSeeds: Int = 2,
                advicePower: Double = 0.8, maximumAdvisedSeeds: Int = 20) {
        precondition(minimumSeeds >= 1 && advicePower > 0 && advicePower < 1 && maximumAdvisedSeeds >= minimumSeeds)
        self.bootstrap = bootstrap
        self.minimumSeeds = minimumSeeds
        self.advicePower = advicePower
        self.maximumAdvisedSeeds = maximumAdvisedSeeds
    }

    /// `A op B`. Pass `.bySeed` when both arms are at the same data fraction
    /// (`SeedPairing.forFractions`), `.independent` otherwise.
    public func compare(_ a: ArmScores, _ op: ComparisonOperator, _ b: ArmScores, pairing: SeedPairing) throws -> ComparisonVerdict {
        let d = try bootstrap.difference(a, b, pairing: pairing)
        let est = d.difference
        let decided = op.verdict(lower: est.lower, upper: est.upper)
        var verdict = decided
        var why = verdictClause(decided, op: op)
        let seeded = [(a, d.seedsA.count), (b, d.seedsB.count)].filter { !$0.0.seedless }
        if decided != .inconclusive, let few = seeded.first(where: { $0.1 < minimumSeeds }) {
            verdict = .inconclusive
            why = "\(fewSeeds(few.0.label, few.1)); the interval \(why)"
        }
        let seeds = d.pairing == .bySeed ? "\(d.seedsA.count) seeds paired"
            : "\(d.seedsA.count) vs \(d.seedsB.count) seeds, not paired"
        let leftOut = d.unpairedSeedsLeftOut.isEmpty ? "" : "; seeds \(d.unpairedSeedsLeftOut.map(String.init).joined(separator: ", ")) not run for both, left out"
        let reason = "\(a.label) − \(b.label) = \(signedPoints(est.estimate)) points, \(intervalText(est)) (\(seeds), \(d.examples) test examples\(leftOut)): \(why)"
        let advice = verdict == .inconclusive ? advise(d.variance, margin: abs(est.estimate)) : nil
        return ComparisonVerdict(verdict: verdict, comparison: op, labelA: a.label, labelB: b.label,
                                 difference: d, advice: advice, reason: reason)
    }

    /// Combines the per-fraction comparisons of an "at every data_fraction" claim.
    public static func atEveryFraction(_ fractions: [FractionComparison]) -> EveryFractionVerdict {
        let verdicts = fractions.map(\.comparison.verdict)
        let verdict: Verdict = verdicts.isEmpty ? .inconclusive
            : verdicts.contains(.contradicted) ? .contradicted
            : verdicts.allSatisfy { $0 == .reproduced } ? .reproduced : .inconclusive
        return EveryFractionVerdict(verdict: verdict, fractions: fractions.sorted { $0.fraction < $1.fraction })
    }

    /// `A = value ± tolerance` on A's mean (see `ReferenceRule`).
    public func reference(_ a: ArmScores, value: Double, tolerance: Double) throws -> ReferenceVerdict {
        guard tolerance >= 0, tolerance.isFinite, value.isFinite else {
            throw StepwiseError("\(a.label): a reference needs a finite value and a tolerance ≥ 0, got \(value) ± \(tolerance)")
        }
        let m = bootstrap.mean(a)
        let est = m.mean
        let decided = ReferenceRule.verdict(lower: est.lower, upper: est.upper, value: value, tolerance: tolerance)
        var verdict = decided
        let band = "[\(points(value - tolerance)), \(points(value + tolerance))]"
        var why: String
        switch decided {
        case .reproduced: why = "inside the reference band \(band)"
        case .contradicted: why = "outside the reference band \(band)"
        case .inconclusive: why = "reaches both inside and outside the reference band \(band)"
        }
        if decided != .inconclusive, !a.seedless, m.seeds.count < minimumSeeds {
            verdict = .inconclusive
            why = "\(fewSeeds(a.label, m.seeds.count)); the interval lies \(why)"
        }
        let reason = "\(a.label) = \(points(est.estimate)), \(intervalText(est)) (\(m.seeds.count) seeds, \(m.examples) test examples) vs reference \(points(value)) ± \(points(tolerance)): \(why)"
        // To settle, the interval must fit inside the band (mean inside, half-width at most
        // tol − |mean − v|) or clear it (mean outside, half-width under |mean − v| − tol).
        let margin = abs(tolerance - abs(est.estimate - value))
        let advice = verdict == .inconclusive ? advise(m.variance, margin: margin) : nil
        return ReferenceVerdict(verdict: verdict, label: a.label, value: value, tolerance: tolerance,
                                mean: m, advice: advice, reason: reason)
    }

    func advise(_ model: VarianceModel, margin: Double) -> SeedAdvice {
        SeedAdvice.advise(model, margin: margin, confidence: bootstrap.confidence, power: advicePower,
                          minimumSeeds: minimumSeeds, maximumSeeds: maximumAdvisedSeeds)
    }

    private func verdictClause(_ verdict: Verdict, op: ComparisonOperator) -> String {
        let (claimed, other): (String, String)
        switch op {
        case .greater: (claimed, other) = ("above 0", "at or below 0")
        case .greaterOrEqual: (claimed, other) = ("at or above 0", "below 0")
        case .less: (claimed, other) = ("below 0", "at or above 0")
        case .lessOrEqual: (claimed, other) = ("at or below 0", "above 0")
        }
        switch verdict {
        case .reproduced: return "lies \(claimed)"
        case .contradicted: return "lies \(other)"
        case .inconclusive: return "straddles 0"
        }
    }

    private func fewSeeds(_ label: String, _ count: Int) -> String {
        let missing = count == 1 ? "training-seed noise is not in the interval" : "too few to measure training-seed noise"
        return "only \(count) seed\(count == 1 ? "" : "s") of \(label), a verdict needs \(minimumSeeds) (\(missing))"
    }

    private func intervalText(_ e: BootstrapEstimate) -> String {
        "\(String(format: "%g", e.confidence * 100)) % interval [\(points(e.lower)), \(points(e.upper))]"
    }
}
