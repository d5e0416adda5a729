import XCTest
@testable import Stepwise

/// index.html and the teacher samples, from the fixed report inputs.
final class ReportPageTests: XCTestCase {
    func render() throws -> (TempProject, Experiment, ReportArtifact) {
        let (project, e) = try ReportFixture.project()
        return (project, e, try ReportRenderer.render(context: ReportContext(e), inputs: ReportFixture.inputs()))
    }

    func testThePageHoldsWhatReportMdHoldsAndMore() throws {
        let (project, _, report) = try render()
        defer { project.remove() }
        let page = try XCTUnwrap(report.files["index.html"])
        XCTAssertTrue(page.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(page.contains("<th class=\"num\">tiny @ 25 %</th>"), "the results table")
        XCTAssertTrue(page.contains(">42.0 ± 25.4</td>"), "with the spread")
        XCTAssertTrue(page.contains("<span class=\"verdict reproduced\">reproduced</span> <code>distill_step_by_step &gt; standard_finetune at every data_fraction</code>"))
        XCTAssertTrue(page.contains("95 % interval ["), "claims carry their intervals")
        XCTAssertEqual(page.components(separatedBy: "<svg").count - 1, 3, "the data-size figure and two curve figures, inline")
        XCTAssertTrue(page.contains("<details><summary>5 examples (a fixed, seeded choice)</summary>"), "samples collapsed")
        XCTAssertTrue(page.contains("<summary>1 output without a parsable answer</summary>"))
        XCTAssertTrue(page.contains("<span class=\"wrong\">wrong</span>") && page.contains("<span class=\"right\">right</span>"))
        for marker in ReportPlaceholder.allCases { XCTAssertTrue(page.contains(marker.marker), "filled when written out") }
        // Self-contained: nothing is fetched.
        for fetch in ["src=\"", "<link", "@import", "url(", "<iframe", "<object", "href=\"http"] {
            XCTAssertFalse(page.contains(fetch), "the page must not load anything (\(fetch))")
        }
        XCTAssertTrue(page.contains("Content-Security-Policy\" content=\"default-src &#39;none&#39;"))
        let md = try XCTUnwrap(report.files["report.md"])
        XCTAssertTrue(md.contains("## Teacher samples") && md.contains("#### Parse failures (train)"), md)
    }

    func testDatasetAndTeacherTextIsEscapedEverywhere() throws {
        let (project, e, report) = try render()
        defer { project.remove() }
        let folder = try TemporaryFolder()
        let out = try ReportRenderer.materialize(report, experiment: e, into: folder.url)
        let page = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        for raw in ["<script>alert", "<img src=x", "<b>He eats", "</pre> <!--", "onerror=alert(1)>"] {
            XCTAssertFalse(page.contains(raw), "unescaped \(raw)")
        }
        XCTAssertTrue(page.contains("Tom has &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; 3 apples &amp; &quot;2&quot; pears &lt;!-- stepwise:spec --&gt;&lt;/pre&gt;"))
        XCTAssertTrue(page.contains("&lt;img src=x onerror=alert(1)&gt; He eats 1."))
        XCTAssertEqual(page.components(separatedBy: "<script>").count - 1, 1, "only the page's own script")
        XCTAssertEqual(page.components(separatedBy: "<section id=\"spec\">").count - 1, 1, "a marker in dataset text is not filled in")
        // report.md keeps dataset text inside code fences.
        let md = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        let fenced = "```text\n\(ReportFixture.hostileInput)\n```"
        XCTAssertTrue(md.contains(fenced), md)
        XCTAssertEqual(md.components(separatedBy: "<script>").count - 1, 1, "once, inside its fence")
    }

    func testWritingOutFillsInTheSpecCostsAndVersions() throws {
        let (project, e, report) = try render()
        defer { project.remove() }
        let folder = try TemporaryFolder()
        let out = try ReportRenderer.materialize(report, experiment: e, stageCosts: [("train", 8, 12.5)], into: folder.url)
        let page = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        for marker in ReportPlaceholder.allCases { XCTAssertFalse(page.contains(marker.marker), marker.marker) }
        XCTAssertTrue(page.contains("<summary>The spec as run: <code>Experiments/exp.yaml</code></summary>"), "its path in the project")
        XCTAssertTrue(page.contains("train: {steps: 200, warmup: 20, lr: 1.0e-3, seeds: [0, 1]}"), "the spec's own text")
        XCTAssertTrue(page.contains("<tr><td>train</td><td class=\"num\" data-value=\"8\">8</td><td class=\"num\" data-value=\"12.500\">12.5</td></tr>"))
        XCTAssertTrue(page.contains("Written by Stepwise \(BuildInfo.stepwiseVersion) (trainer version \(BuildInfo.trainerVersion))"))
        for pin in BuildInfo.dependencies { XCTAssertTrue(page.contains("<tr><td>\(pin.identity)</td><td>\(pin.version)</td>"), pin.identity) }
        let md = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("| train | 8 | 12.5 |"))
        XCTAssertTrue(md.contains("## Versions\n\nWritten by Stepwise"))
        XCTAssertEqual(md.components(separatedBy: "<!-- stepwise:").count - 1, 1, "only the one quoted from the dataset")
        // Writing the same again changes no file (a cached re-run rewrites nothing).
        let before = try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent("index.html").path)[.modificationDate] as? Date
        usleep(20_000)
        _ = try ReportRenderer.materialize(report, experiment: e, stageCosts: [("train", 8, 12.5)], into: folder.url)
        let after = try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent("index.html").path)[.modificationDate] as? Date
        XCTAssertEqual(before, after)
    }

    func testTeacherSamplesAreAFixedSeededChoicePlusEveryFailureUpToALimit() {
        let examples = (0..<200).map { Example(id: "train-\($0)", input: "q\($0)", label: "\($0)") }
        let annotations = examples.map { e -> Annotation in
            let n = Int(e.label)!
            return Annotation(id: e.id, raw: "r", rationale: "because", label: n % 3 == 0 ? "x" : e.label, parsed: n % 7 != 0)
        }
        let a = TeacherSampleSet.choose(split: "train", annotations: annotations, examples: examples, metric: .exactMatch)
        let b = TeacherSampleSet.choose(split: "train", annotations: annotations.reversed(), examples: examples.reversed(), metric: .exactMatch)
        XCTAssertEqual(a.samples.count, 5)
        XCTAssertEqual(Set(a.samples.map(\.id)), Set(b.samples.map(\.id)), "the choice does not depend on the order of the store's rows")
        XCTAssertNotEqual(a.samples.map(\.id), (0..<5).map { "train-\($0)" }, "a seeded choice, not the first five")
        let test = TeacherSampleSet.choose(split: "test", annotations: annotations, examples: examples, metric: .exactMatch)
        XCTAssertNotEqual(test.samples.map(\.id), a.samples.map(\.id), "each split has its own seed")
        XCTAssertEqual(a.failureCount, 29)   // multiples of 7 below 200
        XCTAssertEqual(a.failures.count, TeacherSampleSet.failureLimit)
        XCTAssertTrue(a.failures.allSatisfy { !$0.parsed && !$0.correct })
        for s in a.samples { XCTAssertEqual(s.correct, s.parsed && s.label == s.gold, s.id) }
    }

    /// The dependency versions the binary reports are the ones Package.resolved pins.
    func testEmbeddedPinsAreThoseOfPackageResolved() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Package.resolved")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let pins = try XCTUnwrap(json?["pins"] as? [[String: Any]])
        let expected = pins.map { p -> String in
            let state = p["state"] as? [String: Any]
            return "\(p["identity"]!) \(state?["version"] as? String ?? "?")"
        }.sorted()
        XCTAssertEqual(BuildInfo.dependencies.map { "\($0.identity) \($0.version)" }, expected)
        XCTAssertFalse(expected.isEmpty)
    }
}
