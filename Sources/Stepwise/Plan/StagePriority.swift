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
        var rank = stages.map { $0.work.cost }
        // Inputs always come earlier in the plan, so one backward pass sees every dependent first.
        var best = [Double](repeating: 0, count: stages.count)
        for i in stages.indices.reversed() {
            rank[i] += best[i]
            for input in stages[i].inputs { best[input.index] = max(best[input.index], rank[i]) }
        }
        return stages.indices.sorted { rank[$0] != rank[$1] ? rank[$0] > rank[$1] : $0 < $1 }
    }
}
