/// One signed mean in a bootstrapped statistic Σ sign · (mean of a seeds × examples table).
/// A paired difference is one term (the table of A − B per shared seed); an unpaired
/// difference is two (A with +1, B with −1, each drawing its own seeds); an arm's mean is one.
struct BootstrapTerm {
    var table: ScoreTable
    var sign: Double
    /// False for a table of one run or of a seedless arm: its single row is used as is.
    var resamplesSeeds: Bool
}

/// The bootstrap distribution of Σ sign · mean over seeds and examples, resampling test
/// examples and seeds as a crossed design: each resample draws N examples with replacement —
/// one draw shared by every term and every seed, because all of them were scored on the same
/// test set — and, for each term with several seeds, S seeds with replacement. A draw is kept as
/// counts (how often each example or seed was drawn), never as a materialised resampled table:
/// the statistic is Σ_s c_s Σ_i w_i x_si / (S·N).
struct HierarchicalBootstrap {
    var resamples: Int
    var generatorSeed: UInt64

    /// The point estimate: the statistic on the data as observed.
    static func estimate(_ terms: [BootstrapTerm]) -> Double {
        terms.reduce(0) { $0 + $1.sign * $1.table.mean() }
    }

    /// The resampled statistics, in the order drawn. Per resample the generator gives first the
    /// N example draws, then each seed-resampling term's S seed draws, terms in order.
    func distribution(_ terms: [BootstrapTerm]) -> [Double] {
        precondition(!terms.isEmpty && resamples > 0)
        let n = terms[0].table.columns
        precondition(terms.allSatisfy { $0.table.columns == n })
        let prepared = terms.map { $0.resamplesSeeds ? $0.table.withSeedDeviationsRescaled() : $0.table }
        var random = SeededRandom(seed: generatorSeed)
        var exampleCounts = [Double](repeating: 0, count: n)
        var seedCounts = [Double](repeating: 0, count: prepared.map(\.rows).max()!)
        var out = [Double]()
        out.reserveCapacity(resamples)
        for _ in 0..<resamples {
            exampleCounts.withUnsafeMutableBufferPointer { w in
                w.update(repeating: 0)
                for _ in 0..<n { w[random.index(below: n)] += 1 }
            }
            var statistic = 0.0
            for (term, table) in zip(terms, prepared) {
                let s = table.rows
                if term.resamplesSeeds {
                    seedCounts.withUnsafeMutableBufferPointer { c in
                        c.update(repeating: 0)
                        for _ in 0..<s { c[random.index(below: s)] += 1 }
                    }
                } else {
                    seedCounts.withUnsafeMutableBufferPointer { $0.update(repeating: 1) }
                }
                var sum = 0.0
                table.values.withUnsafeBufferPointer { x in
                    exampleCounts.withUnsafeBufferPointer { w in
                        for r in 0..<s where seedCounts[r] != 0 {
                            sum += seedCounts[r] * Self.dot(x.baseAddress! + r * n, w.baseAddress!, n)
                        }
                    }
                }
                statistic += term.sign * sum / Double(s * n)
            }
            out.append(statistic)
        }
        return out
    }

    /// Σ a_i b_i with four running sums, combined as (s0 + s1) + (s2 + s3): a fixed order of
    /// operations, so the result is the same whether or not the compiler vectorises the loop.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ n: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i + 4 <= n {
            s0 += a[i] * b[i]
            s1 += a[i + 1] * b[i + 1]
            s2 += a[i + 2] * b[i + 2]
            s3 += a[i + 3] * b[i + 3]
            i += 4
        }
        while i < n {
            s0 += a[i] * b[i]
            i += 1
        }
        return (s0 + s1) + (s2 + s3)
    }
}
