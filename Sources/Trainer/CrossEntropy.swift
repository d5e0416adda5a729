import Foundation

/// Token cross-entropy over the vocabulary, ignoring positions whose target is pad (0), averaged
/// over the remaining tokens (CrossEntropyLoss with ignore_index, like transformers with
/// labels = -100 at padding). A `RowBlockLoss`: the output head evaluates it block by block.
/// `rowWeights` (one per row, nil = all 1) multiplies each row's CE and gradient: soft targets as
/// weighted (input → label_j) pairs. A weight of exactly 1 changes no bit.
struct CrossEntropy: RowBlockLoss {
    /// Targets of every row of the batch (the head's rows), pad = ignored.
    let targets: UnsafePointer<Int32>
    /// Counted (non-pad) targets among them.
    let count: Int
    /// The value is Σ CE / normalizer: the counted tokens unless given (a batch cut into
    /// micro-batches divides by the whole batch's count, so the micro-batches' values sum to the
    /// batch's mean).
    let normalizer: Int
    let weight: Float
    let rowWeights: [Float]?

    init(targets: UnsafePointer<Int32>, rows: Int, weight: Float, normalizer: Int? = nil, rowWeights: [Float]? = nil) {
        self.targets = targets
        self.rowWeights = rowWeights
        var count = 0
        for r in 0..<rows where targets[r] != SpecialTokens.pad { count += 1 }
        self.count = count
        self.normalizer = max(1, normalizer ?? count)
        self.weight = weight
    }

    /// Σ over the block's counted rows of (log Σ exp(logits) − logits[target]) / normalizer;
    /// gradient weight · (softmax − onehot) / normalizer, zero on ignored rows.
    func evaluate(logits: UnsafePointer<Float>, rows: Range<Int>, vocab: Int,
                  gradient: UnsafeMutablePointer<Float>?, accumulate: Bool) -> Double {
        var total: Double = 0
        let scale = weight / Float(normalizer)
        for (i, r) in rows.enumerated() {
            let row = logits + i * vocab
            let t = Int(targets[r])
            if t == Int(SpecialTokens.pad) {
                if !accumulate { gradient.map { ($0 + i * vocab).update(repeating: 0, count: vocab) } }
                continue
            }
            let logZ = kernels.log_sum_exp(row, vocab)
            let w = rowWeights?[r] ?? 1
            total += Double(w) * Double(logZ - row[t])
            if let g = gradient {
                let gr = g + i * vocab
                let rowScale = scale * w
                kernels.exp_shift_scale(gr, row, logZ, rowScale, vocab, accumulate ? 1 : 0)
                gr[t] -= rowScale
            }
        }
        return total / Double(normalizer)
    }

    /// The value and counted tokens over `rows` rows of already computed logits (all in one
    /// block), writing the gradient to `dlogits` if given.
    static func forwardBackward(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, vocab: Int,
                                dlogits: UnsafeMutablePointer<Float>?, weight: Float,
                                normalizer: Int? = nil, rowWeights: [Float]? = nil) -> (loss: Float, count: Int) {
        let term = CrossEntropy(targets: targets, rows: rows, weight: weight, normalizer: normalizer, rowWeights: rowWeights)
        let loss = term.evaluate(logits: logits, rows: 0..<rows, vocab: vocab, gradient: dlogits, accumulate: false)
        return (Float(loss), term.count)
    }
}
