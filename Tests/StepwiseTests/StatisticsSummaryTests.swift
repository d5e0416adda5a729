import XCTest
@testable import Stepwise

/// A cell's table entry: mean, spread and interval over seeds.
final class StatisticsSummaryTests: XCTestCase {
    /// Seed metrics 0.5, 0.6, 0.7, 0.55, 0.65 (20 examples each): mean 0.6, sample variance
    /// 0.025/4, and the t-interval 0.6 ± t₀.₉₇₅,₄ · sd/√5 with t₀.₉₇₅,₄ = 2.776445.
    func testFiveSeedsUseTheTIntervalOverSeeds() throws {
        let correct = [10, 12, 14, 11, 13]
        let arm = try StatisticsTestData.arm("A", Dictionary(uniqueKeysWithValues: correct.enumerated().map { seed, k in
            (seed, (0..<20).map { $0 < k ? 1.0 : 0.0 })
        }))
        let s = CellSummary(arm)
        let sd = (0.025 / 4).squareRoot()
        XCTAssertEqual(s.mean, 0.6, accuracy: 1e-12)
        XCTAssertEqual(s.standardDeviation!, sd, accuracy: 1e-12)
        XCTAssertEqual(s.lower, 0.6 - 2.776445105 * sd / 5.0.squareRoot(), accuracy: 1e-8)
        XCTAssertEqual(s.upper, 0.6 + 2.776445105 * sd / 5.0.squareRoot(), accuracy: 1e-8)
        XCTAssertEqual(s.interval, .tOverSeeds)
        XCTAssertEqual(s.seeds, 5)
        XCTAssertEqual(s.examples, 20)
    }

    /// One seed: no spread over seeds; the interval is the bootstrap over the test examples,
    /// close to the normal approximation p ± 1.96·√(p(1−p)/N).
    func testOneSeedUsesTheBootstrapOverExamples() throws {
        let n = 400
        let arm = try StatisticsTestData.arm("A", [4: (0..<n).map { $0 % 5 < 3 ? 1.0 : 0.0 }])   // 60 % correct
        let s = CellSummary(arm)
        let half = 1.96 * (0.6 * 0.4 / Double(n)).squareRoot()
        XCTAssertEqual(s.mean, 0.6, accuracy: 1e-12)
        XCTAssertNil(s.standardDeviation)
        XCTAssertEqual(s.interval, .bootstrapOverExamples)
        XCTAssertEqual(s.lower, 0.6 - half, accuracy: 0.1 * half)
        XCTAssertEqual(s.upper, 0.6 + half, accuracy: 0.1 * half)
        XCTAssertEqual(s.seeds, 1)
    }
}
