import Foundation

/// `report.md`: what was compared, the results table (mean ± std over seeds), the teacher's
/// quality, the protocol, and what each stage cost.
public struct MarkdownReport {
    public var context: ReportContext
    public var rows: [ResultRow]
    public var teacher: EvaluationArtifact?
    public var teacherSplits: [TeacherSplitStats] = []
    public var missing: [String]
    public var claims: [ClaimVerdict] = []
    public var arms: ResultArms? = nil
    /// Training-curve figures (file names), one per (method variant, size).
    public var curveFigures: [String] = []
    public var teacherSamples: [TeacherSampleSet] = []
    /// Files under `predictions/`.
    public var predictionFiles: [String] = []
    var generations = GenerationTable(generations: [])

    public func render(figures: [String] = []) -> String {
        let e = context
        let d = e.decimals
        var out = "# \(e.title ?? e.name)\n\n"
        out += "Experiment: `\(e.name)` · dataset: `\(e.datasetKind)` · teacher: `\(e.teacherKind)` · metric: `\(e.metric)` (test split, %)\n\n"
        if !missing.isEmpty {
            out += "> **Partial report**: \(missing.count) evaluation\(missing.count == 1 ? " is" : "s are") not in the store yet: "
            out += missing.prefix(5).map { "`\($0)`" }.joined(separator: ", ") + (missing.count > 5 ? ", …" : "") + "\n\n"
        }
        out += "## Results\n\n"
        out += ResultsTable(context: context, rows: rows, teacher: teacher, arms: arms).markdown
        for f in figures { out += "\n![\(f)](\(f))\n" }
        if !predictionFiles.isEmpty {
            out += "\nPer-example test predictions of every row: `predictions/` (\(predictionFiles.count) JSON Lines files, "
            out += "`{\"id\", \"prediction\", \"correct\"}` per line).\n"
        }
        if !curveFigures.isEmpty {
            out += "\n## Training curves\n\n"
            out += "Loss per stream (log scale), validation \(e.metric) with the selected checkpoint (◆), and the learning rate, "
            out += "per data fraction and seed.\n"
            for f in curveFigures { out += "\n![\(f)](\(f))\n" }
        }
        if let teacher {
            out += "\n## Teacher\n\n"
            out += "Few-shot CoT teacher (`\(e.teacherKind)`) on the test split: \(SeedStats([teacher.value]).formatted(decimals: d)) % "
            out += "\(e.metric), \(teacher.parseFailures ?? 0) of \(teacher.count) outputs without a parsable answer "
            out += "(\(TeacherSplitText.percent(teacher.parseFailures ?? 0, of: teacher.count)) %).\n"
        }
        if !teacherSplits.isEmpty {
            if teacher == nil { out += "\n## Teacher\n" }
            out += "\n| split | outputs | no parsable answer | label accuracy (%) | requests | prompt tokens | completion tokens |\n"
            out += "|---|---:|---:|---:|---:|---:|---:|\n"
            for t in teacherSplits {
                out += "| \(t.split) | \(t.count) | \(t.parseFailures) (\(TeacherSplitText.percent(t.parseFailures, of: t.count)) %) "
                out += "| \(String(format: "%.\(d)f", t.accuracy * 100)) | \(t.requests) | \(t.promptTokens) | \(t.completionTokens) |\n"
            }
            if let missing = TeacherSplitText.missingMass(teacherSplits) { out += "\n\(missing)\n" }
        }
        out += TeacherSampleMarkdown.render(teacherSamples)
        out += generations.markdown
        out += "\n## Protocol\n\n"
        out += "Students train on the sweep's fraction of the training split (nested subsets per seed: 12.5 % ⊂ 25 % ⊂ 50 % ⊂ 100 %). "
        out += "Checkpoints are selected on the validation split; the test split is scored once, on the selected checkpoint.\n"
        if !claims.isEmpty {
            out += "\n## Claims\n\n"
            out += "Each comparison is a paired bootstrap over test examples and seeds (10 000 resamples, 95 % interval of the difference): "
            out += "**reproduced** when the interval lies on the claimed side, **contradicted** when it lies on the other, **inconclusive** otherwise.\n\n"
            for v in claims {
                out += "- **\(v.verdict.rawValue)**: `\(v.claim)`\n"
                for line in v.evidence { out += "  - \(line)\n" }
                for line in v.advice { out += "  - advice: \(line)\n" }
            }
            out += ReferenceComparison.markdown(claims)
        }
        // The cost table is the store's record of wall times, not part of the report artifact
        // (a cached artifact cannot depend on how long things took): filled in when written out.
        out += "\n" + ReportPlaceholder.costs.marker + "\n"
        out += ReportPlaceholder.versions.marker + "\n"
        return out
    }

    func pct(_ f: Double) -> String { "\(JSONValue.format(f * 100)) %" }
}
