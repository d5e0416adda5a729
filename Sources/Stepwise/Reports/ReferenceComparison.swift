import Foundation

/// One published number next to ours: what a reference claim (`A[size]@f = v ± tol`) compared.
/// The report shows these side by side ("paper" and "ours") so a reader sees the gap, not only
/// the verdict.
public struct ReferenceComparison: Codable, Sendable, Equatable {
    /// The arm, e.g. "distill_step_by_step[base]@100 %".
    public var arm: String
    public var reference: Double
    public var tolerance: Double
    public var ours: Double
    public var lower: Double
    public var upper: Double
    public var seeds: Int
    public var examples: Int
    public var verdict: Verdict

    init(_ v: ReferenceVerdict) {
        arm = v.label
        reference = v.value
        tolerance = v.tolerance
        ours = v.mean.mean.estimate
        lower = v.mean.mean.lower
        upper = v.mean.mean.upper
        seeds = v.mean.seeds.count
        examples = v.mean.examples
        verdict = v.verdict
    }

    /// Cells of the side-by-side table, as text (points, one decimal).
    var cells: [String] {
        ["\(points(reference)) ± \(points(tolerance))", "\(points(ours)) [\(points(lower)), \(points(upper))]",
         "\(seeds) × \(examples)", verdict.rawValue]
    }
    static let header = ["paper (± tolerance)", "ours (95 % interval)", "seeds × test examples", "verdict"]

    static func all(_ claims: [ClaimVerdict]) -> [ReferenceComparison] { claims.flatMap { $0.references ?? [] } }

    static func markdown(_ claims: [ClaimVerdict]) -> String {
        let rows = all(claims)
        guard !rows.isEmpty else { return "" }
        var out = "\n## The published numbers and ours\n\n"
        out += "| | " + header.joined(separator: " | ") + " |\n|---|" + String(repeating: "---|", count: header.count) + "\n"
        for r in rows { out += "| \(r.arm) | " + r.cells.joined(separator: " | ") + " |\n" }
        return out
    }

    static func html(_ claims: [ClaimVerdict], escape: (String) -> String) -> String {
        let rows = all(claims)
        guard !rows.isEmpty else { return "" }
        var out = "<h3>The published numbers and ours</h3>\n<table class=\"references\">\n<thead><tr><th></th>"
        out += header.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for r in rows {
            let cells = r.cells.enumerated().map { i, c in
                i == 3 ? "<td><span class=\"verdict \(r.verdict.rawValue)\">\(escape(c))</span></td>" : "<td>\(escape(c))</td>"
            }
            out += "<tr><th>\(escape(r.arm))</th>" + cells.joined() + "</tr>\n"
        }
        return out + "</tbody>\n</table>\n"
    }
}
