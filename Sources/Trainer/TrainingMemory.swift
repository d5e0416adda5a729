/// The memory a training step holds, counted from the buffers the trainer allocates for it
/// (without allocating them): the parameters, their gradient and AdamW's two moments, one more
/// gradient buffer per extra thread, and one workspace of activations per thread sized for the
/// longest micro-batch. Evaluation's decoding buffers are not counted: the trainer frees the
/// step's scratch while it evaluates (`Trainer.discardStepScratch`). What it leaves out —
/// OpenBLAS's buffers, the tokenized data, the program — is tens of megabytes.
public struct TrainingMemory: Sendable, Equatable {
    /// Parameters, gradients, AdamW's moments and the extra threads' gradient buffers.
    public let parameterBytes: Int
    /// Every thread's workspace: activations (all layers', or with `recomputeActivations` one
    /// layer's per stack plus every layer's input) and the backward pass's scratch.
    public let activationBytes: Int
    public var totalBytes: Int { parameterBytes + activationBytes }

    /// `encoderLength` / `decoderLength`: the longest input and target a batch will hold (each
    /// at most the options' maximum length).
    public init(config: T5Config, options: TrainOptions, encoderLength: Int, decoderLength: Int) {
        let slots = max(1, options.microBatches)
        let threads = max(1, min(options.threads, slots))
        // Slots run in waves of `threads`; every slot but the very first sums into a scratch
        // buffer of its thread (Trainer.trainStep), so a second wave uses thread 0's as well.
        let extraGradients = slots > threads ? threads : slots - 1
        parameterBytes = 4 * config.parameterCount * (4 + extraGradients)
        let workspace = Workspace(config: config, batch: (options.batchSize + slots - 1) / slots,
                                  encoderLength: max(1, min(encoderLength, options.maxInputLength)),
                                  decoderLength: max(1, min(decoderLength, options.maxTargetLength)),
                                  dropout: config.dropoutRate > 0,
                                  layout: options.recomputeActivations ? .oneLayerPlusInputs : .everyLayer)
        // Large buffers are untouched anonymous maps until a step writes them: counting costs nothing.
        activationBytes = 4 * workspace.floatCount * threads
    }
}
