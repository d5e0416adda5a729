/// Inverted dropout: the mask holds 0 or 1/(1−p), so forward and backward are the same multiply.
/// Applied everywhere transformers' T5 applies it: after the embeddings, on each sublayer's
/// output before the residual add, after each stack's final norm, on the attention
/// probabilities (Attention.forward) and on the gated feed-forward hidden (GatedGELU.forward).
enum Dropout {
    static func fillMask(_ mask: FloatBuffer, count: Int, rate: Float, rng: inout SplitMix64) {
        let keep = 1 / (1 - rate)
        for i in 0..<count { mask.p[i] = rng.nextFloat() < rate ? 0 : keep }
    }
    /// x ⊙= mask (forward on activations, backward on gradients).
    static func apply(_ x: UnsafeMutablePointer<Float>, mask: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count { store8(x + i, load8(x + i) * load8(mask + i)); i += 8 }
        while i < count { x[i] *= mask[i]; i += 1 }
    }
}
