import XCTest
@testable import Stepwise

/// The paired bootstrap on inputs whose answer is known by hand.
final class StatisticsBootstrapTests: XCTestCase {
    typealias Fixture = StatisticsTestData

    /// One seed: only examples are resampled, and the bootstrap variance of a mean of N draws is
    /// the population variance of the differences over N.
    func testOneSeedSpreadMatchesClosedForm() throws {
        let n = 400
        let a = try Fixture.arm("A", seeds: [0], examples: n, skill: 0.1)
        let b = try Fixture.arm("B", seeds: [0], examples: n, skill: 0)
        let d = try PairedBootstrap().difference(a, b, pairing: .bySeed)
        let diffs = zip(a.table.values, b.table.values).map { $0 - $1 }
        let mean = diffs.reduce(0, +) / Double(n)
        let populationVariance = diffs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        let expected = (populationVariance / Double(n)).squareRoot()
        XCTAssertEqual(d.difference.estimate, mean, accuracy: 1e-15)
        // 10 000 resamples: the bootstrap SD is within ~0.7 % (one standard error) of its limit.
        XCTAssertEqual(d.difference.standardError, expected, accuracy: 0.03 * expected)
        XCTAssertEqual(d.difference.lower, mean - 1.96 * expected, accuracy: 0.1 * expected)
        XCTAssertEqual(d.difference.upper, mean + 1.96 * expected, accuracy: 0.1 * expected)
        XCTAssertEqual(d.pairing, .bySeed)
        XCTAssertEqual(d.examples, n)
    }

    /// Two seeds whose differences are constant across examples (0 and 1): resampling examples
    /// changes nothing, and the resampled seed mean takes three values — both seeds low, one
    /// each, both high — with chances ¼, ½, ¼. After the √(S/(S−1)) = √2 rescaling they are
    /// 0.5 − √2/2, 0.5, 0.5 + √2/2, so the 2.5 % and 97.5 % points are the outer two and the
    /// bootstrap variance is ½·(√2/2)² = 0.25 = s²/S, the usual variance of a mean of 2.
    func testSeedResamplingIsRescaledByHand() throws {
        let n = 8
        let a = try Fixture.arm("A", [0: Array(repeating: 1, count: n), 1: Array(repeating: 1, count: n)])
        let b = try Fixture.arm("B", [0: Array(repeating: 1, count: n), 1: Array(repeating: 0, count: n)])
        let d = try PairedBootstrap().difference(a, b, pairing: .bySeed).difference
        XCTAssertEqual(d.estimate, 0.5)
        XCTAssertEqual(d.lower, 0.5 - 2.0.squareRoot() / 2, accuracy: 1e-12)
        XCTAssertEqual(d.upper, 0.5 + 2.0.squareRoot() / 2, accuracy: 1e-12)
        XCTAssertEqual(d.standardError, 0.5, accuracy: 0.01)
    }

    /// The same inputs give the same interval bit for bit — rerun, or with runs and examples
    /// listed in another order — and another generator seed gives a different one.
    func testDeterministicBitForBit() throws {
        let a = try Fixture.arm("A", seeds: [0, 1, 2, 3, 4], examples: 300, skill: 0.05, seedShift: { Double($0 % 3) * 0.02 })
        let b = try Fixture.arm("B", seeds: [0, 1, 2, 3, 4], examples: 300, skill: 0)
        func bits(_ e: BootstrapEstimate) -> [UInt64] {
            [e.estimate.bitPattern, e.lower.bitPattern, e.upper.bitPattern, e.standardError.bitPattern]
        }
        let first = bits(try PairedBootstrap().difference(a, b, pairing: .bySeed).difference)
        for _ in 0..<2 {
            XCTAssertEqual(bits(try PairedBootstrap().difference(a, b, pairing: .bySeed).difference), first)
        }
        // Shuffle each run's examples and reverse the runs: the tables, hence the bits, are the same.
        var r = SeededRandom(seed: 99)
        let shuffledRuns = a.seeds.reversed().enumerated().map { _, seed -> SeedRun in
            let row = a.seeds.firstIndex(of: seed)!
            var order = Array(0..<a.examples)
            r.shuffle(&order)
            return SeedRun(seed: seed, exampleIDs: order.map { a.exampleIDs[$0] }, scores: order.map { a.table.values[row * a.examples + $0] })
        }
        let shuffled = try ArmScores(label: "A", runs: shuffledRuns)
        XCTAssertEqual(bits(try PairedBootstrap().difference(shuffled, b, pairing: .bySeed).difference), first)
        let other = bits(try PairedBootstrap(generatorSeed: 1).difference(a, b, pairing: .bySeed).difference)
        XCTAssertEqual(other[0], first[0], "the point estimate does not depend on the generator")
        XCTAssertNotEqual(Array(other[1...]), Array(first[1...]))
    }

    /// The first draws of the generator and of `index(below:)` are fixed for good: a change to
    /// either would silently change every committed interval.
    func testDrawsAreFixed() {
        var r = SeededRandom(seed: PairedBootstrap.defaultGeneratorSeed)
        let draws = (0..<8).map { _ in r.index(below: 1000) }
        var again = SeededRandom(seed: PairedBootstrap.defaultGeneratorSeed)
        XCTAssertEqual((0..<8).map { _ in again.index(below: 1000) }, draws)
        var check = SeededRandom(seed: PairedBootstrap.defaultGeneratorSeed)
        // Lemire's method is the high word of next() × bound (rejection is rare at bound 1000).
        XCTAssertEqual(draws, (0..<8).map { _ in Int(check.next().multipliedFullWidth(by: 1000).high) })
        var small = SeededRandom(seed: 3)
        let counts = (0..<30_000).reduce(into: [0, 0, 0]) { c, _ in c[small.index(below: 3)] += 1 }
        XCTAssertTrue(counts.allSatisfy { abs($0 - 10_000) < 400 }, "\(counts)")
    }

    /// Pairing by seed removes the seeds' shared shift; without it the interval is wider.
    func testPairingBySeedNarrowsTheInterval() throws {
        let shift: (Int) -> Double = { [0.15, -0.12, 0.06, -0.1, 0.0][$0] }
        let a = try Fixture.arm("A", seeds: Array(0..<5), examples: 300, skill: 0.05, seedShift: shift)
        let b = try Fixture.arm("B", seeds: Array(0..<5), examples: 300, skill: 0, seedShift: shift)
        let paired = try PairedBootstrap().difference(a, b, pairing: .bySeed)
        let unpaired = try PairedBootstrap().difference(a, b, pairing: .independent)
        XCTAssertEqual(paired.difference.estimate, unpaired.difference.estimate, accuracy: 1e-12)
        XCTAssertEqual(unpaired.pairing, .independent)
        let pairedWidth = paired.difference.upper - paired.difference.lower
        let unpairedWidth = unpaired.difference.upper - unpaired.difference.lower
        XCTAssertLessThan(pairedWidth, 0.7 * unpairedWidth, "paired \(pairedWidth), unpaired \(unpairedWidth)")
    }

    /// Seeds run for only one arm are left out of a paired difference, and listed.
    func testPairsOnlySharedSeeds() throws {
        let a = try Fixture.arm("A", seeds: [0, 1, 2], examples: 50, skill: 0.1)
        let b = try Fixture.arm("B", seeds: [1, 2, 3], examples: 50, skill: 0)
        let d = try PairedBootstrap().difference(a, b, pairing: .bySeed)
        XCTAssertEqual(d.seedsA, [1, 2])
        XCTAssertEqual(d.unpairedSeedsLeftOut, [0, 3])
        let expected = (a.seedMeans[1] + a.seedMeans[2] - b.seedMeans[0] - b.seedMeans[1]) / 2
        XCTAssertEqual(d.difference.estimate, expected, accuracy: 1e-12)
        // No seed in common: not paired, every seed used.
        let c = try Fixture.arm("C", seeds: [7, 8], examples: 50, skill: 0)
        let u = try PairedBootstrap().difference(a, c, pairing: .bySeed)
        XCTAssertEqual(u.pairing, .independent)
        XCTAssertEqual(u.seedsA, [0, 1, 2])
        XCTAssertEqual(u.seedsB, [7, 8])
    }

    func testBadInputIsNamed() throws {
        let ids = Fixture.ids(3)
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(message { _ = try ArmScores(label: "A", runs: []) }, "A: no runs to compare")
        XCTAssertEqual(message { _ = try ArmScores(label: "A", runs: [SeedRun(seed: 0, exampleIDs: ids, scores: [1, 0, 1]),
                                                                       SeedRun(seed: 0, exampleIDs: ids, scores: [1, 0, 1])]) },
                       "A: seed 0 is listed twice")
        XCTAssertEqual(message { _ = try ArmScores(label: "A", runs: [SeedRun(seed: 0, exampleIDs: ids, scores: [1, 0, 1]),
                                                                       SeedRun(seed: 1, exampleIDs: Array(ids.prefix(2)), scores: [1, 0])]) },
                       "A: seed 1 has no score for test example 'ex0002'")
        XCTAssertEqual(message { _ = try ArmScores(label: "A", runs: [SeedRun(seed: 0, exampleIDs: ids, scores: [1, 0, 1]),
                                                                       SeedRun(seed: 1, exampleIDs: ["ex0000", "ex0001", "zz"], scores: [1, 0, 1])]) },
                       "A: seed 1 scores test example 'zz', which seed 0 does not")
        XCTAssertEqual(message { _ = try ArmScores(label: "A", runs: [SeedRun(seed: 0, exampleIDs: ids, scores: [1, .nan, 1])]) },
                       "A: seed 0, test example 'ex0001': score nan is not finite")
        XCTAssertEqual(message { _ = try ArmScores(label: "A", runs: [SeedRun(seed: 0, exampleIDs: ids, scores: [1, 0])]) },
                       "A: seed 0 has 3 example ids but 2 scores")
        let a = try ArmScores(label: "A", runs: [SeedRun(seed: 0, exampleIDs: ids, scores: [1, 0, 1])])
        let b = try ArmScores(label: "B", runs: [SeedRun(seed: 0, exampleIDs: ["ex0000", "ex0001", "other"], scores: [1, 0, 1])])
        XCTAssertEqual(message { _ = try PairedBootstrap().difference(a, b, pairing: .bySeed) },
                       "A and B were not evaluated on the same test set: 'ex0002' is missing from B")
    }
}
