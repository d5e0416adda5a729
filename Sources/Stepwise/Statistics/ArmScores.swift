/// One training run's scores on the test set: the seed it was trained with (which, with the data
/// fraction, fixes its training subsample) and one score per test example — 1/0 correctness or
/// any per-example metric whose mean over the test set is the cell's metric.
public struct SeedRun: Sendable, Equatable {
    public var seed: Int
    public var exampleIDs: [String]
    public var scores: [Double]

    public init(seed: Int, exampleIDs: [String], scores: [Double]) {
        self.seed = seed
        self.exampleIDs = exampleIDs
        self.scores = scores
    }
}

/// The runs of one compared arm — a method at a size and data fraction — as a seeds × examples
/// table: rows in ascending seed order, columns in ascending example-id order (UTF-8 bytes), so
/// the statistics never depend on the order a caller lists runs or examples in.
public struct ArmScores: Sendable {
    /// How the arm is named in errors and verdicts, e.g. `distill_step_by_step tiny @ 25 %`.
    public let label: String
    public let seeds: [Int]
    public let exampleIDs: [String]
    /// True for an arm without training randomness (the teacher's own few-shot answers): one
    /// run, never paired by seed, never counted against a verdict's minimum number of seeds.
    public let seedless: Bool
    let table: ScoreTable

    public var examples: Int { exampleIDs.count }

    /// The mean score of each run, in `seeds` order (the cell's metric per seed).
    public var seedMeans: [Double] { table.rowMeans() }

    /// Aligns the runs by example id; every run must score the same test examples, once each.
    public init(label: String, runs: [SeedRun], seedless: Bool = false) throws {
        guard let first = runs.first else { throw StepwiseError("\(label): no runs to compare") }
        if seedless && runs.count > 1 {
            throw StepwiseError("\(label): a seedless arm has one run, got \(runs.count)")
        }
        var seen = Set<Int>()
        for run in runs where !seen.insert(run.seed).inserted {
            throw StepwiseError("\(label): seed \(run.seed) is listed twice")
        }
        let ids = first.exampleIDs.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        guard !ids.isEmpty else { throw StepwiseError("\(label): seed \(first.seed) has no test examples") }
        var column: [String: Int] = [:]
        for (i, id) in ids.enumerated() {
            guard column[id] == nil else { throw StepwiseError("\(label): seed \(first.seed) scores test example '\(id)' twice") }
            column[id] = i
        }
        let ordered = runs.sorted { $0.seed < $1.seed }
        var values = [Double](repeating: 0, count: ordered.count * ids.count)
        for (row, run) in ordered.enumerated() {
            guard run.exampleIDs.count == run.scores.count else {
                throw StepwiseError("\(label): seed \(run.seed) has \(run.exampleIDs.count) example ids but \(run.scores.count) scores")
            }
            var filled = [Bool](repeating: false, count: ids.count)
            for (id, score) in zip(run.exampleIDs, run.scores) {
                guard let c = column[id] else {
                    throw StepwiseError("\(label): seed \(run.seed) scores test example '\(id)', which seed \(first.seed) does not")
                }
                guard !filled[c] else { throw StepwiseError("\(label): seed \(run.seed) scores test example '\(id)' twice") }
                guard score.isFinite else { throw StepwiseError("\(label): seed \(run.seed), test example '\(id)': score \(score) is not finite") }
                filled[c] = true
                values[row * ids.count + c] = score
            }
            if let missing = filled.firstIndex(of: false) {
                throw StepwiseError("\(label): seed \(run.seed) has no score for test example '\(ids[missing])'")
            }
        }
        self.label = label
        self.seeds = ordered.map(\.seed)
        self.exampleIDs = ids
        self.seedless = seedless
        self.table = ScoreTable(rows: ordered.count, columns: ids.count, values: values)
    }

    /// Throws unless `other` scores exactly the same test examples (the comparison is paired by
    /// example: both arms must have been evaluated on one test set).
    func requireSameExamples(as other: ArmScores) throws {
        guard exampleIDs != other.exampleIDs else { return }
        let mine = Set(exampleIDs), theirs = Set(other.exampleIDs)
        if let id = exampleIDs.first(where: { !theirs.contains($0) }) {
            throw StepwiseError("\(label) and \(other.label) were not evaluated on the same test set: '\(id)' is missing from \(other.label)")
        }
        let id = other.exampleIDs.first { !mine.contains($0) } ?? ""
        throw StepwiseError("\(label) and \(other.label) were not evaluated on the same test set: '\(id)' is missing from \(label)")
    }

    /// The rows of the given seeds, in the given order.
    func rows(forSeeds wanted: [Int]) -> ScoreTable {
        let index = Dictionary(uniqueKeysWithValues: seeds.enumerated().map { ($1, $0) })
        return table.selectingRows(wanted.map { index[$0]! })
    }
}
