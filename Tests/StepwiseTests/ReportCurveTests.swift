import XCTest
import Trainer
@testable import Stepwise

/// The training-curve figure and its downsampling, on fixed inputs.
final class ReportCurveTests: XCTestCase {
    func curve(_ loss: [[Double]], validation: [[Double]] = [], steps: Int, best: Int, streams: [String] = ["label"]) -> TrainingCurve {
        TrainingCurve(cell: Cell(method: "standard_finetune", size: "tiny", dataFraction: 0.5, seed: 0),
                      summary: TrainingSummary(steps: steps, parameters: 1, lossCurve: loss, streamNames: streams,
                                               validationCurve: validation, bestStep: best, bestValidation: 0.4, trainExamples: 1))
    }

    func polylines(_ svg: String) -> [String] {
        svg.components(separatedBy: "<polyline points=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }

    func testANaNLossLeavesAGapAndIsNamed() {
        let loss: [[Double]] = [[10, 2.0], [20, 1.5], [30, .nan], [40, .infinity], [50, 1.2], [60, 1.1]]
        let svg = TrainingCurveFigure(title: "t", metric: "equation", curves: [curve(loss, validation: [[30, 0.2], [60, 0.4]], steps: 60, best: 60)],
                                      learningRate: nil).render()
        // Two loss runs (10–20 and 50–60) and the validation line: the gap is not bridged.
        XCTAssertEqual(polylines(svg).count, 3, svg)
        XCTAssertTrue(svg.contains("label loss not finite from step 30"), svg)
        XCTAssertFalse(svg.lowercased().contains("nan,") || svg.contains("inf"), "no non-finite coordinate is written")
        XCTAssertEqual(CurveDownsampler.segments(loss.map { CurvePoint(x: $0[0], y: $0[1]) }).map(\.count), [2, 2])
    }

    func testASingleStepCurveIsADot() {
        let svg = TrainingCurveFigure(title: "t", metric: "equation", curves: [curve([[1, 0.7]], validation: [[1, 0.25]], steps: 1, best: 1)],
                                      learningRate: LearningRatePlan(steps: 1, peak: 1e-3, warmupSteps: 0, schedule: "linear")).render()
        XCTAssertTrue(polylines(svg).isEmpty, "one point cannot be a line")
        // One dot for the loss, one for validation, one for the learning rate; the checkpoint diamond on top.
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 3, svg)
        XCTAssertTrue(svg.contains("best 25.0 % @ 1"), svg)
        XCTAssertFalse(svg.contains("nan") || svg.contains("inf"), svg)
    }

    func testTenThousandPointsAreDownsampledKeepingTheMinimum() {
        // A noisy decreasing loss with its one lowest point deep inside, away from any bucket edge.
        var rng = SeededRandom(seed: 7)
        var points = (1...10_000).map { i in CurvePoint(x: Double(i), y: 2 * exp(-Double(i) / 3000) + 0.1 + 0.05 * rng.double()) }
        points[7321].y = 0.01
        let runs = CurveDownsampler.segments(points, maxPoints: 160)
        let kept = runs.flatMap { $0 }
        XCTAssertEqual(runs.count, 1)
        XCTAssertLessThanOrEqual(kept.count, 160)
        XCTAssertGreaterThan(kept.count, 100, "the budget is used, not wasted")
        XCTAssertTrue(kept.contains(points[7321]), "the minimum survives")
        XCTAssertEqual(kept.first, points.first)
        XCTAssertEqual(kept.last, points.last)
        XCTAssertEqual(kept.map(\.x), kept.map(\.x).sorted(), "in step order")
        XCTAssertEqual(kept.map(\.y).max(), points.map(\.y).max(), "and so does the highest spike")
        // Through the figure: the drawn line has at most the budget's points and reaches the minimum's y.
        let c = curve(points.map { [$0.x, $0.y] }, steps: 10_000, best: 10_000)
        let svg = TrainingCurveFigure(title: "t", metric: "equation", curves: [c], learningRate: nil).render()
        let line = try! XCTUnwrap(polylines(svg).first)
        XCTAssertLessThanOrEqual(line.split(separator: " ").count, 160)
    }

    func testLearningRateIsTheTrainersSchedule() {
        for schedule in ["linear", "cosine", "constant"] {
            let plan = LearningRatePlan(steps: 1000, peak: 5e-3, warmupSteps: 30, schedule: schedule)
            let trainer = LearningRateSchedule(rawValue: schedule)!
            for step in [1, 30, 31, 500, 1000] {
                // Curves count steps from 1 after the update; the trainer's step is 0-based before it.
                XCTAssertEqual(plan.rate(atStep: step), Double(trainer.rate(step: step - 1, totalSteps: 1000, warmupSteps: 30, peak: 5e-3)),
                               accuracy: 1e-12, "\(schedule) at \(step)")
            }
            let points = plan.points()
            XCTAssertTrue(points.contains { $0.x == 30 } && points.contains { $0.x == 31 }, "the warm-up's corner is drawn")
            XCTAssertLessThan(points.count, 80)
        }
    }

    func testOneFigurePerMethodVariantAndSizeWithAPanelPerCell() throws {
        let (project, e) = try ReportFixture.project()
        defer { project.remove() }
        let report = try ReportRenderer.render(context: ReportContext(e), inputs: ReportFixture.inputs())
        let curves = report.files.keys.filter { $0.hasPrefix("curves-") }.sorted()
        XCTAssertEqual(curves, ["curves-distill_step_by_step-labels=gold-lambda=1-tiny.svg", "curves-standard_finetune-tiny.svg"])
        let svg = try XCTUnwrap(report.files["curves-distill_step_by_step-labels=gold-lambda=1-tiny.svg"])
        XCTAssertEqual(svg.components(separatedBy: "<g>").count - 1, 4, "2 fractions × 2 seeds")
        XCTAssertTrue(svg.contains(">rationale loss</text>") && svg.contains(">label loss</text>"), "a line per stream, named")
        XCTAssertTrue(svg.contains(">25 % · seed 1 · best 50.0 % @ 150</text>"), svg)
        let md = try XCTUnwrap(report.files["report.md"])
        XCTAssertTrue(md.contains("## Training curves"))
        XCTAssertTrue(md.contains("![curves-standard_finetune-tiny.svg](curves-standard_finetune-tiny.svg)"))
        XCTAssertFalse(md.contains("![predictions/"), "prediction files are data, not images")
    }
}
