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
        out += table(decimals: d)
        for f in figures { out += "\n![\(f)](\(f))\n" }
        if let teacher {
            out += "\n## Teacher\n\n"
            out += "Few-shot CoT teacher (`\(e.teacherKind)`) on the test split: \(SeedStats([teacher.value]).formatted(decimals: d)) % "
            out += "\(e.metric), \(teacher.parseFailures ?? 0) of \(teacher.count) outputs without a parsable answer "
            out += "(\(String(format: "%.1f", Double(teacher.parseFailures ?? 0) / Double(max(1, teacher.count)) * 100)) %).\n"
        }
        if !teacherSplits.isEmpty {
            if teacher == nil { out += "\n## Teacher\n" }
            out += "\n| split | outputs | no parsable answer | label accuracy (%) | requests | prompt tokens | completion tokens |\n"
            out += "|---|---:|---:|---:|---:|---:|---:|\n"
            for t in teacherSplits {
                out += "| \(t.split) | \(t.count) | \(t.parseFailures) (\(String(format: "%.1f", Double(t.parseFailures) / Double(max(1, t.count)) * 100)) %) "
                out += "| \(String(format: "%.\(d)f", t.accuracy * 100)) | \(t.requests) | \(t.promptTokens) | \(t.completionTokens) |\n"
            }
            let missing = teacherSplits.compactMap { t in t.labelMassMissing.map { "\(t.split) \(String(format: "%.1f", $0 * 100)) %" } }
            if !missing.isEmpty {
                out += "\nSoft labels: at its answer, the teacher's top-k alternatives leave on average "
                out += missing.joined(separator: ", ") + " of its probability off the label set (missing mass; "
                out += "soft targets renormalise over the labels).\n"
            }
        }
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
        }
        // The cost table is the store's record of wall times, not part of the report artifact
        // (a cached artifact cannot depend on how long things took): filled in when written out.
        out += "\n" + MarkdownReport.costMarker + "\n"
        return out
    }

    /// Rows: method (and λ/labels); columns: size × data fraction.
    func table(decimals: Int) -> String {
        let students = rows.filter { $0.size != "teacher" }
        var groups: [ResultGroup: [Double]] = [:]
        for r in students { groups[r.group, default: []].append(r.value) }
        let sizes = context.sizes.filter { s in students.contains { $0.size == s } }
        let fractions = context.dataFractions.sorted()
        var rowKeys: [String] = []
        var rowNames: [String: ResultRow] = [:]
        for r in students {
            let name = r.displayName
            if rowNames[name] == nil { rowKeys.append(name); rowNames[name] = r }
        }
        let columns = max(1, sizes.count * fractions.count)
        if sizes.isEmpty {
            // Teacher only: one column.
            var out = "| method | test |\n|---|---:|\n"
            if let t = teacher { out += "| few_shot_cot (teacher) | \(SeedStats([t.value]).formatted(decimals: decimals)) |\n" }
            return out + "\nValues are test \(context.metric) in %.\n"
        }
        var seedsShown = Set<Int>(), examplesShown = Set<Int>()
        var out = "| method |" + sizes.flatMap { s in fractions.map { " \(s) @ \(pct($0)) |" } }.joined() + "\n"
        out += "|---|" + String(repeating: "---:|", count: sizes.count * fractions.count) + "\n"
        for name in rowKeys {
            let row = rowNames[name]!
            out += "| \(row.group.labelledName) |"
            for s in sizes {
                for f in fractions {
                    var g = row.group
                    g.size = s; g.dataFraction = f
                    if let summary = arms?.summary(name: name, size: s, fraction: f) {
                        out += " " + Self.format(summary, decimals: decimals) + " |"
                        seedsShown.insert(summary.seeds); examplesShown.insert(summary.examples)
                    } else {
                        out += " " + (groups[g].map { SeedStats($0).formatted(decimals: decimals) } ?? "–") + " |"
                    }
                }
            }
            out += "\n"
        }
        if let t = teacher {
            out += "| few_shot_cot (teacher) |" + String(repeating: " \(SeedStats([t.value]).formatted(decimals: decimals)) |",
                                                     count: columns) + "\n"
        }
        if rowNames.values.contains(where: { $0.group.needsTeacherAtTest }) { out += "\n\(ResultGroup.teacherAtTestNote)\n" }
        if seedsShown.isEmpty {
            out += "\nValues are test \(context.metric) in %, mean ± std over seeds \(context.seeds.map(String.init).joined(separator: ", ")).\n"
        } else {
            let list = { (s: Set<Int>) in s.sorted().map(String.init).joined(separator: " or ") }
            out += "\nValues are test \(context.metric) in %: mean over seeds ± the half-width of its 95 % interval "
            out += "(t-interval over seeds; with one seed, a bootstrap over test examples), from \(list(seedsShown)) seed(s) "
            out += "(\(context.seeds.map(String.init).joined(separator: ", "))) and \(list(examplesShown)) test examples per cell.\n"
        }
        return out
    }

    /// "62.0 ± 2.8": mean and the interval's half-width, in points.
    static func format(_ c: CellSummary, decimals: Int) -> String {
        let f = "%.\(decimals)f"
        return "\(String(format: f, c.mean * 100)) ± \(String(format: f, (c.upper - c.lower) / 2 * 100))"
    }

    static let costMarker = "<!-- stage costs -->"

    /// report.md with the cost table in place of its marker.
    public static func withCosts(_ text: String, _ costs: [(kind: String, count: Int, seconds: Double)]) -> String {
        var table = ""
        if !costs.isEmpty {
            table = "## Cost\n\n| stage | count | wall time (s) |\n|---|---:|---:|\n"
            for c in costs { table += "| \(c.kind) | \(c.count) | \(String(format: "%.1f", c.seconds)) |\n" }
        }
        return text.replacingOccurrences(of: costMarker + "\n", with: table)
    }

    func pct(_ f: Double) -> String { "\(JSONValue.format(f * 100)) %" }
}
