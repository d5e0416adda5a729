import Foundation
import Trainer

/// One trained cell's curves as the report draws them: the train stage's `training.json`
/// and the cell it belongs to.
public struct TrainingCurve: Sendable {
    public var cell: Cell
    public var summary: TrainingSummary

    public init(cell: Cell, summary: TrainingSummary) { self.cell = cell; self.summary = summary }

    /// The (step, loss) points of one stream, in step order (non-finite losses kept: they are gaps).
    func loss(stream index: Int) -> [CurvePoint] {
        summary.lossCurve.compactMap { row in
            row.count > index + 1 ? CurvePoint(x: row[0], y: row[index + 1]) : nil
        }
    }

    var validation: [CurvePoint] {
        summary.validationCurve.compactMap { $0.count >= 2 ? CurvePoint(x: $0[0], y: $0[1]) : nil }
    }
}

public struct CurvePoint: Equatable, Sendable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) { self.x = x; self.y = y }
}

/// The learning rate the trainer used at each step, recomputed from the recipe (the schedule is
/// a pure function of it, so it need not be stored with every checkpoint).
public struct LearningRatePlan: Codable, Hashable, Sendable {
    public var steps: Int
    public var peak: Double
    public var warmupSteps: Int
    public var schedule: String

    public init(_ recipe: TrainSpec) {
        steps = recipe.steps; peak = recipe.learningRate; warmupSteps = recipe.warmupSteps; schedule = recipe.schedule
    }

    public init(steps: Int, peak: Double, warmupSteps: Int, schedule: String) {
        self.steps = steps; self.peak = peak; self.warmupSteps = warmupSteps; self.schedule = schedule
    }

    /// The rate of the update that ends at `step` (1-based, as the training curves count steps).
    public func rate(atStep step: Int) -> Double {
        let s = LearningRateSchedule(rawValue: schedule) ?? .linear
        return Double(s.rate(step: max(0, step - 1), totalSteps: steps, warmupSteps: warmupSteps, peak: Float(peak)))
    }

    /// Enough points to draw it: every step of a short run, else the warm-up's end and `samples` evenly spaced steps.
    public func points(samples: Int = 64) -> [CurvePoint] {
        guard steps > 0 else { return [] }
        var xs = Set<Int>([1, steps])
        if warmupSteps > 0 && warmupSteps < steps { xs.insert(warmupSteps); xs.insert(warmupSteps + 1) }
        let stride = max(1, steps / samples)
        for s in Swift.stride(from: 1, through: steps, by: stride) { xs.insert(s) }
        return xs.sorted().map { CurvePoint(x: Double($0), y: rate(atStep: $0)) }
    }
}

/// Cuts a curve into drawable runs: non-finite values (a diverged loss) become gaps, and a
/// run longer than the budget keeps, per bucket of consecutive points, its first, lowest,
/// highest and last point — so the minimum (the best loss) and every spike survive.
public enum CurveDownsampler {
    public static func segments(_ points: [CurvePoint], maxPoints: Int = 240) -> [[CurvePoint]] {
        var runs: [[CurvePoint]] = [[]]
        for p in points {
            if p.x.isFinite && p.y.isFinite { runs[runs.count - 1].append(p) } else if !runs[runs.count - 1].isEmpty { runs.append([]) }
        }
        runs = runs.filter { !$0.isEmpty }
        let total = runs.reduce(0) { $0 + $1.count }
        guard total > maxPoints else { return runs }
        // Four points per bucket at most: buckets sized so the whole curve fits the budget.
        let bucket = Int((Double(total) / Double(max(1, maxPoints / 4))).rounded(.up))
        return runs.map { reduce($0, bucket: bucket) }
    }

    static func reduce(_ run: [CurvePoint], bucket: Int) -> [CurvePoint] {
        guard bucket > 1, run.count > 4 else { return run }
        var out: [CurvePoint] = []
        for start in stride(from: 0, to: run.count, by: bucket) {
            let end = min(run.count, start + bucket)
            var lo = start, hi = start
            for i in start..<end {
                if run[i].y < run[lo].y { lo = i }
                if run[i].y > run[hi].y { hi = i }
            }
            for i in Set([start, lo, hi, end - 1]).sorted() { out.append(run[i]) }
        }
        return out
    }

    /// The first step whose value is not finite, if any.
    public static func firstNonFinite(_ points: [CurvePoint]) -> Double? {
        points.first { !$0.y.isFinite }?.x
    }
}
