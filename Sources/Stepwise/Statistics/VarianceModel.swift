/// The variance of a bootstrapped mean (or difference of means) split into the part that more
/// seeds would shrink and the part the test set fixes — what the "add seeds" advice projects.
///
/// For one term (a seeds × examples table x_si, S seeds, N examples) the crossed model
/// x_si = μ + a_s + b_i + e_si gives Var(x̄) = σ²_a/S + σ²_b/N + σ²_e/(S·N). The sample variance of
/// the seed means estimates σ²_a + σ²_e/N (everything that shrinks with S); the sample variance of
/// the example means over seeds estimates σ²_b + σ²_e/S, from which the two-way residual mean
/// square (σ²_e) takes out the seed part. Terms add: each arm's seed part, and the examples' part
/// of the signed sum (examples are shared, so A's and B's example effects partly cancel).
struct VarianceModel: Sendable, Equatable {
    /// Σ over the terms that vary with the seed of (σ²_a + σ²_e/N): divided by the seeds per arm.
    var perSeed: Double
    /// σ²_b / N: test-set sampling, which no number of seeds changes.
    var examples: Double
    /// The fewest runs among the terms that vary with the seed; nil when none does.
    var seeds: Int?
    /// False when a term that varies with the seed has one run: its seed variance is unknown.
    var seedVarianceKnown: Bool

    /// `seeded[t]` says whether term t's scores depend on a training seed (false for a seedless arm).
    init(terms: [BootstrapTerm], seeded: [Bool]) {
        precondition(terms.count == seeded.count)
        var perSeed = 0.0, residualShare = 0.0
        var known = true
        var fewest: Int?
        let n = terms[0].table.columns
        var signedExampleMeans = [Double](repeating: 0, count: n)
        for (term, varies) in zip(terms, seeded) {
            let table = term.table
            for (i, m) in table.columnMeans().enumerated() { signedExampleMeans[i] += term.sign * m }
            guard varies else { continue }
            fewest = min(fewest ?? table.rows, table.rows)
            if table.rows < 2 {
                known = false
                continue
            }
            perSeed += Distributions.sampleVariance(table.rowMeans())
            residualShare += table.residualMeanSquare() / Double(table.rows)
        }
        self.perSeed = perSeed
        self.examples = max(0, Distributions.sampleVariance(signedExampleMeans) - residualShare) / Double(n)
        self.seeds = fewest
        self.seedVarianceKnown = known
    }

    /// The projected variance with `seeds` runs per seeded arm (the test set unchanged).
    func variance(seeds: Int) -> Double {
        perSeed / Double(seeds) + examples
    }
}
