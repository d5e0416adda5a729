import XCTest
@testable import Stepwise

/// Verdicts for each claim form, the rules at their boundaries, and the add-seeds advice.
final class StatisticsVerdictTests: XCTestCase {
    typealias Fixture = StatisticsTestData
    let rules = VerdictRules()

    func verdicts(_ a: ArmScores, _ b: ArmScores, pairing: SeedPairing = .bySeed) throws -> [ComparisonOperator: Verdict] {
        var out: [ComparisonOperator: Verdict] = [:]
        for op in ComparisonOperator.allCases { out[op] = try rules.compare(a, op, b, pairing: pairing).verdict }
        return out
    }

    /// Arms A and B of five seeds on 300 examples, with these skills.
    func fiveSeedArms(_ skillA: Double, _ skillB: Double) throws -> (ArmScores, ArmScores) {
        (try Fixture.arm("A", seeds: Array(0..<5), examples: 300, skill: skillA),
         try Fixture.arm("B", seeds: Array(0..<5), examples: 300, skill: skillB))
    }

    func testClearWin() throws {
        let (a, b) = try fiveSeedArms(0.25, 0)
        XCTAssertEqual(try verdicts(a, b), [.greater: .reproduced, .greaterOrEqual: .reproduced, .less: .contradicted, .lessOrEqual: .contradicted])
        let v = try rules.compare(a, .greater, b, pairing: .bySeed)
        XCTAssertGreaterThan(v.difference.difference.lower, 0.1)
        XCTAssertNil(v.advice)
        XCTAssertEqual(v.difference.seedsA.count, 5)
        XCTAssertEqual(v.difference.examples, 300)
        XCTAssertTrue(v.reason.contains("(5 seeds paired, 300 test examples): lies above 0"), v.reason)
    }

    func testClearLoss() throws {
        let (a, b) = try fiveSeedArms(-0.2, 0.05)
        XCTAssertEqual(try verdicts(a, b), [.greater: .contradicted, .greaterOrEqual: .contradicted, .less: .reproduced, .lessOrEqual: .reproduced])
        XCTAssertLessThan(try rules.compare(a, .greater, b, pairing: .bySeed).difference.difference.upper, -0.1)
    }

    func testTieIsInconclusiveWithAdvice() throws {
        let (a, b) = try fiveSeedArms(0, 0)
        XCTAssertEqual(try verdicts(a, b), [.greater: .inconclusive, .greaterOrEqual: .inconclusive, .less: .inconclusive, .lessOrEqual: .inconclusive])
        let v = try rules.compare(a, .greater, b, pairing: .bySeed)
        XCTAssertLessThan(v.difference.difference.lower, 0)
        XCTAssertGreaterThan(v.difference.difference.upper, 0)
        XCTAssertNotNil(v.advice)
        XCTAssertTrue(v.reason.hasSuffix("straddles 0"), v.reason)
    }

    /// The failure: one seed looks like a clear win over test examples, but the seeds
    /// disagree. One seed: the examples-only interval excludes 0, yet the verdict is inconclusive
    /// (training-seed noise is not in it) and asks for seeds. Five seeds: the interval, now
    /// holding the seeds' spread, straddles 0.
    func testOneSeedVersusFiveSeeds() throws {
        let shift: (Int) -> Double = { [0.2, -0.16, 0.08, -0.13, 0.01][$0] }
        let a5 = try Fixture.arm("A", seeds: Array(0..<5), examples: 300, skill: 0, seedShift: shift)
        let b5 = try Fixture.arm("B", seeds: Array(0..<5), examples: 300, skill: 0)
        let a1 = try Fixture.arm("A", seeds: [0], examples: 300, skill: 0, seedShift: shift)
        let b1 = try Fixture.arm("B", seeds: [0], examples: 300, skill: 0)

        let one = try rules.compare(a1, .greater, b1, pairing: .bySeed)
        XCTAssertGreaterThan(one.difference.difference.lower, 0, "one seed alone looks like a win")
        XCTAssertEqual(one.verdict, .inconclusive)
        XCTAssertEqual(one.advice, .measureSeedVariance(total: 3))
        XCTAssertTrue(one.reason.contains("only 1 seed of A, a verdict needs 2"), one.reason)
        XCTAssertEqual(try VerdictRules(minimumSeeds: 1).compare(a1, .greater, b1, pairing: .bySeed).verdict, .reproduced,
                       "it is the minimum-seeds rule that keeps one seed from deciding")

        let five = try rules.compare(a5, .greater, b5, pairing: .bySeed)
        XCTAssertEqual(five.verdict, .inconclusive)
        XCTAssertLessThan(five.difference.difference.lower, 0)
        XCTAssertGreaterThan(five.difference.difference.upper - five.difference.difference.lower,
                             1.3 * (one.difference.difference.upper - one.difference.difference.lower))

        // A real effect: five seeds reproduce it; one seed alone does not decide.
        let win5 = try Fixture.arm("A", seeds: Array(0..<5), examples: 300, skill: 0.2, seedShift: { shift($0) / 3 })
        XCTAssertEqual(try rules.compare(win5, .greater, b5, pairing: .bySeed).verdict, .reproduced)
        let win1 = try Fixture.arm("A", seeds: [0], examples: 300, skill: 0.2, seedShift: { shift($0) / 3 })
        XCTAssertEqual(try rules.compare(win1, .greater, b1, pairing: .bySeed).verdict, .inconclusive)
    }

    func testStableAcrossThreeReruns() throws {
        let a = try Fixture.arm("A", seeds: Array(0..<4), examples: 250, skill: 0.06, seedShift: { Double($0) * 0.01 })
        let b = try Fixture.arm("B", seeds: Array(0..<4), examples: 250, skill: 0)
        let runs = try (0..<3).map { _ in try VerdictRules().compare(a, .greater, b, pairing: .bySeed) }
        for v in runs.dropFirst() {
            XCTAssertEqual(v.verdict, runs[0].verdict)
            XCTAssertEqual(v.reason, runs[0].reason)
            XCTAssertEqual(v.advice, runs[0].advice)
            XCTAssertEqual(v.difference.difference.lower.bitPattern, runs[0].difference.difference.lower.bitPattern)
            XCTAssertEqual(v.difference.difference.upper.bitPattern, runs[0].difference.difference.upper.bitPattern)
        }
    }

    func testEveryFraction() throws {
        let b = try Fixture.arm("B", seeds: Array(0..<3), examples: 200, skill: 0)
        func at(_ fraction: Double, skill: Double) throws -> FractionComparison {
            let a = try Fixture.arm("A", seeds: Array(0..<3), examples: 200, skill: skill)
            return FractionComparison(fraction: fraction, comparison: try rules.compare(a, .greater, b, pairing: .bySeed))
        }
        let win1 = try at(1.0, skill: 0.3), win2 = try at(0.25, skill: 0.3), tie = try at(0.5, skill: 0), loss = try at(0.125, skill: -0.3)
        XCTAssertEqual([win1, win2, tie, loss].map(\.comparison.verdict), [.reproduced, .reproduced, .inconclusive, .contradicted])
        let all = VerdictRules.atEveryFraction([win1, win2])
        XCTAssertEqual(all.verdict, .reproduced)
        XCTAssertEqual(all.fractions.map(\.fraction), [0.25, 1.0], "reported one by one, in order")
        XCTAssertEqual(VerdictRules.atEveryFraction([win1, tie, win2]).verdict, .inconclusive)
        XCTAssertEqual(VerdictRules.atEveryFraction([win1, tie, loss]).verdict, .contradicted)
        XCTAssertEqual(VerdictRules.atEveryFraction([]).verdict, .inconclusive)
    }

    /// `A@f1 >= B@f2`: the same seed value at another fraction is another subsample, so the
    /// seeds are resampled per arm; the examples (one test set) stay paired.
    func testAcrossFractionsSeedsAreNotPaired() throws {
        XCTAssertEqual(SeedPairing.forFractions(0.125, 1.0), .independent)
        XCTAssertEqual(SeedPairing.forFractions(0.5, 0.5), .bySeed)
        let a = try Fixture.arm("A@12.5%", seeds: Array(0..<4), examples: 300, skill: 0.15)
        let b = try Fixture.arm("B@100%", seeds: Array(0..<4), examples: 300, skill: 0)
        let v = try rules.compare(a, .greaterOrEqual, b, pairing: SeedPairing.forFractions(0.125, 1.0))
        XCTAssertEqual(v.difference.pairing, .independent)
        XCTAssertEqual(v.verdict, .reproduced)
        XCTAssertEqual(v.difference.difference.estimate, a.table.mean() - b.table.mean(), accuracy: 1e-12)
        XCTAssertTrue(v.reason.contains("4 vs 4 seeds, not paired"), v.reason)
    }

    /// A seedless arm (the teacher's few-shot answers) has no training noise: it never pairs and
    /// never counts against the minimum number of seeds.
    func testSeedlessArm() throws {
        let ids = Fixture.ids(300)
        let teacher = try ArmScores(label: "few_shot_cot", runs: [SeedRun(seed: 0, exampleIDs: ids, scores: ids.indices.map { $0 % 3 == 0 ? 1 : 0 })], seedless: true)
        let a5 = try Fixture.arm("A", seeds: Array(0..<5), examples: 300, skill: 0.2)
        let v = try rules.compare(a5, .greater, teacher, pairing: .bySeed)
        XCTAssertEqual(v.difference.pairing, .independent)
        XCTAssertEqual(v.verdict, .reproduced)
        let a1 = try Fixture.arm("A", seeds: [0], examples: 300, skill: 0.2)
        XCTAssertEqual(try rules.compare(a1, .greater, teacher, pairing: .bySeed).verdict, .inconclusive)
        XCTAssertThrowsError(try ArmScores(label: "T", runs: [SeedRun(seed: 0, exampleIDs: ids, scores: Array(repeating: 1, count: 300)),
                                                               SeedRun(seed: 1, exampleIDs: ids, scores: Array(repeating: 1, count: 300))], seedless: true))
    }

    func testComparisonOperatorsAtZero() {
        let cases: [(ComparisonOperator, Double, Double, Verdict)] = [
            (.greater, 0.01, 0.1, .reproduced), (.greater, 0, 0.1, .inconclusive), (.greater, -0.1, 0, .contradicted),
            (.greater, -0.1, 0.1, .inconclusive), (.greater, 0, 0, .contradicted),
            (.greaterOrEqual, 0, 0.1, .reproduced), (.greaterOrEqual, -0.1, 0, .inconclusive),
            (.greaterOrEqual, -0.1, -1e-9, .contradicted), (.greaterOrEqual, 0, 0, .reproduced),
            (.less, -0.1, -0.01, .reproduced), (.less, -0.1, 0, .inconclusive), (.less, 0, 0.1, .contradicted),
            (.lessOrEqual, -0.1, 0, .reproduced), (.lessOrEqual, 0, 0.1, .inconclusive), (.lessOrEqual, 1e-9, 0.1, .contradicted),
        ]
        for (op, lower, upper, expected) in cases {
            XCTAssertEqual(op.verdict(lower: lower, upper: upper), expected, "\(op.rawValue) on [\(lower), \(upper)]")
        }
    }

    func testReferenceRuleAtItsBoundaries() {
        let cases: [(Double, Double, Verdict)] = [
            (0.55, 0.65, .reproduced),       // touches both edges from inside
            (0.56, 0.64, .reproduced),
            (0.5499, 0.6, .inconclusive),    // reaches out below
            (0.6, 0.6501, .inconclusive),    // reaches out above
            (0.5, 0.7, .inconclusive),       // covers the whole band
            (0.40, 0.55, .inconclusive),     // touches the lower edge from outside
            (0.40, 0.5499, .contradicted),
            (0.65, 0.80, .inconclusive),     // touches the upper edge from outside
            (0.6501, 0.80, .contradicted),
        ]
        for (lower, upper, expected) in cases {
            XCTAssertEqual(ReferenceRule.verdict(lower: lower, upper: upper, value: 0.6, tolerance: 0.05), expected, "[\(lower), \(upper)] vs 0.6 ± 0.05")
        }
        XCTAssertEqual(ReferenceRule.verdict(lower: 0.6, upper: 0.6, value: 0.6, tolerance: 0), .reproduced)
        XCTAssertEqual(ReferenceRule.verdict(lower: 0.59, upper: 0.61, value: 0.6, tolerance: 0), .inconclusive)
    }

    func testReferenceClaims() throws {
        let a = try Fixture.arm("A", seeds: Array(0..<5), examples: 300, skill: 0.1)
        let mean = a.table.mean()
        let inside = try rules.reference(a, value: mean, tolerance: 0.2)
        XCTAssertEqual(inside.verdict, .reproduced)
        XCTAssertNil(inside.advice)
        XCTAssertEqual(try rules.reference(a, value: mean + 0.3, tolerance: 0.05).verdict, .contradicted)
        let tight = try rules.reference(a, value: mean, tolerance: 0.005)
        XCTAssertEqual(tight.verdict, .inconclusive)
        guard case let .testSetTooSmall(halfWidth)? = tight.advice else { return XCTFail("\(String(describing: tight.advice))") }
        XCTAssertGreaterThan(halfWidth, 0.02, "300 examples near 60 % give about ±5 points")
        let one = try Fixture.arm("A", seeds: [0], examples: 300, skill: 0.1)
        XCTAssertEqual(try rules.reference(one, value: one.table.mean(), tolerance: 0.2).verdict, .inconclusive)
        XCTAssertThrowsError(try rules.reference(a, value: 0.6, tolerance: -0.1))
    }

    /// d_si = μ + a_s + b_i with no interaction: the between-seed variance of the seed means is
    /// var(a) and the examples' variance var(b), exactly, so the advice can be worked by hand:
    /// S = ⌈var(a) / ((μ / (z₀.₉₇₅ + z₀.₈))² − var(b)/N)⌉.
    func testAddSeedsAdviceOnAConstructedCase() throws {
        let n = 1000, mu = 0.03, beta = 0.1
        func arms(_ seedEffects: [Double]) throws -> (ArmScores, ArmScores) {
            let seeds = Array(seedEffects.indices)
            let a = try ArmScores(label: "A", runs: seeds.map { s in
                SeedRun(seed: s, exampleIDs: Fixture.ids(n), scores: (0..<n).map { i in mu + seedEffects[s] + (i % 2 == 0 ? beta : -beta) })
            })
            let b = try ArmScores(label: "B", runs: seeds.map { SeedRun(seed: $0, exampleIDs: Fixture.ids(n), scores: Array(repeating: 0, count: n)) })
            return (a, b)
        }
        let (a, b) = try arms([0.04, 0, -0.04])     // var(a) = (0.04² + 0.04²)/2 = 0.0016
        let v = try rules.compare(a, .greater, b, pairing: .bySeed)
        XCTAssertEqual(v.verdict, .inconclusive)
        XCTAssertEqual(v.difference.variance.perSeed, 0.0016, accuracy: 1e-12)
        XCTAssertEqual(v.difference.variance.examples, beta * beta / Double(n - 1), accuracy: 1e-12)  // var(b) = β²·N/(N−1), over N
        let byHand = Int((0.0016 / ((mu / (1.959964 + 0.841621)) * (mu / (1.959964 + 0.841621)) - 0.01 / 999)).rounded(.up))
        XCTAssertEqual(byHand, 16)
        XCTAssertEqual(v.advice, .addSeeds(total: 16, more: 13))
        XCTAssertEqual(v.advice?.description, "add seeds: 16 per arm (13 more) would likely settle it")

        // Borne out: 16 seeds with the same seed variance (±c, c² · 16/15 = 0.0016) settle it.
        let c = 0.04 * (15.0 / 16).squareRoot()
        let (a16, b16) = try arms((0..<16).map { $0 % 2 == 0 ? c : -c })
        XCTAssertEqual(try rules.compare(a16, .greater, b16, pairing: .bySeed).verdict, .reproduced)

        // A smaller effect would take more than 20 seeds (by hand: ⌈0.0016 / ((0.02/2.801585)² − 0.01/999)⌉ = 40);
        // a tiny one cannot be settled by seeds.
        XCTAssertEqual(SeedAdvice.advise(v.difference.variance, margin: 0.02, confidence: 0.95, power: 0.8, minimumSeeds: 2, maximumSeeds: 20),
                       .effectTooSmall(seedsNeeded: 40))
        guard case let .testSetTooSmall(h) = SeedAdvice.advise(v.difference.variance, margin: 0.005, confidence: 0.95, power: 0.8,
                                                               minimumSeeds: 2, maximumSeeds: 20) else { return XCTFail() }
        XCTAssertEqual(h, 1.959964 * (0.01 / 999).squareRoot(), accuracy: 1e-6)
    }

    func testNormalAndTQuantiles() {
        XCTAssertEqual(Distributions.normalQuantile(0.975), 1.959963984540054, accuracy: 1e-12)
        XCTAssertEqual(Distributions.normalQuantile(0.8), 0.8416212335729143, accuracy: 1e-12)
        XCTAssertEqual(Distributions.normalQuantile(0.025), -1.959963984540054, accuracy: 1e-12)
        // Student t, 97.5 % point (standard tables; scipy.stats.t.ppf).
        for (df, t) in [(1, 12.706204736174707), (2, 4.302652729749464), (4, 2.7764451051977934), (9, 2.2621571628540993), (30, 2.0422724563012373)] {
            XCTAssertEqual(Distributions.studentTQuantile(0.975, degreesOfFreedom: df), t, accuracy: 1e-9, "df \(df)")
        }
        XCTAssertEqual(Distributions.studentTQuantile(0.5, degreesOfFreedom: 3), 0)
        XCTAssertEqual(Distributions.studentTQuantile(0.025, degreesOfFreedom: 4), -2.7764451051977934, accuracy: 1e-9)
        // numpy.percentile([1, 2, 3, 4], [2.5, 97.5]) = [1.075, 3.925].
        XCTAssertEqual(Distributions.percentile(ofSorted: [1, 2, 3, 4], 0.025), 1.075, accuracy: 1e-15)
        XCTAssertEqual(Distributions.percentile(ofSorted: [1, 2, 3, 4], 0.975), 3.925, accuracy: 1e-15)
        XCTAssertEqual(Distributions.percentile(ofSorted: [5], 0.975), 5)
    }
}
