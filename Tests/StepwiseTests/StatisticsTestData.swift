import Foundation
@testable import Stepwise

/// Synthetic per-example scores for the statistics tests, from fixed generators.
enum StatisticsTestData {
    static func ids(_ n: Int) -> [String] { (0..<n).map { "ex\(String(format: "%04d", $0))" } }

    /// Each example's easiness in [0, 1), shared by every arm (what makes pairing by example pay).
    static func easiness(_ n: Int, seed: UInt64 = 7) -> [Double] {
        var r = SeededRandom(seed: seed)
        return (0..<n).map { _ in r.double() }
    }

    /// 0/1 scores: seed s gets example i right with probability 0.2 + 0.6·easiness_i + skill +
    /// seedShift(s) (clamped to [0, 1]; an expected accuracy of 0.5 + skill + shift while that
    /// stays in [0.2, 0.8]), each (arm, seed, example) drawing its own coin.
    static func arm(_ label: String, seeds: [Int], examples n: Int, skill: Double,
                    seedShift: (Int) -> Double = { _ in 0 }) throws -> ArmScores {
        let ease = easiness(n)
        let runs = seeds.map { seed in
            SeedRun(seed: seed, exampleIDs: ids(n), scores: (0..<n).map { i -> Double in
                var coin = SeededRandom(seed: UInt64(seed), label, String(i))
                let p = min(1, max(0, 0.2 + 0.6 * ease[i] + skill + seedShift(seed)))
                return coin.double() < p ? 1 : 0
            })
        }
        return try ArmScores(label: label, runs: runs)
    }

    /// Scores given directly, seed by seed, on examples ex0000, ex0001, …
    static func arm(_ label: String, _ scores: [Int: [Double]], seedless: Bool = false) throws -> ArmScores {
        try ArmScores(label: label, runs: scores.keys.sorted().map { SeedRun(seed: $0, exampleIDs: ids(scores[$0]!.count), scores: scores[$0]!) },
                      seedless: seedless)
    }
}
