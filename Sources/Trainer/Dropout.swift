/// Inverted dropout: the mask holds 0 or 1/(1−p), so forward and backward are the same multiply.
/// Applied everywhere transformers' T5 applies it: after the embeddings, on each sublayer's
/// output before the residual add, after each stack's final norm, on the attention
/// probabilities (Attention.forward) and on the activated feed-forward hidden (FeedForward.forward).
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

/// The forward pass's dropout sites: each call draws a new mask from the workspace's generator
/// into the given buffer (which the backward pass reads again), or does nothing when not training.
struct ForwardDropout {
    let enabled: Bool
    let rate: Float
    let workspace: Workspace

    /// x ⊙= a new mask (dropout on an activation before the residual add, embeddings, final norms).
    func callAsFunction(_ x: UnsafeMutablePointer<Float>, _ mask: FloatBuffer?, _ n: Int) {
        guard let m = freshMask(mask, n) else { return }
        Dropout.apply(x, mask: m, count: n)
    }

    /// A new mask of n values for a dropout applied inside a layer (nil when not dropping).
    func freshMask(_ mask: FloatBuffer?, _ n: Int) -> UnsafePointer<Float>? {
        guard enabled, let m = mask else { return nil }
        Dropout.fillMask(m, count: n, rate: rate, rng: &workspace.rng)
        return UnsafePointer(m.p)
    }

    /// A new mask for attention probabilities, with the scratch that holds one dropped block.
    func probs(_ mask: FloatBuffer?, _ n: Int) -> (mask: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>)? {
        guard let m = freshMask(mask, n), let scratch = workspace.droppedProbs else { return nil }
        return (m, scratch.p)
    }
}
