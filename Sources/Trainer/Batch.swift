/// One padded batch: encoder inputs, decoder inputs (targets shifted right, starting with
/// decoder_start = pad = 0, as transformers' `_shift_right`) and targets (pad = ignored).
struct Batch {
    let size: Int
    let encoderLength: Int
    let decoderLength: Int
    var inputIds: [Int32]       // [size, encoderLength], pad = 0
    var inputMask: [Float]      // [size, encoderLength], 1 = real token
    var decoderInputIds: [Int32] // [size, decoderLength]
    var targets: [Int32]        // [size, decoderLength], pad = 0 (ignored by the loss)
    /// [size, decoderLength]: each target position's loss weight (its sequence's weight); nil = all 1.
    var rowWeights: [Float]?

    /// Pads every sequence to the longest in the batch after truncation to the given maxima.
    /// `weights`: one per sequence (nil = all 1), spread over its target positions.
    init(inputs: [[Int32]], targets tgts: [[Int32]], maxInputLength: Int = .max, maxTargetLength: Int = .max,
         weights: [Float]? = nil) {
        precondition(weights == nil || weights!.count == inputs.count)
        precondition(inputs.count == tgts.count && !inputs.isEmpty)
        size = inputs.count
        encoderLength = max(1, inputs.map { min($0.count, maxInputLength) }.max()!)
        decoderLength = max(1, tgts.map { min($0.count, maxTargetLength) }.max()!)
        inputIds = [Int32](repeating: 0, count: size * encoderLength)
        inputMask = [Float](repeating: 0, count: size * encoderLength)
        decoderInputIds = [Int32](repeating: 0, count: size * decoderLength)
        targets = [Int32](repeating: 0, count: size * decoderLength)
        for b in 0..<size {
            for (i, t) in inputs[b].prefix(maxInputLength).enumerated() {
                inputIds[b * encoderLength + i] = t
                inputMask[b * encoderLength + i] = t == SpecialTokens.pad ? 0 : 1
            }
            for (i, t) in tgts[b].prefix(maxTargetLength).enumerated() {
                targets[b * decoderLength + i] = t
                if i + 1 < decoderLength { decoderInputIds[b * decoderLength + i + 1] = t }
            }
        }
        rowWeights = weights.map { w in (0..<size * decoderLength).map { w[$0 / decoderLength] } }
    }

    /// Rescales the weights so that CE divided by the plain token count `tokenCount` is the
    /// weighted mean Σ wᵢ·CEᵢ / Σ wᵢ·nᵢ over a batch of that count and `weightedCount` (by
    /// default this batch's own). All-1 weights stay exactly 1.
    mutating func normalizeWeights(tokenCount: Int, weightedCount: Double? = nil) {
        guard let w = rowWeights else { return }
        let total = weightedCount ?? weightedTargetCount
        guard total > 0 else { return }
        let factor = Float(Double(tokenCount) / total)
        rowWeights = w.map { $0 * factor }
    }

    /// Σ weight over non-pad target positions (the token count when unweighted).
    var weightedTargetCount: Double {
        var total = 0.0
        for (i, t) in targets.enumerated() where t != SpecialTokens.pad { total += Double(rowWeights?[i] ?? 1) }
        return total
    }

    /// Non-pad tokens in inputs plus targets.
    var tokenCount: Int {
        inputIds.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } + targets.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
    }
}
