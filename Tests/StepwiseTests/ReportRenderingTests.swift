import XCTest
@testable import Stepwise

/// Claims, CSV, Markdown and LaTeX from fixed evaluations.
final class ReportRenderingTests: XCTestCase {
    func row(_ m: String, _ f: Double, _ seed: Int?, _ v: Double, lambda: Double? = nil, size: String = "tiny") -> EvaluationArtifact {
        ReportFixture.row(m, f, seed, v, lambda: lambda, size: size)
    }

    var evaluations: [EvaluationArtifact] { ReportFixture.evaluations }

    func experiment(claims: [String]) throws -> Experiment {
        let project = try TempProject()
        defer { project.remove() }
        let yaml = ReportFixture.spec(train: "{seeds: [0, 1]}", claims: claims)
        return try project.experiment(yaml)
    }

    func testClaimsAreCheckedWithTheirNumbers() throws {
        let e = try experiment(claims: [
            "distill_step_by_step > standard_finetune at every data_fraction",
            "distill_step_by_step@0.25 >= standard_finetune@1.0",
            "standard_finetune > distill_step_by_step at every data_fraction",
            "distill_step_by_step[tiny]@1.0 = 0.62 ± 0.01",
            "few_shot_cot > distill_step_by_step@1.0",
        ])
        let report = try ReportRenderer.render(context: ReportContext(e), inputs: .init(evaluations: evaluations))
        let verdicts = try XCTUnwrap(report.claims)
        // The reference band (± 1 point) is narrower than two seeds on 100 examples can resolve.
        XCTAssertEqual(verdicts.map(\.verdict), [.reproduced, .reproduced, .contradicted, .inconclusive, .reproduced])
        XCTAssertFalse(verdicts[3].advice.isEmpty, "an inconclusive verdict says what would settle it")
        XCTAssertEqual(verdicts[0].evidence.count, 2, "one comparison per data fraction")
        XCTAssertTrue(verdicts[1].evidence[0].contains("standard_finetune[tiny]@1 = +10.0 points, 95 % interval ["), verdicts[1].evidence[0])
        let md = try XCTUnwrap(report.files["report.md"])
        XCTAssertTrue(md.contains("- **contradicted**: `standard_finetune > distill_step_by_step at every data_fraction`"), md)
        XCTAssertTrue(md.contains("- **inconclusive**: `distill_step_by_step[tiny]@1.0 = 0.62 ± 0.01`"), md)
        XCTAssertNotNil(report.files["claims.json"])
        // The reference claim's published number stands next to ours, in both report formats;
        // other claims carry no reference rows.
        let ref = try XCTUnwrap(verdicts[3].references?.first)
        XCTAssertEqual(ref.reference, 0.62)
        XCTAssertEqual(ref.ours, 0.62, accuracy: 1e-9)
        XCTAssertLessThan(ref.lower, ref.ours)
        XCTAssertEqual(ref.seeds, 2)
        XCTAssertNil(verdicts[0].references)
        XCTAssertTrue(md.contains("## The published numbers and ours"), md)
        XCTAssertTrue(md.contains("| 62.0 ± 1.0 | 62.0 ["), md)
        let html = try XCTUnwrap(report.files["index.html"])
        XCTAssertTrue(html.contains("<h3>The published numbers and ours</h3>"), html)
    }

    func testBadClaimIsASpecErrorWithPosition() throws {
        XCTAssertThrowsError(try experiment(claims: ["distil_step_by_step > standard_finetune"])) { error in
            let issue = (error as? SpecError)?.issues.first
            XCTAssertEqual(issue?.path, "claims[0]")
            XCTAssertTrue(issue?.message.contains("did you mean `distill_step_by_step`") ?? false, "\(error)")
        }
    }

    func testTablesShowMeanAndStdOverSeeds() throws {
        let e = try experiment(claims: [])
        let report = try ReportRenderer.render(context: ReportContext(e), inputs: .init(evaluations: evaluations))
        let md = try XCTUnwrap(report.files["report.md"])
        XCTAssertTrue(md.contains("| method | tiny @ 25 % | tiny @ 100 % |"), md)
        XCTAssertTrue(md.contains("| standard_finetune | 12.0 ± 25.4 | 32.0 ± 25.4 |"), "t(0.975, 1) · 2.83 / √2: two seeds give a wide interval\n\(md)")
        XCTAssertTrue(md.contains("| distill_step_by_step λ=1 (gold labels) | 42.0 ± 25.4 | 62.0 ± 25.4 |"), md)
        XCTAssertTrue(md.contains("from 2 seed(s) (0, 1) and 100 test examples per cell"), md)
        let csv = try XCTUnwrap(report.files["results.csv"]).split(separator: "\n")
        XCTAssertEqual(csv.count, 1 + 9)
        XCTAssertEqual(csv[1], "standard_finetune,tiny,0.25,,0,test,equation,0.100000,")
        XCTAssertEqual(csv[5], "distill_step_by_step,tiny,0.25,1,0,test,equation,0.400000,labels=gold")
        XCTAssertEqual(csv[9], "few_shot_cot,teacher,,,,test,equation,0.800000,")
        let tex = try XCTUnwrap(report.files["results.tex"])
        XCTAssertTrue(tex.contains("\\begin{tabular}{lrr}"), tex)
        XCTAssertTrue(tex.contains("standard\\_finetune & 12.0 $\\pm$ 2.8 & 32.0 $\\pm$ 2.8 \\\\"), tex)
        XCTAssertTrue(tex.contains("distill\\_step\\_by\\_step ($\\lambda$=1) (gold labels) & 42.0"), tex)
        XCTAssertTrue(tex.contains("few\\_shot\\_cot (teacher) & 80.0 & 80.0 \\\\"), tex)
    }

    func testDataSizeFigureHasASeriesPerMethodAndTheTeacherDashed() throws {
        let e = try experiment(claims: [])
        let report = try ReportRenderer.render(context: ReportContext(e), inputs: .init(evaluations: evaluations))
        let svg = try XCTUnwrap(report.files["data-size-tiny.svg"])
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2, "standard_finetune and distill_step_by_step")
        XCTAssertEqual(svg.components(separatedBy: "stroke-dasharray").count - 1, 2, "teacher line and its legend entry")
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 4)
        XCTAssertTrue(svg.contains(">distill_step_by_step λ=1 (gold labels)</text>"))
        XCTAssertTrue(svg.contains(">few_shot_cot (teacher)</text>"))
        XCTAssertTrue(try XCTUnwrap(report.files["report.md"]).contains("![data-size-tiny.svg](data-size-tiny.svg)"))
    }

    func testModelSizeFigurePlacesSizesByParameters() {
        func r(_ m: String, _ size: String, _ params: Int, _ v: Double) -> ResultRow {
            var e = EvaluationArtifact(method: m, size: size, dataFraction: 1, seed: 0, split: "test", metric: "equation",
                                       value: v, count: 10)
            e.parameters = params
            return ResultRow(e)
        }
        let rows = [r("standard_finetune", "tiny", 13_000, 0.1), r("standard_finetune", "small", 1_500_000, 0.3),
                    r("distill_step_by_step", "tiny", 13_000, 0.2), r("distill_step_by_step", "small", 1_500_000, 0.5)]
        let svg = Figures.modelSize(title: "t", metric: "equation", fraction: 1, rows: rows)
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2)
        XCTAssertTrue(svg.contains(">tiny 13k</text>"), svg)
        XCTAssertTrue(svg.contains(">small 1.5M</text>"), svg)
    }

    func testMaterializeReplacesStaleFiguresAndRendersPNGWhenItCan() throws {
        let e = try experiment(claims: [])
        let report = try ReportRenderer.render(context: ReportContext(e), inputs: .init(evaluations: evaluations))
        let folder = try TemporaryFolder()
        let stale = folder.url.appendingPathComponent("data-size-gone.svg")
        try Data("<svg/>".utf8).write(to: stale)
        let notes = folder.url.appendingPathComponent("notes.txt")  // not ours: left alone
        try Data("mine".utf8).write(to: notes)
        let out = try ReportRenderer.materialize(report, experiment: e, into: folder.url)
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: out.path))
        XCTAssertTrue(names.isSuperset(of: report.files.keys.map { String($0.split(separator: "/")[0]) }))
        let predictions = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("predictions").path)
        XCTAssertEqual(predictions.count, 9, "one predictions file per evaluated row")
        let line = try String(contentsOf: out.appendingPathComponent("predictions/standard_finetune-tiny-f0.25-seed0.jsonl"), encoding: .utf8)
            .split(separator: "\n").first
        XCTAssertEqual(line, #"{"correct":true,"id":"test-0","prediction":"right"}"#)
        XCTAssertFalse(names.contains("data-size-gone.svg"))
        XCTAssertTrue(names.contains("notes.txt"))
        if ReportRenderer.executableInPath("rsvg-convert") != nil {
            let png = try Data(contentsOf: out.appendingPathComponent("data-size-tiny.png"))
            XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "a PNG file")
        } else {
            print("note: rsvg-convert not installed; PNG rendering not exercised")
        }
    }
}
