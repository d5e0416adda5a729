/// A term of the training loss that is a sum over target rows of a function of each row's
/// logits. `OutputHead` projects the decoder output one row block at a time and hands each block
/// to every term, so no more than one block of logits ever exists; the term returns its value on
/// those rows and adds its gradient with respect to them — forward and backward side by side.
///
/// Several terms share one projection and one gradient block: the cross-entropy on the targets
/// (`CrossEntropy`), and a term that needs more than the student's logits (e.g. a soft-label
/// term against a teacher's logits for the same rows) computes what it needs for `rows` itself.
protocol RowBlockLoss {
    /// This term's value summed over batch rows `rows` (its own normalisation, without its
    /// weight); `logits` is the block [rows.count, vocab] (block row i is batch row
    /// rows.lowerBound + i). With `gradient` (same layout), writes — or adds, if `accumulate` —
    /// weight · ∂value/∂logits for those rows.
    func evaluate(logits: UnsafePointer<Float>, rows: Range<Int>, vocab: Int,
                  gradient: UnsafeMutablePointer<Float>?, accumulate: Bool) -> Double
}
