/// The output projection (the LM head) together with the loss terms on its logits, one row block
/// of target positions at a time. For rows [r, r + R) of the decoder output X [rows, d]:
///
///     logits = X[r..<r+R] · Wᵀ                    [R, V]
///     each term: value over those rows, gradient G (written by the first term, added by the rest)
///     dW += Gᵀ · X[r..<r+R]        dX[r..<r+R] = G · W
///
/// so the logits and their gradient exist for one block only — R × V floats each instead of
/// rows × V (at a 32 128-token vocabulary and 512 target rows, 2 × 66 MB per micro-batch, read
/// and written several times over). W is `lm_head.weight` [V, d], or `shared.weight` for a tied
/// head (whose input the decoder already scaled by d_model^-0.5).
///
/// The blocks are a fixed function of the vocabulary size, never of the thread count or the
/// machine, so dW's sum over rows (block after block) rounds the same way everywhere.
enum OutputHead {
    /// Rows per block: the largest multiple of 16 whose logits fit in `blockFloats` floats, at
    /// least 16. Each block's dW product reads and writes all of dW (V × d) for 2·rows·V·d
    /// FLOPs, so blocks of a few rows would make it memory-bound; at 128 rows it is compute-bound.
    static func blockRows(vocab: Int) -> Int { max(16, blockFloats / max(1, vocab) / 16 * 16) }
    /// 4 M floats (16 MB) per block: 128 rows of a 32 128-token vocabulary.
    static let blockFloats = 1 << 22

    /// The head's scratch for blocks of `blockRows` rows: logits, and their gradient when training.
    struct Scratch {
        let blockRows: Int
        let logits: FloatBuffer
        let gradient: FloatBuffer?
        init(vocab: Int, blockRows: Int, training: Bool) {
            self.blockRows = blockRows
            logits = FloatBuffer(blockRows * vocab)
            gradient = training ? FloatBuffer(blockRows * vocab) : nil
        }
        var buffers: [FloatBuffer] { [logits] + (gradient.map { [$0] } ?? []) }
    }

    /// Where the backward pass puts its results: dW accumulates (it is the parameter's gradient),
    /// dX is overwritten [rows, d].
    struct Gradients {
        let weight: UnsafeMutablePointer<Float>
        let hidden: UnsafeMutablePointer<Float>
    }

    /// Runs the head over all `rows` rows of `hidden` [rows, d] with weight [vocab, d]: returns each
    /// term's value summed over the blocks and, with `gradients` (which needs `scratch.gradient`),
    /// back-propagates the terms into dW and dX. With `logitsOut` [rows, vocab] the logits are
    /// computed there (for callers that want them all) instead of in the scratch block.
    @discardableResult
    static func run(hidden: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, d: Int, vocab: Int,
                    terms: [any RowBlockLoss], scratch: Scratch, gradients: Gradients? = nil,
                    logitsOut: UnsafeMutablePointer<Float>? = nil) -> [Double] {
        precondition(gradients == nil || (scratch.gradient != nil && !terms.isEmpty), "the head's backward needs a gradient block and a term")
        var values = [Double](repeating: 0, count: terms.count)
        var start = 0
        while start < rows {
            let n = min(scratch.blockRows, rows - start)
            let x = hidden + start * d
            let logits = logitsOut.map { $0 + start * vocab } ?? scratch.logits.p
            linearForward(logits, x, weight, m: n, k: d, n: vocab)
            let g = gradients == nil ? nil : scratch.gradient!.p
            for (t, term) in terms.enumerated() {
                values[t] += term.evaluate(logits: logits, rows: start..<(start + n), vocab: vocab, gradient: g,
                                           accumulate: t > 0)
            }
            if let gradients, let g {
                linearBackwardWeight(gradients.weight, g, x, m: n, k: d, n: vocab)
                linearBackwardInput(gradients.hidden + start * d, g, weight, m: n, k: d, n: vocab, accumulate: false)
            }
            start += n
        }
        return values
    }
}
