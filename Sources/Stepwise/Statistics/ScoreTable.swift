/// A seeds × examples table of scores, row-major, with the summaries the bootstrap and the
/// seed advice need.
struct ScoreTable: Sendable, Equatable {
    let rows: Int
    let columns: Int
    var values: [Double]

    func row(_ r: Int) -> ArraySlice<Double> { values[r * columns ..< (r + 1) * columns] }

    /// The mean over seeds and examples.
    func mean() -> Double { rowMeans().reduce(0, +) / Double(rows) }

    /// Each seed's mean over the examples.
    func rowMeans() -> [Double] { (0..<rows).map { row($0).reduce(0, +) / Double(columns) } }

    /// Each example's mean over the seeds.
    func columnMeans() -> [Double] {
        var sums = [Double](repeating: 0, count: columns)
        for r in 0..<rows {
            for c in 0..<columns { sums[c] += values[r * columns + c] }
        }
        return sums.map { $0 / Double(rows) }
    }

    /// The two-way residual (seed × example interaction) mean square,
    /// Σ (x_si − x̄_s· − x̄_·i + x̄)² / ((S − 1)(N − 1)); 0 when S or N is 1.
    func residualMeanSquare() -> Double {
        guard rows > 1, columns > 1 else { return 0 }
        let rowMean = rowMeans(), columnMean = columnMeans(), grand = mean()
        var sum = 0.0
        for r in 0..<rows {
            for c in 0..<columns {
                let e = values[r * columns + c] - rowMean[r] - columnMean[c] + grand
                sum += e * e
            }
        }
        return sum / Double((rows - 1) * (columns - 1))
    }

    func selectingRows(_ picked: [Int]) -> ScoreTable {
        ScoreTable(rows: picked.count, columns: columns, values: picked.flatMap { Array(row($0)) })
    }

    /// Elementwise `self − other` (same shape).
    func subtracting(_ other: ScoreTable) -> ScoreTable {
        precondition(rows == other.rows && columns == other.columns)
        return ScoreTable(rows: rows, columns: columns, values: zip(values, other.values).map { $0 - $1 })
    }

    /// The table with each seed's deviation from the per-example mean over seeds scaled by
    /// √(S/(S−1)). Resampling S seeds from S spreads their mean by (S−1)/S of the variance the
    /// seeds' own spread estimates (the bootstrap's known shrinkage: by half with 2 seeds); this
    /// undoes it (the rescaled bootstrap of survey sampling). Means are unchanged.
    func withSeedDeviationsRescaled() -> ScoreTable {
        guard rows > 1 else { return self }
        let columnMean = columnMeans()
        let k = (Double(rows) / Double(rows - 1)).squareRoot()
        var out = values
        for r in 0..<rows {
            for c in 0..<columns {
                out[r * columns + c] = columnMean[c] + k * (values[r * columns + c] - columnMean[c])
            }
        }
        return ScoreTable(rows: rows, columns: columns, values: out)
    }
}
