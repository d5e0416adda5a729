import Foundation
import XCTest
@testable import Stepwise

/// Times the bootstrap at the size of a large claim (10 000 resamples × 1 000 examples × 5 seeds).
/// A measurement, not a test: it asserts nothing about time and runs only when asked, in a
/// release build:
///
///     STEPWISE_STATS_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter StatisticsBenchmarkTests
final class StatisticsBenchmarkTests: XCTestCase {
    func testBootstrapSpeed() throws {
        guard ProcessInfo.processInfo.environment["STEPWISE_STATS_BENCH"] == "1" else {
            throw XCTSkip("a benchmark: set STEPWISE_STATS_BENCH=1 and build with -c release")
        }
        let a = try StatisticsTestData.arm("A", seeds: Array(0..<5), examples: 1000, skill: 0.03, seedShift: { Double($0 % 3) * 0.02 })
        let b = try StatisticsTestData.arm("B", seeds: Array(0..<5), examples: 1000, skill: 0)
        let bootstrap = PairedBootstrap()
        for (name, pairing) in [("paired by seed", SeedPairing.bySeed), ("seeds not paired", .independent)] {
            var times: [Double] = []
            var interval = (0.0, 0.0)
            for _ in 0..<7 {
                let start = DispatchTime.now().uptimeNanoseconds
                let d = try bootstrap.difference(a, b, pairing: pairing).difference
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                interval = (d.lower, d.upper)
            }
            times.sort()
            // The bit patterns let a debug and a release build (or two machines) be compared.
            print(String(format: "StatisticsBenchmark: %@, 10 000 resamples × 1 000 examples × 5 seeds: min %.1f ms, median %.1f ms, max %.1f ms (interval [%.4f, %.4f], bits %016llx %016llx)",
                         name, times[0], times[3], times[6], interval.0, interval.1, interval.0.bitPattern, interval.1.bitPattern))
        }
        var verdictTimes: [Double] = []
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try VerdictRules().compare(a, .greater, b, pairing: .bySeed)
            verdictTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        verdictTimes.sort()
        print(String(format: "StatisticsBenchmark: a full comparison verdict (bootstrap + advice): median %.1f ms", verdictTimes[2]))
    }
}
