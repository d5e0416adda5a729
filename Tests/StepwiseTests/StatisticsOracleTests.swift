import Foundation
import XCTest
@testable import Stepwise

/// The bootstrap intervals against an independent numpy computation of the same distribution
/// (Fixtures/bootstrap_oracle.py: another generator, counts by bincount, seeds by multinomial).
/// The generators differ, so the endpoints agree up to Monte-Carlo error: with 100 000 resamples
/// a 2.5 % / 97.5 % point has a standard error of about 0.01 bootstrap SDs (0.0085 for a smooth
/// distribution; 0.010–0.012 measured across numpy seeds for these, made lumpy by resampling
/// five seeds), so the two sides differ by about 0.017 SD; the test allows 0.05 SD (three
/// standard errors) and the SD itself 2 %.
final class StatisticsOracleTests: XCTestCase {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/bootstrap_oracle.py")
    static let resamples = 100_000

    struct Case { var name: String; var kind: String; var pairing: SeedPairing; var a: ArmScores; var b: ArmScores? }
    struct Result: Decodable { var name: String; var estimate: Double; var lower: Double; var upper: Double; var sd: Double }

    func python(_ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: p.terminationStatus == 0 ? data : errors, as: UTF8.self))
    }

    func json(_ arm: ArmScores) -> [String: Any] {
        // Each run's examples in reverse order: the oracle aligns by id on its own.
        ["seeds": arm.seeds, "seedless": arm.seedless, "ids": Array(arm.exampleIDs.reversed()),
         "scores": (0..<arm.seeds.count).map { Array(arm.table.row($0).reversed()) }]
    }

    func testIntervalsMatchNumpy() throws {
        let probe = try python(["-c", "import numpy"])
        if probe.status != 0 {
            print("StatisticsOracleTests: SKIPPED — python3 cannot import numpy:\n\(probe.output)")
            throw XCTSkip("numpy not importable")
        }
        typealias F = StatisticsTestData
        let shift: (Int) -> Double = { [0.06, -0.04, 0.02, -0.05, 0.01][$0 % 5] }
        let a5 = try F.arm("A", seeds: Array(0..<5), examples: 300, skill: 0.04, seedShift: shift)
        let b5 = try F.arm("B", seeds: Array(0..<5), examples: 300, skill: 0, seedShift: { shift($0 + 2) })
        let b3 = try F.arm("B at another fraction", seeds: [0, 1, 2], examples: 300, skill: -0.05, seedShift: shift)
        let a1 = try F.arm("A", seeds: [3], examples: 300, skill: 0.04)
        let b1 = try F.arm("B", seeds: [3], examples: 300, skill: 0)
        let teacher = try ArmScores(label: "teacher", runs: [SeedRun(seed: 0, exampleIDs: b1.exampleIDs, scores: Array(b1.table.row(0)))], seedless: true)
        let graded = try ArmScores(label: "graded", runs: (0..<4).map { seed in
            SeedRun(seed: seed, exampleIDs: a5.exampleIDs, scores: a5.exampleIDs.indices.map { i in
                var r = SeededRandom(seed: UInt64(seed), "graded", String(i))
                return (r.double() * 0.5 + Double(i % 7) / 12).squareRoot()  // a real-valued metric
            })
        })
        let cases = [
            Case(name: "paired, 5 seeds", kind: "difference", pairing: .bySeed, a: a5, b: b5),
            Case(name: "paired, 1 seed", kind: "difference", pairing: .bySeed, a: a1, b: b1),
            Case(name: "other fraction, 5 vs 3 seeds", kind: "difference", pairing: .independent, a: a5, b: b3),
            Case(name: "against a seedless arm", kind: "difference", pairing: .bySeed, a: a5, b: teacher),
            Case(name: "mean, 5 seeds", kind: "mean", pairing: .bySeed, a: a5, b: nil),
            Case(name: "mean of a real-valued metric, 4 seeds", kind: "mean", pairing: .bySeed, a: graded, b: nil),
        ]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-oracle-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("cases.json")
        let spec: [String: Any] = [
            "resamples": Self.resamples, "confidence": 0.95, "seed": 20261201,
            "cases": cases.map { c -> [String: Any] in
                var o: [String: Any] = ["name": c.name, "kind": c.kind, "pairing": c.pairing == .bySeed ? "bySeed" : "independent", "a": json(c.a)]
                if let b = c.b { o["b"] = json(b) }
                return o
            },
        ]
        try JSONSerialization.data(withJSONObject: spec).write(to: input)
        let run = try python([Self.script.path, input.path])
        XCTAssertEqual(run.status, 0, run.output)
        struct Output: Decodable { var cases: [Result] }
        let oracle = try JSONDecoder().decode(Output.self, from: Foundation.Data(run.output.utf8)).cases
        XCTAssertEqual(oracle.count, cases.count)

        let bootstrap = PairedBootstrap(resamples: Self.resamples)
        for (c, o) in zip(cases, oracle) {
            let ours = c.kind == "mean" ? bootstrap.mean(c.a).mean : try bootstrap.difference(c.a, c.b!, pairing: c.pairing).difference
            let tolerance = 0.05 * o.sd
            XCTAssertEqual(ours.estimate, o.estimate, accuracy: 1e-12, c.name)
            XCTAssertEqual(ours.lower, o.lower, accuracy: tolerance, c.name)
            XCTAssertEqual(ours.upper, o.upper, accuracy: tolerance, c.name)
            XCTAssertEqual(ours.standardError, o.sd, accuracy: 0.02 * o.sd, c.name)
            print(String(format: "StatisticsOracleTests: %@: ours [%.5f, %.5f] sd %.5f; numpy [%.5f, %.5f] sd %.5f",
                         c.name, ours.lower, ours.upper, ours.standardError, o.lower, o.upper, o.sd))
        }
    }
}
