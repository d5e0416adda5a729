import Foundation

/// Small multiples of training curves for one (method variant, size): one panel per data
/// fraction × seed, all on shared axes so panels compare at a glance. Each panel draws the
/// loss of every stream (log scale, left axis), the validation metric (right axis) with the
/// selected checkpoint marked, and, in a strip below, the learning rate from the recipe.
public struct TrainingCurveFigure {
    public var title: String
    public var metric: String
    /// The cells' curves (any order: drawn by data fraction, then seed).
    public var curves: [TrainingCurve]
    public var learningRate: LearningRatePlan?
    /// Points per drawn line at most (the rest is downsampled, keeping extremes).
    public var maxPoints = 160

    public init(title: String, metric: String, curves: [TrainingCurve], learningRate: LearningRatePlan?) {
        self.title = title; self.metric = metric; self.curves = curves; self.learningRate = learningRate
    }

    static let streamColors = LineChart.palette.filter { $0 != TrainingCurveFigure.validationColor }
    static let validationColor = "#9467bd"
    static let rateColor = "#7f7f7f"

    // Panel geometry (px): a title line, the loss/validation plot, the learning-rate strip, step ticks.
    static let panelWidth = 272.0, plotLeft = 46.0, plotRight = 38.0
    static let titleHeight = 24.0, mainHeight = 112.0, gap = 8.0, rateHeight = 26.0, tickHeight = 16.0, panelGap = 14.0
    static var panelHeight: Double { titleHeight + mainHeight + gap + rateHeight + tickHeight + panelGap }

    public func render() -> String {
        // A row per seed, a column per data fraction (wrapping after five), so a sweep's cells
        // of one method and size fit on one screen and the same column is the same data.
        let ordered = curves.sorted { ($0.cell.seed, $0.cell.dataFraction) < ($1.cell.seed, $1.cell.dataFraction) }
        let fractions = Set(ordered.map(\.cell.dataFraction)).sorted()
        let columns = max(1, min(fractions.count, 5))
        let panelWidth = columns >= 5 ? 240.0 : Self.panelWidth
        var slots: [(curve: TrainingCurve, row: Int, column: Int)] = []
        var row = -1, lastSeed: Int?
        for c in ordered {
            let index = fractions.firstIndex(of: c.cell.dataFraction) ?? 0
            if c.cell.seed != lastSeed || index % columns == 0 && index > 0 { row += 1 }
            lastSeed = c.cell.seed
            slots.append((c, row, index % columns))
        }
        let rows = row + 1
        let width = 16 + Double(columns) * panelWidth
        var items: [Legend.Item] = []
        for (i, stream) in (ordered.first?.summary.streamNames ?? []).enumerated() {
            items.append(Legend.Item(color: Self.streamColors[i % Self.streamColors.count], label: "\(stream) loss", marker: false))
        }
        items.append(Legend.Item(color: Self.validationColor, label: "validation \(metric) (%)", marker: false))
        items.append(Legend.Item(color: Self.validationColor, label: "selected checkpoint", marker: true))
        if learningRate != nil { items.append(Legend.Item(color: Self.rateColor, label: "learning rate", marker: false)) }
        let legend = Legend(items: items, width: width - 24)
        let top = 34 + legend.height
        let height = top + Double(rows) * Self.panelHeight
        let scales = Scales(ordered, maxSteps: learningRate?.steps)
        let n = Markup.coordinate
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        s += "<rect class=\"bg\" width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"12\" y=\"20\" font-size=\"14\">\(Markup.escape(title))</text>\n"
        s += legend.render(x: 12, y: 34)
        if ordered.isEmpty { s += "<text x=\"12\" y=\"\(n(top + 20))\">no training curves in the store yet</text>\n" }
        for slot in slots {
            let x0 = 8 + Double(slot.column) * panelWidth, y0 = top + Double(slot.row) * Self.panelHeight
            s += panel(slot.curve, x0: x0, y0: y0, width: panelWidth, scales: scales)
        }
        return s + "</svg>\n"
    }

    /// The ranges every panel shares.
    struct Scales {
        var steps: Double
        var lossLow: Double, lossHigh: Double   // log10 of decade bounds
        var validationMax: Double

        init(_ curves: [TrainingCurve], maxSteps: Int?) {
            steps = Double(max(1, curves.map(\.summary.steps).max() ?? maxSteps ?? 1))
            let losses = curves.flatMap { c in c.summary.lossCurve.flatMap { $0.dropFirst() } }.filter { $0.isFinite && $0 > 0 }
            if let lo = losses.min(), let hi = losses.max() {
                lossLow = log10(lo).rounded(.down)
                lossHigh = max(log10(hi).rounded(.up), lossLow + 1)
            } else {
                lossLow = -2; lossHigh = 1
            }
            let best = curves.flatMap { $0.validation.map(\.y) }.filter(\.isFinite).max() ?? 0
            validationMax = min(1, max(0.1, (best * 1.05 * 10).rounded(.up) / 10))
        }
    }

    func panel(_ curve: TrainingCurve, x0: Double, y0: Double, width: Double, scales: Scales) -> String {
        let n = Markup.coordinate
        let left = x0 + Self.plotLeft, plotWidth = width - Self.plotLeft - Self.plotRight
        let mainTop = y0 + Self.titleHeight, mainBottom = mainTop + Self.mainHeight
        let rateTop = mainBottom + Self.gap, rateBottom = rateTop + Self.rateHeight
        func x(_ step: Double) -> Double { left + min(1, max(0, step / scales.steps)) * plotWidth }
        func yLoss(_ v: Double) -> Double {
            let t = (log10(max(v, pow(10, scales.lossLow))) - scales.lossLow) / (scales.lossHigh - scales.lossLow)
            return mainBottom - min(1, max(0, t)) * Self.mainHeight
        }
        func yValidation(_ v: Double) -> Double { mainBottom - min(1, max(0, v / scales.validationMax)) * Self.mainHeight }

        let summary = curve.summary
        let best = curve.validation.first { Int($0.x) == summary.bestStep }
        var title = "\(JSONValue.format(curve.cell.dataFraction * 100)) % · seed \(curve.cell.seed)"
        if let best, best.y.isFinite { title += " · best \(String(format: "%.1f", best.y * 100)) % @ \(summary.bestStep)" }
        var s = "<g>\n<text x=\"\(n(left))\" y=\"\(n(y0 + 12))\" font-size=\"11.5\">\(Markup.escape(title))</text>\n"
        // Frames, decade grid and tick labels (loss left, validation right).
        s += "<rect class=\"ax\" x=\"\(n(left))\" y=\"\(n(mainTop))\" width=\"\(n(plotWidth))\" height=\"\(n(Self.mainHeight))\" fill=\"none\" stroke=\"#999\"/>\n"
        s += "<rect class=\"ax\" x=\"\(n(left))\" y=\"\(n(rateTop))\" width=\"\(n(plotWidth))\" height=\"\(n(Self.rateHeight))\" fill=\"none\" stroke=\"#999\"/>\n"
        for d in stride(from: scales.lossLow, through: scales.lossHigh, by: 1) {
            let y = yLoss(pow(10, d))
            if d > scales.lossLow && d < scales.lossHigh {
                s += "<line class=\"grid\" x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(left + plotWidth))\" y2=\"\(n(y))\" stroke=\"#e4e4e4\"/>\n"
            }
            s += "<text x=\"\(n(left - 4))\" y=\"\(n(y + 4))\" text-anchor=\"end\">\(Self.decade(d))</text>\n"
        }
        for v in [0, scales.validationMax / 2, scales.validationMax] {
            s += "<text x=\"\(n(left + plotWidth + 4))\" y=\"\(n(yValidation(v) + 4))\" fill=\"\(Self.validationColor)\" class=\"series\">\(String(format: "%.0f", v * 100))</text>\n"
        }
        for step in Self.stepTicks(scales.steps) {
            s += "<text x=\"\(n(x(step)))\" y=\"\(n(rateBottom + 12))\" text-anchor=\"middle\">\(JSONValue.format(step))</text>\n"
        }
        s += "<text x=\"\(n(left - 4))\" y=\"\(n(rateTop + Self.rateHeight / 2 + 4))\" text-anchor=\"end\">lr</text>\n"
        // Loss per stream; a non-finite loss leaves a gap and is named.
        for (i, _) in summary.streamNames.enumerated() {
            let points = curve.loss(stream: i)
            s += Self.lines(CurveDownsampler.segments(points, maxPoints: maxPoints), color: Self.streamColors[i % Self.streamColors.count],
                            x: x, y: yLoss)
            if let bad = CurveDownsampler.firstNonFinite(points) {
                s += "<text class=\"warn\" x=\"\(n(left + 4))\" y=\"\(n(mainBottom - 6 - Double(i) * 12))\" fill=\"#d62728\">\(Markup.escape(summary.streamNames[i])) loss not finite from step \(JSONValue.format(bad))</text>\n"
            }
        }
        // Validation and the selected checkpoint.
        s += Self.lines(CurveDownsampler.segments(curve.validation, maxPoints: maxPoints), color: Self.validationColor, x: x, y: yValidation)
        let bx = x(Double(summary.bestStep))
        s += "<line x1=\"\(n(bx))\" y1=\"\(n(mainTop))\" x2=\"\(n(bx))\" y2=\"\(n(rateBottom))\" stroke=\"\(Self.validationColor)\" stroke-width=\"1\" stroke-dasharray=\"2 3\"/>\n"
        if let best, best.y.isFinite {
            let by = yValidation(best.y)
            s += "<path d=\"M\(n(bx)) \(n(by - 5)) L\(n(bx + 5)) \(n(by)) L\(n(bx)) \(n(by + 5)) L\(n(bx - 5)) \(n(by)) Z\" fill=\"\(Self.validationColor)\"/>\n"
        }
        // Learning rate, on its own linear scale from 0 to the peak.
        if let plan = learningRate, plan.peak > 0 {
            s += Self.lines([plan.points()], color: Self.rateColor, x: x, y: { rateBottom - min(1, max(0, $0 / plan.peak)) * Self.rateHeight })
            s += "<text x=\"\(n(left + plotWidth + 4))\" y=\"\(n(rateTop + 9))\" class=\"series\" fill=\"\(Self.rateColor)\">\(String(format: "%.0e", plan.peak))</text>\n"
        }
        return s + "</g>\n"
    }

    /// Polylines for drawable runs; a run of one point is a dot (a one-step curve still shows).
    static func lines(_ runs: [[CurvePoint]], color: String, x: (Double) -> Double, y: (Double) -> Double) -> String {
        let n = Markup.coordinate
        var s = ""
        for run in runs {
            if run.count == 1 {
                s += "<circle cx=\"\(n(x(run[0].x)))\" cy=\"\(n(y(run[0].y)))\" r=\"2.5\" fill=\"\(color)\"/>\n"
            } else if run.count > 1 {
                let pts = run.map { "\(n(x($0.x))),\(n(y($0.y)))" }.joined(separator: " ")
                s += "<polyline points=\"\(pts)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"/>\n"
            }
        }
        return s
    }

    static func decade(_ d: Double) -> String {
        let v = pow(10, d)
        return d >= 0 ? String(format: "%.0f", v) : String(format: "%.\(Int(-d))f", v)
    }

    /// 0, the middle and the end, rounded to a power-of-ten multiple.
    static func stepTicks(_ steps: Double) -> [Double] {
        guard steps > 1 else { return [0, 1] }
        let unit = pow(10, (log10(steps / 2)).rounded(.down))
        let mid = (steps / 2 / unit).rounded() * unit
        return [0, mid, steps]
    }
}

/// A legend laid out left to right, wrapping at `width`.
struct Legend {
    struct Item {
        var color: String
        var label: String
        /// A diamond (the selected checkpoint) instead of a line.
        var marker: Bool
    }
    var items: [Item]
    var width: Double
    static let lineHeight = 16.0

    func positions() -> [(x: Double, row: Int)] {
        var out: [(x: Double, row: Int)] = [], x = 0.0, row = 0
        for item in items {
            let w = 30 + Double(item.label.count) * 6.2 + 16
            if x > 0 && x + w > width { x = 0; row += 1 }
            out.append((x: x, row: row))
            x += w
        }
        return out
    }

    var height: Double { Double((positions().map(\.row).max() ?? 0) + 1) * Self.lineHeight }

    func render(x: Double, y: Double) -> String {
        let n = Markup.coordinate
        var s = ""
        for (item, p) in zip(items, positions()) {
            let lx = x + p.x, ly = y + Double(p.row) * Self.lineHeight
            if item.marker {
                s += "<path d=\"M\(n(lx + 11)) \(n(ly - 5)) L\(n(lx + 16)) \(n(ly)) L\(n(lx + 11)) \(n(ly + 5)) L\(n(lx + 6)) \(n(ly)) Z\" fill=\"\(item.color)\"/>\n"
            } else {
                s += "<line x1=\"\(n(lx))\" y1=\"\(n(ly))\" x2=\"\(n(lx + 22))\" y2=\"\(n(ly))\" stroke=\"\(item.color)\" stroke-width=\"2\"/>\n"
            }
            s += "<text x=\"\(n(lx + 28))\" y=\"\(n(ly + 4))\">\(Markup.escape(item.label))</text>\n"
        }
        return s
    }
}
