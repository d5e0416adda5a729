import Foundation

/// The results table as data — rows: method variants; columns: size × data fraction; cells: the
/// mean over seeds with its spread — so report.md and index.html show the same numbers.
public struct ResultsTable {
    public struct Entry {
        public var text: String
        /// The mean (what a sortable column sorts by); nil for an empty cell.
        public var value: Double?
    }

    public var columns: [String]
    public var rows: [(name: String, entries: [Entry])]
    /// How to read the cells (what the ± is, how many seeds and examples).
    public var note: String

    public init(context: ReportContext, rows results: [ResultRow], teacher: EvaluationArtifact?, arms: ResultArms?) {
        let decimals = context.decimals
        let students = results.filter { $0.size != "teacher" }
        var groups: [ResultGroup: [Double]] = [:]
        for r in students { groups[r.group, default: []].append(r.value) }
        let sizes = context.sizes.filter { s in students.contains { $0.size == s } }
        let fractions = context.dataFractions.sorted()
        var names: [String] = []
        var sample: [String: ResultRow] = [:]
        for r in students where sample[r.displayName] == nil {
            names.append(r.displayName)
            sample[r.displayName] = r
        }
        rows = []
        if sizes.isEmpty {
            // Teacher only: one column.
            columns = ["test"]
            if let t = teacher { rows.append(("few_shot_cot (teacher)", [Entry(text: SeedStats([t.value]).formatted(decimals: decimals), value: t.value)])) }
            note = "Values are test \(context.metric) in %."
            return
        }
        columns = sizes.flatMap { s in fractions.map { "\(s) @ \(JSONValue.format($0 * 100)) %" } }
        var seedsShown = Set<Int>(), examplesShown = Set<Int>()
        for name in names {
            let row = sample[name]!
            var entries: [Entry] = []
            for s in sizes {
                for f in fractions {
                    var g = row.group
                    g.size = s; g.dataFraction = f
                    if let summary = arms?.summary(name: name, size: s, fraction: f) {
                        entries.append(Entry(text: Self.format(summary, decimals: decimals), value: summary.mean))
                        seedsShown.insert(summary.seeds); examplesShown.insert(summary.examples)
                    } else if let values = groups[g] {
                        let stats = SeedStats(values)
                        entries.append(Entry(text: stats.formatted(decimals: decimals), value: stats.mean))
                    } else {
                        entries.append(Entry(text: "–", value: nil))
                    }
                }
            }
            rows.append((row.group.labelledName, entries))
        }
        if let t = teacher {
            let entry = Entry(text: SeedStats([t.value]).formatted(decimals: decimals), value: t.value)
            rows.append(("few_shot_cot (teacher)", Array(repeating: entry, count: columns.count)))
        }
        if seedsShown.isEmpty {
            note = "Values are test \(context.metric) in %, mean ± std over seeds \(context.seeds.map(String.init).joined(separator: ", "))."
        } else {
            let list = { (s: Set<Int>) in s.sorted().map(String.init).joined(separator: " or ") }
            note = "Values are test \(context.metric) in %: mean over seeds ± the half-width of its 95 % interval "
                + "(t-interval over seeds; with one seed, a bootstrap over test examples), from \(list(seedsShown)) seed(s) "
                + "(\(context.seeds.map(String.init).joined(separator: ", "))) and \(list(examplesShown)) test examples per cell."
        }
        if names.contains(where: { sample[$0]!.group.needsTeacherAtTest }) { note += " " + ResultGroup.teacherAtTestNote }
    }

    /// "62.0 ± 2.8": mean and the interval's half-width, in points.
    static func format(_ c: CellSummary, decimals: Int) -> String {
        let f = "%.\(decimals)f"
        return "\(String(format: f, c.mean * 100)) ± \(String(format: f, (c.upper - c.lower) / 2 * 100))"
    }

    public var markdown: String {
        var out = "| method |" + columns.map { " \($0) |" }.joined() + "\n"
        out += "|---|" + String(repeating: "---:|", count: columns.count) + "\n"
        for row in rows { out += "| \(row.name) |" + row.entries.map { " \($0.text) |" }.joined() + "\n" }
        return out + "\n" + note + "\n"
    }
}
