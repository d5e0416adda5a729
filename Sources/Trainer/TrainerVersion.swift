/// Bumped whenever a change to the trainer can change a trained artifact; the train stage puts it in its key.
/// 2: softmax sums in SIMD lanes (different rounding from the scalar sum of version 1); dropout
///    also on attention probabilities and the gated feed-forward hidden, as transformers' T5.
/// 3: greedy decoding's one-row-per-sequence products on packed weights (`PackedLinear`), whose
///    sums along k can round differently from OpenBLAS's blocked ones.
/// 4: batches cut into a fixed number of micro-batches (`TrainOptions.microBatches`, dropout
///    masks seeded per micro-batch) instead of one shard per thread, sgemm always single-threaded:
///    weights no longer depend on the thread count; GELU, softmax and the exponentials are C
///    kernels chosen at run time (same numbers on every ISA).
/// 5: the output head and its cross-entropy run one row block of target positions at a time
///    (`OutputHead`): the head's weight gradient sums over rows block after block, which rounds
///    differently from one product over all rows.
public enum TrainerVersion {
    public static let current = 5
}
