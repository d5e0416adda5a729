import Foundation

/// The report's "Generated training data" section: per data fraction, seed and number per real
/// example, what the teacher wrote, what was kept and why the rest was not, and what it cost.
struct GenerationTable {
    var generations: [GenerationStats]

    static let reasons: [GenerationVerdict] = [.unparseable, .duplicateOfTest, .duplicateOfValid, .duplicateOfTrain,
                                               .duplicateOfGenerated, .labelRejected]
    static let headings = ["data fraction", "seed", "per example", "real", "wanted", "generated", "kept"]
        + reasons.map(\.heading) + ["requests", "prompt tokens", "completion tokens"]

    /// A table cell: its text, and the number it sorts by.
    struct Entry { var text: String; var value: Double }

    var rows: [[Entry]] {
        generations.sorted { ($0.dataFraction, $0.seed, $0.perExample) < ($1.dataFraction, $1.seed, $1.perExample) }.map { g in
            let ints = [g.seed, g.perExample, g.realExamples, g.target, g.generated, g.count(.kept)] + Self.reasons.map(g.count)
                + [g.requests, g.promptTokens, g.completionTokens]
            return [Entry(text: "\(JSONValue.format(g.dataFraction * 100)) %", value: g.dataFraction)]
                + ints.map { Entry(text: String($0), value: Double($0)) }
        }
    }

    static let explanation = "Each request shows the teacher a few examples of the cell's own training subsample (never validation or test) "
        + "and asks for new ones with labels and rationales. A candidate is rejected, in this order, when its `Q: … A: …` block cannot be "
        + "read; when its input equals an input of the test, validation or training split, or one generated and kept before it — exactly "
        + "or after normalization (Unicode NFKC, lower case, every run of spaces and punctuation as one space); or when the task's answer "
        + "parser finds no label it can score. Cells train on the first kept examples, per example × real."

    var shortfall: String? {
        let short = generations.filter { $0.count(.kept) < $0.target }
        guard !short.isEmpty else { return nil }
        return "\(short.count) generation\(short.count == 1 ? "" : "s") kept fewer examples than wanted after "
            + "\(GenerationRun.maxRequestFactor)× the nominal requests; their cells train on what was kept."
    }

    var markdown: String {
        guard !generations.isEmpty else { return "" }
        var out = "\n## Generated training data\n\n\(Self.explanation)\n\n"
        out += "| " + Self.headings.joined(separator: " | ") + " |\n"
        out += "|" + Self.headings.indices.map { $0 == 0 ? "---|" : "---:|" }.joined() + "\n"
        for r in rows { out += "| " + r.map(\.text).joined(separator: " | ") + " |\n" }
        if let shortfall { out += "\n\(shortfall)\n" }
        return out
    }

    func html(escape esc: (String) -> String) -> String {
        guard !generations.isEmpty else { return "" }
        var out = "<section id=\"generated\">\n<h2>Generated training data</h2>\n<p>\(esc(Self.explanation))</p>\n"
        out += "<div class=\"table-wrap\"><table class=\"sortable\">\n<thead><tr>"
        out += Self.headings.enumerated().map { $0.offset == 0 ? "<th>\(esc($0.element))</th>" : "<th class=\"num\">\(esc($0.element))</th>" }.joined()
        out += "</tr></thead>\n<tbody>\n"
        for r in rows {
            out += "<tr>" + r.enumerated().map { i, c in
                i == 0 ? "<td data-value=\"\(c.value)\">\(esc(c.text))</td>" : "<td class=\"num\" data-value=\"\(c.value)\">\(esc(c.text))</td>"
            }.joined() + "</tr>\n"
        }
        out += "</tbody>\n</table></div>\n"
        if let shortfall { out += "<p>\(esc(shortfall))</p>\n" }
        return out + "</section>\n"
    }
}
