import Foundation

/// The order in which the scheduler starts ready stages: longest remaining chain first.
///
/// Stages differ in cost by orders of magnitude (a train stage of the largest student with both
/// distill-step-by-step streams against a subsample that takes milliseconds). Starting them in
/// plan order left the most expensive cells for last, running alone at the end while the other
/// cores idled. Each stage's rank is its own estimated cost plus the largest rank among the
/// stages that need it (the critical path through it); ready stages start in decreasing rank.
/// Only the order changes; every stage's result is the same whatever the order.
enum StagePriority {
    /// Indices of `plan.stages`, highest rank first (ties keep plan order).
    static func launchOrder(_ plan: Plan) -> [Int] {
        let stages = plan.stages
        var rank = stages.map { estimatedCost($0, experiment: plan.experiment) }
        // Inputs always come earlier in the plan, so one backward pass sees every dependent first.
        var best = [Double](repeating: 0, count: stages.count)
        for i in stages.indices.reversed() {
            rank[i] += best[i]
            for input in stages[i].inputs { best[input.index] = max(best[input.index], rank[i]) }
        }
        return stages.indices.sorted { rank[$0] != rank[$1] ? rank[$0] > rank[$1] : $0 < $1 }
    }

    /// A relative cost: multiply-adds per training step times steps for train stages (weights ×
    /// examples × streams), a small fraction of that for evaluations, ~0 for the rest.
    static func estimatedCost(_ stage: Stage, experiment e: Experiment) -> Double {
        guard stage.kind == .train || stage.kind == .evaluate, let cell = stage.cell,
              let size = e.student.size(named: cell.size) else { return 0 }
        let inner = Double(size.heads * size.dKv), d = Double(size.dModel), ff = Double(size.dFF)
        let weights = Double(size.layers) * (4 * d * inner + 3 * d * ff)
            + Double(size.decoderLayers) * (8 * d * inner + 3 * d * ff)
        let streams: Double = cell.method == .distillStepByStep ? 2 : 1
        let training = weights * Double(e.train.steps * e.train.batchSize) * streams
        return stage.kind == .train ? training : training / 100
    }
}
