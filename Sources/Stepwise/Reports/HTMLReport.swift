import Foundation

/// `index.html`: the whole report as one self-contained page — inline SVG figures and CSS, no
/// request to anywhere, readable without JavaScript (a few lines sort tables and expand or
/// collapse sections). Every piece of text from a spec, dataset or teacher is escaped.
public struct HTMLReport {
    public struct Figure {
        public var file: String
        public var caption: String
        public var svg: String
    }

    public var context: ReportContext
    public var table: ResultsTable
    public var teacher: EvaluationArtifact?
    public var teacherSplits: [TeacherSplitStats]
    public var missing: [String]
    public var claims: [ClaimVerdict]
    public var figures: [Figure]
    public var curves: [Figure]
    public var teacherSamples: [TeacherSampleSet]
    public var predictionFiles: Int
    var generations = GenerationTable(generations: [])
    /// Open at most this many curve figures at first (each is a grid of panels).
    static let openCurveFigures = 6
    /// A claim's comparisons are listed open up to this many.
    static let openEvidenceLines = 6

    func esc(_ s: String) -> String { Markup.escape(s) }

    public func render() -> String {
        let e = context
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<meta http-equiv=\"Content-Security-Policy\" content=\"\(esc(HTMLPageAssets.contentSecurityPolicy))\">\n"
        out += "<meta name=\"color-scheme\" content=\"light dark\">\n<meta name=\"generator\" content=\"stepwise\">\n"
        out += "<title>\(esc(e.title ?? e.name)) — Stepwise report</title>\n<style>\n\(HTMLPageAssets.css)\n</style>\n</head>\n<body>\n"
        out += "<header>\n<h1>\(esc(e.title ?? e.name))</h1>\n"
        out += "<p class=\"meta\">Experiment <code>\(esc(e.name))</code> · dataset <code>\(esc(e.datasetKind))</code> · teacher "
        out += "<code>\(esc(e.teacherKind))</code> · metric <code>\(esc(e.metric))</code> (test split, %)</p>\n"
        var sections = [("results", "Results"), ("claims", "Claims"), ("curves", "Training curves"), ("teacher", "Teacher"),
                        ("generated", "Generated data"), ("protocol", "Protocol"), ("spec", "Spec"), ("cost", "Cost"), ("versions", "Versions")]
        if claims.isEmpty { sections.removeAll { $0.0 == "claims" } }
        if curves.isEmpty { sections.removeAll { $0.0 == "curves" } }
        if teacher == nil && teacherSplits.isEmpty { sections.removeAll { $0.0 == "teacher" } }
        if generations.generations.isEmpty { sections.removeAll { $0.0 == "generated" } }
        out += "<nav>" + sections.map { "<a href=\"#\($0.0)\">\($0.1)</a>" }.joined(separator: " ") + "</nav>\n</header>\n<main>\n"
        if !missing.isEmpty {
            out += "<p class=\"banner\"><strong>Partial report</strong>: \(missing.count) evaluation\(missing.count == 1 ? " is" : "s are") "
            out += "not in the store yet: " + missing.prefix(5).map { "<code>\(esc($0))</code>" }.joined(separator: ", ")
            out += (missing.count > 5 ? ", …" : "") + "</p>\n"
        }
        out += results()
        out += claimsSection()
        out += curvesSection()
        out += teacherSection()
        out += generations.html(escape: esc)
        out += "<section id=\"protocol\">\n<h2>Protocol</h2>\n<p>Students train on the sweep's fraction of the training split "
        out += "(nested subsets per seed: 12.5 % ⊂ 25 % ⊂ 50 % ⊂ 100 %). Checkpoints are selected on the validation split; "
        out += "the test split is scored once, on the selected checkpoint.</p>\n</section>\n"
        for p in [ReportPlaceholder.spec, .costs, .versions] { out += p.marker + "\n" }
        out += "</main>\n<footer>Written by Stepwise. This page is self-contained: it loads nothing from the network.</footer>\n"
        out += "<script>\(HTMLPageAssets.scriptElement)</script>\n</body>\n</html>\n"
        return out
    }

    func results() -> String {
        var out = "<section id=\"results\">\n<h2>Results</h2>\n<div class=\"table-wrap\"><table class=\"sortable\">\n<thead><tr><th>method</th>"
        out += table.columns.map { "<th class=\"num\">\(esc($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for row in table.rows {
            out += "<tr><td>\(esc(row.name))</td>"
            out += row.entries.map { "<td class=\"num\" data-value=\"\($0.value.map { String(format: "%.6f", $0) } ?? "")\">\(esc($0.text))</td>" }.joined()
            out += "</tr>\n"
        }
        out += "</tbody>\n</table></div>\n<p class=\"note\">\(esc(table.note)) Click a column's heading to sort by it.</p>\n"
        for f in figures { out += figure(f) }
        let files = ["results.csv", "results.json", "results.tex", "claims.json", "report.md"]
        out += "<p class=\"note\">Files: " + files.map { "<a href=\"\($0)\">\($0)</a>" }.joined(separator: " · ")
        if predictionFiles > 0 { out += " · <a href=\"predictions/\">predictions/</a> (\(predictionFiles) JSON Lines files of per-example test predictions)" }
        return out + "</p>\n</section>\n"
    }

    func figure(_ f: Figure) -> String {
        "<figure class=\"fig\">\n\(f.svg)<figcaption>\(esc(f.caption)) · <a href=\"\(esc(f.file))\">\(esc(f.file))</a></figcaption>\n</figure>\n"
    }

    func claimsSection() -> String {
        guard !claims.isEmpty else { return "" }
        var out = "<section id=\"claims\">\n<h2>Claims<button type=\"button\" class=\"toggle\" data-section=\"claims\" hidden>expand all</button></h2>\n<p class=\"note\">Each comparison is a paired bootstrap over test examples and seeds "
        out += "(10 000 resamples, 95 % interval of the difference): <strong>reproduced</strong> when the interval lies on the claimed side, "
        out += "<strong>contradicted</strong> when it lies on the other, <strong>inconclusive</strong> otherwise.</p>\n<ul class=\"claims\">\n"
        for v in claims {
            out += "<li><span class=\"verdict \(v.verdict.rawValue)\">\(v.verdict.rawValue)</span> <code>\(esc(v.claim))</code>\n"
            let lines = v.evidence.map(esc) + v.advice.map { "advice: " + esc($0) }
            let list = "<ul>\n" + lines.map { "<li>\($0)</li>\n" }.joined() + "</ul>"
            // A sweep's claim can make dozens of comparisons: past a few, they fold away.
            out += lines.count > Self.openEvidenceLines
                ? "<details><summary>\(v.evidence.count) comparisons\(v.advice.isEmpty ? "" : " and advice")</summary>\n\(list)</details></li>\n"
                : "\(list)</li>\n"
        }
        return out + "</ul>\n" + ReferenceComparison.html(claims, escape: esc) + "</section>\n"
    }

    func curvesSection() -> String {
        guard !curves.isEmpty else { return "" }
        var out = "<section id=\"curves\">\n<h2>Training curves<button type=\"button\" class=\"toggle\" data-section=\"curves\" hidden>expand all</button></h2>\n"
        out += "<p class=\"note\">Per data fraction and seed: the loss of each stream (log scale, left axis), the validation "
        out += "\(esc(context.metric)) (right axis, %) with the selected checkpoint (◆ and dotted line), and below it the learning rate.</p>\n"
        for (i, f) in curves.enumerated() {
            out += "<details\(i < Self.openCurveFigures ? " open" : "")><summary>\(esc(f.caption))</summary>\n"
            out += "<figure class=\"fig\">\n\(f.svg)<figcaption><a href=\"\(esc(f.file))\">\(esc(f.file))</a></figcaption>\n</figure>\n</details>\n"
        }
        return out + "</section>\n"
    }

    func teacherSection() -> String {
        guard teacher != nil || !teacherSplits.isEmpty else { return "" }
        let d = context.decimals
        var out = "<section id=\"teacher\">\n<h2>Teacher<button type=\"button\" class=\"toggle\" data-section=\"teacher\" hidden>expand all</button></h2>\n"
        if let t = teacher {
            let failures = t.parseFailures ?? 0
            out += "<p>Few-shot CoT teacher (<code>\(esc(context.teacherKind))</code>) on the test split: "
            out += "\(SeedStats([t.value]).formatted(decimals: d)) % \(esc(context.metric)), \(failures) of \(t.count) outputs without a parsable answer "
            out += "(\(TeacherSplitText.percent(failures, of: t.count)) %).</p>\n"
        }
        if !teacherSplits.isEmpty {
            out += "<div class=\"table-wrap\"><table class=\"sortable\">\n<thead><tr><th>split</th><th class=\"num\">outputs</th>"
            out += "<th class=\"num\">no parsable answer</th><th class=\"num\">label accuracy (%)</th><th class=\"num\">requests</th>"
            out += "<th class=\"num\">prompt tokens</th><th class=\"num\">completion tokens</th></tr></thead>\n<tbody>\n"
            for t in teacherSplits {
                out += "<tr><td>\(esc(t.split))</td><td class=\"num\" data-value=\"\(t.count)\">\(t.count)</td>"
                out += "<td class=\"num\" data-value=\"\(t.parseFailures)\">\(t.parseFailures) (\(TeacherSplitText.percent(t.parseFailures, of: t.count)) %)</td>"
                out += "<td class=\"num\" data-value=\"\(t.accuracy)\">\(String(format: "%.\(d)f", t.accuracy * 100))</td>"
                out += "<td class=\"num\" data-value=\"\(t.requests)\">\(t.requests)</td><td class=\"num\" data-value=\"\(t.promptTokens)\">\(t.promptTokens)</td>"
                out += "<td class=\"num\" data-value=\"\(t.completionTokens)\">\(t.completionTokens)</td></tr>\n"
            }
            out += "</tbody>\n</table></div>\n"
            if let missing = TeacherSplitText.missingMass(teacherSplits) { out += "<p>\(esc(missing))</p>\n" }
        }
        for set in teacherSamples {
            out += "<h3>\(esc(set.split)) split</h3>\n"
            out += "<details><summary>\(set.samples.count) examples (a fixed, seeded choice)</summary>\n"
            for s in set.samples { out += sample(s) }
            out += "</details>\n"
            if set.failureCount == 0 {
                out += "<p class=\"note\">Every output of this split had a parsable answer.</p>\n"
            } else {
                let shown = set.failureCount > set.failures.count ? " (the first \(set.failures.count) shown)" : ""
                out += "<details><summary>\(set.failureCount) output\(set.failureCount == 1 ? "" : "s") without a parsable answer\(shown)</summary>\n"
                for s in set.failures { out += sample(s) }
                out += "</details>\n"
            }
        }
        return out + "</section>\n"
    }

    func sample(_ s: TeacherSample) -> String {
        let verdict = !s.parsed ? "<span class=\"unparsed\">no parsable answer</span>"
            : s.correct ? "<span class=\"right\">right</span>" : "<span class=\"wrong\">wrong</span>"
        var out = "<div class=\"sample\"><p><code>\(esc(s.id))</code> — gold <code>\(esc(s.gold))</code>, teacher "
        out += s.parsed ? "<code>\(esc(s.label))</code>" : "∅"
        out += ": \(verdict)</p>\n<dl><dt>input</dt><dd><pre>\(esc(s.input))</pre></dd>"
        out += "<dt>teacher's completion (raw)</dt><dd><pre>\(esc(s.raw))</pre></dd>"
        if s.parsed { out += "<dt>parsed rationale</dt><dd><pre>\(esc(s.rationale))</pre></dd>" }
        return out + "</dl></div>\n"
    }

    /// index.html with its markers filled in: the spec as run, the cost table, the versions.
    public static func fill(_ page: String, _ values: ReportPlaceholder.Values) -> String {
        var spec = "<section id=\"spec\">\n<h2>Spec</h2>\n"
        if let text = values.specText {
            spec += "<details><summary>The spec as run: <code>\(Markup.escape(values.specPath ?? ""))</code></summary>\n<pre>\(Markup.escape(text))</pre>\n</details>\n"
        } else {
            spec += "<p class=\"note\">The spec file could not be read when this page was written.</p>\n"
        }
        spec += "</section>\n"
        var cost = "<section id=\"cost\">\n<h2>Cost</h2>\n"
        if values.costs.isEmpty {
            cost += "<p class=\"note\">No stage durations in the store.</p>\n"
        } else {
            cost += "<div class=\"table-wrap\"><table class=\"sortable\">\n<thead><tr><th>stage</th><th class=\"num\">count</th><th class=\"num\">wall time (s)</th></tr></thead>\n<tbody>\n"
            for c in values.costs {
                cost += "<tr><td>\(Markup.escape(c.kind))</td><td class=\"num\" data-value=\"\(c.count)\">\(c.count)</td>"
                cost += "<td class=\"num\" data-value=\"\(String(format: "%.3f", c.seconds))\">\(String(format: "%.1f", c.seconds))</td></tr>\n"
            }
            cost += "</tbody>\n</table></div>\n"
        }
        cost += "</section>\n"
        var versions = "<section id=\"versions\">\n<h2>Versions</h2>\n<p>Written by Stepwise \(Markup.escape(BuildInfo.stepwiseVersion)) "
        versions += "(trainer version \(BuildInfo.trainerVersion)). Dependencies as pinned in Package.resolved when it was built:</p>\n"
        versions += "<div class=\"table-wrap\"><table class=\"sortable\">\n<thead><tr><th>package</th><th>version</th><th>source</th></tr></thead>\n<tbody>\n"
        for d in BuildInfo.dependencies {
            versions += "<tr><td>\(Markup.escape(d.identity))</td><td>\(Markup.escape(d.version))</td><td><code>\(Markup.escape(d.location))</code></td></tr>\n"
        }
        versions += "</tbody>\n</table></div>\n</section>\n"
        // The spec's text goes in last: whatever it holds is escaped, so it cannot contain a marker.
        return page.replacingOccurrences(of: ReportPlaceholder.costs.marker + "\n", with: cost)
            .replacingOccurrences(of: ReportPlaceholder.versions.marker + "\n", with: versions)
            .replacingOccurrences(of: ReportPlaceholder.spec.marker + "\n", with: spec)
    }
}
