import Foundation

/// Token cross-entropy over the vocabulary, ignoring positions whose target is pad (0), averaged
/// over the remaining tokens (CrossEntropyLoss with ignore_index, like transformers with
/// labels = -100 at padding).
enum CrossEntropy {
    /// Returns Σ CE / normalizer (normalizer = the number of counted tokens unless given: a
    /// batch cut into micro-batches divides by the whole batch's count) and the counted tokens.
    /// If `dlogits` is given, writes weight · (softmax − onehot) / normalizer there (zeros on ignored rows).
    /// `rowWeights` (one per row, nil = all 1) multiplies each row's CE and gradient: soft targets
    /// as weighted (input → label_j) pairs. A weight of exactly 1 changes no bit.
    static func forwardBackward(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, vocab: Int,
                                dlogits: UnsafeMutablePointer<Float>?, weight: Float,
                                normalizer: Int? = nil, rowWeights: UnsafePointer<Float>? = nil) -> (loss: Float, count: Int) {
        var count = 0
        for r in 0..<rows where targets[r] != SpecialTokens.pad { count += 1 }
        guard count > 0 else {
            dlogits?.update(repeating: 0, count: rows * vocab)
            return (0, 0)
        }
        var total: Double = 0
        let denominator = normalizer ?? count
        let scale = weight / Float(denominator)
        for r in 0..<rows {
            let row = logits + r * vocab
            let t = Int(targets[r])
            if t == Int(SpecialTokens.pad) {
                dlogits.map { ($0 + r * vocab).update(repeating: 0, count: vocab) }
                continue
            }
            let logZ = kernels.log_sum_exp(row, vocab)
            let w = rowWeights?[r] ?? 1
            total += Double(w) * Double(logZ - row[t])
            if let d = dlogits {
                let dr = d + r * vocab
                let rowScale = scale * w
                kernels.exp_shift_scale(dr, row, logZ, rowScale, vocab)
                dr[t] -= rowScale
            }
        }
        return (Float(total / Double(denominator)), count)
    }
}
