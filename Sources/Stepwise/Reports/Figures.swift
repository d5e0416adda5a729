import Foundation

/// The paper's two figures as SVG, from result rows: one line per method (variant) with error
/// bars over seeds, the few-shot CoT teacher as a dashed line.
public enum Figures {
    /// x = % of training data (log2), for one student size.
    public static func dataSize(title: String, metric: String, size: String, rows: [ResultRow], arms: ResultArms? = nil) -> String {
        let series = seriesByMethod(rows.filter { $0.size == size }, arms: arms) { $0.dataFraction }
        let xs = Set(series.flatMap { $0.points.map(\.x) }).sorted()
        return LineChart(title: title, xLabel: "% of training data (log scale) — student \(size)", yLabel: arms == nil ? "test \(metric) (%)" : "test \(metric) (%), ± 95 % interval",
                         series: series, xTicks: xs.map { ($0, JSONValue.format($0 * 100)) },
                         reference: rows.first { $0.size == "teacher" }?.value).render()
    }

    /// x = student parameters (log2), at one data fraction.
    public static func modelSize(title: String, metric: String, fraction: Double, rows: [ResultRow], arms: ResultArms? = nil) -> String {
        let series = seriesByMethod(rows.filter { $0.dataFraction == fraction }, arms: arms) { $0.parameters.map(Double.init) }
        let names = Dictionary(rows.compactMap { r in r.parameters.map { (Double($0), "\(r.size) \(compact($0))") } }, uniquingKeysWith: { a, _ in a })
        let xs = Set(series.flatMap { $0.points.map(\.x) }).sorted()
        return LineChart(title: title, xLabel: "student parameters (log scale) — \(JSONValue.format(fraction * 100)) % of training data",
                         yLabel: arms == nil ? "test \(metric) (%)" : "test \(metric) (%), ± 95 % interval", series: series, xTicks: xs.map { ($0, names[$0] ?? compact(Int($0))) },
                         reference: rows.first { $0.size == "teacher" }?.value).render()
    }

    static func compact(_ n: Int) -> String {
        n >= 1_000_000 ? String(format: "%.1fM", Double(n) / 1e6) : String(format: "%.0fk", Double(n) / 1e3)
    }

    /// Rows grouped into one series per method variant (λ, label source): the mean over seeds
    /// with its 95 % interval when per-example scores are there (`arms`), else ± std.
    static func seriesByMethod(_ rows: [ResultRow], arms: ResultArms? = nil, x: (ResultRow) -> Double?) -> [LineChart.Series] {
        var byName: [String: [Double: [Double]]] = [:]
        var sample: [String: [Double: ResultRow]] = [:]
        var order: [String] = []
        for r in rows where r.size != "teacher" {
            guard let xv = x(r) else { continue }
            let name = r.displayName
            if byName[name] == nil { order.append(name) }
            byName[name, default: [:]][xv, default: []].append(r.value)
            sample[name, default: [:]][xv] = r
        }
        return order.map { name in
            LineChart.Series(name: sample[name]!.values.first!.group.labelledName, points: byName[name]!.keys.sorted().map { xv in
                let r = sample[name]![xv]!
                if let c = arms?.summary(name: name, size: r.size, fraction: r.dataFraction) {
                    return (x: xv, stats: SeedStats(mean: c.mean, std: (c.upper - c.lower) / 2, count: c.seeds))
                }
                return (x: xv, stats: SeedStats(byName[name]![xv]!))
            })
        }
    }
}

/// A line chart with a log2 x axis, as plain SVG text (no dependencies; `rsvg-convert` or a
/// browser renders it).
public struct LineChart {
    public struct Series {
        public var name: String
        public var points: [(x: Double, stats: SeedStats)]
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var xTicks: [(Double, String)]
    /// A horizontal dashed line (the teacher).
    public var reference: Double?

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"]

    public func render() -> String {
        let w = 720.0, h = 420.0, left = 70.0, right = 270.0, top = 50.0, bottom = 60.0
        let pw = w - left - right, ph = h - top - bottom
        let teacher = reference
        let xs = xTicks.map(\.0)
        let lo = log2(xs.first ?? 0.125), hi = log2(xs.last ?? 1)
        let span = max(hi - lo, 1)
        func x(_ f: Double) -> Double { left + (log2(f) - lo) / span * pw }
        // Round the top up to a multiple of 10 % so the ticks are round numbers.
        let highest = (series.flatMap { $0.points.map { $0.stats.mean + $0.stats.std } } + [teacher ?? 0]).max() ?? 1
        let ymax = min(1, max(0.1, (highest * 1.05 * 10).rounded(.up) / 10))
        // Clamped to the plot: a wide interval's error bar stops at the axis instead of crossing it.
        func y(_ v: Double) -> Double { top + ph - min(1, max(0, v / ymax)) * ph }
        func n(_ v: Double) -> String { String(format: "%.1f", v) }

        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect class=\"bg\" width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(n(left + pw / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">\(Self.esc(title))</text>\n"
        // Axes, grid, ticks.
        s += "<line x1=\"\(n(left))\" y1=\"\(n(top + ph))\" x2=\"\(n(left + pw))\" y2=\"\(n(top + ph))\" class=\"ax\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(n(left))\" y1=\"\(n(top))\" x2=\"\(n(left))\" y2=\"\(n(top + ph))\" class=\"ax\" stroke=\"black\"/>\n"
        let steps = Int((ymax * 10).rounded())
        let every = steps > 5 ? 2 : 1
        for i in stride(from: 0, through: steps, by: every) {
            let v = Double(i) / 10
            s += "<line x1=\"\(n(left))\" y1=\"\(n(y(v)))\" x2=\"\(n(left + pw))\" y2=\"\(n(y(v)))\" class=\"grid\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(n(left - 6))\" y=\"\(n(y(v) + 4))\" text-anchor=\"end\">\(String(format: "%.0f", v * 100))</text>\n"
        }
        for (f, label) in xTicks {
            s += "<line x1=\"\(n(x(f)))\" y1=\"\(n(top + ph))\" x2=\"\(n(x(f)))\" y2=\"\(n(top + ph + 5))\" class=\"ax\" stroke=\"black\"/>\n"
            s += "<text x=\"\(n(x(f)))\" y=\"\(n(top + ph + 18))\" text-anchor=\"middle\">\(Self.esc(label))</text>\n"
        }
        s += "<text x=\"\(n(left + pw / 2))\" y=\"\(n(h - 16))\" text-anchor=\"middle\">\(Self.esc(xLabel))</text>\n"
        s += "<text transform=\"translate(18 \(n(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.esc(yLabel))</text>\n"
        // Series with error bars.
        var legend: [(String, String, Bool)] = []
        for (i, line) in series.enumerated() {
            let (name, points) = (line.name, line.points.map { ($0.x, $0.stats) })
            let color = Self.palette[i % Self.palette.count]
            let path = points.map { "\(n(x($0.0))),\(n(y($0.1.mean)))" }.joined(separator: " ")
            s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            for (f, st) in points {
                if st.count > 1 {
                    s += "<line x1=\"\(n(x(f)))\" y1=\"\(n(y(st.mean - st.std)))\" x2=\"\(n(x(f)))\" y2=\"\(n(y(st.mean + st.std)))\" stroke=\"\(color)\"/>\n"
                }
                s += "<circle cx=\"\(n(x(f)))\" cy=\"\(n(y(st.mean)))\" r=\"3.5\" fill=\"\(color)\"/>\n"
            }
            legend.append((name, color, false))
        }
        if let teacher {
            s += "<line x1=\"\(n(left))\" y1=\"\(n(y(teacher)))\" x2=\"\(n(left + pw))\" y2=\"\(n(y(teacher)))\" class=\"ref\" stroke=\"#555\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n"
            legend.append(("few_shot_cot (teacher)", "#555", true))
        }
        for (i, (name, color, dashed)) in legend.enumerated() {
            let ly = top + 10 + Double(i) * 20, lx = left + pw + 16
            s += "<line x1=\"\(n(lx))\" y1=\"\(n(ly))\" x2=\"\(n(lx + 22))\" y2=\"\(n(ly))\" stroke=\"\(color)\" stroke-width=\"2\"\(dashed ? " class=\"ref\" stroke-dasharray=\"6 4\"" : "")/>\n"
            s += "<text x=\"\(n(lx + 28))\" y=\"\(n(ly + 4))\">\(Self.esc(name))</text>\n"
        }
        return s + "</svg>\n"
    }

    static func esc(_ t: String) -> String { Markup.escape(t) }
}
