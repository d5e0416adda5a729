import Foundation

/// A layer's feed-forward block: hidden = x Wiᵀ, activated = act(hidden) (then dropout, as in
/// transformers), out = activated Woᵀ. The activation is the config's kind: T5 v1.1's gated GELU
/// (Wi = wi_0|wi_1, hidden [rows, 2·d_ff]) or the original T5's ReLU (Wi = wi, hidden [rows, d_ff]).
/// The workspace buffers are sized for the gated kind; the ReLU kind uses the first half.
enum FeedForward {
    /// Width of the first product's output (wi_0|wi_1 side by side, or wi).
    static func hiddenWidth(_ kind: FeedForwardKind, dff: Int) -> Int { kind == .gatedGELU ? 2 * dff : dff }

    /// hidden and activated are kept for backward; `activated` holds the dropped-out values
    /// (wo's gradient uses them).
    static func forward(_ kind: FeedForwardKind, out: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>,
                        activated: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, params P: FeedForwardParams,
                        weights W: UnsafePointer<Float>, rows: Int, d: Int, dff: Int, dropMask: UnsafePointer<Float>?) {
        linearForward(hidden, x, W + P.wi0, m: rows, k: d, n: hiddenWidth(kind, dff: dff))
        activate(kind, activated, hidden, rows: rows, dff: dff)
        if let dropMask { multiply(activated, activated, dropMask, rows * dff) }
        linearForward(out, activated, W + P.wo, m: rows, k: dff, n: d)
    }

    /// Decoding: packed weights, no dropout.
    static func forward(_ kind: FeedForwardKind, out: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>,
                        activated: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
                        wi: PackedLinear, wo: PackedLinear, rows: Int) {
        wi.forward(hidden, x, m: rows)
        activate(kind, activated, hidden, rows: rows, dff: wo.k)
        wo.forward(out, activated, m: rows)
    }

    private static func activate(_ kind: FeedForwardKind, _ activated: UnsafeMutablePointer<Float>,
                                 _ hidden: UnsafePointer<Float>, rows: Int, dff: Int) {
        switch kind {
        case .gatedGELU: GatedGELU.activate(gated: activated, h01: hidden, rows: rows, dff: dff)
        case .relu: DenseReLU.relu(activated, hidden, rows * dff)
        }
    }

    /// dx accumulates (residual stream); weight gradients accumulate into G at the params' offsets.
    /// dactivated [rows, d_ff] and dhidden [rows, hiddenWidth] are scratch.
    static func backward(_ kind: FeedForwardKind, dx: UnsafeMutablePointer<Float>, grads G: UnsafeMutablePointer<Float>,
                         dout: UnsafePointer<Float>, x: UnsafePointer<Float>, hidden: UnsafePointer<Float>,
                         activated: UnsafePointer<Float>, params P: FeedForwardParams, weights W: UnsafePointer<Float>,
                         dactivated: UnsafeMutablePointer<Float>, dhidden: UnsafeMutablePointer<Float>,
                         rows: Int, d: Int, dff: Int, dropMask: UnsafePointer<Float>?) {
        linearBackwardWeight(G + P.wo, dout, activated, m: rows, k: dff, n: d)
        linearBackwardInput(dactivated, dout, W + P.wo, m: rows, k: dff, n: d, accumulate: false)
        if let dropMask { multiply(dactivated, dactivated, dropMask, rows * dff) }
        switch kind {
        case .gatedGELU: GatedGELU.activationBackward(dh01: dhidden, dgated: dactivated, h01: hidden, rows: rows, dff: dff)
        case .relu: DenseReLU.activationBackward(dhidden: dhidden, dactivated: dactivated, hidden: hidden, count: rows * dff)
        }
        let width = hiddenWidth(kind, dff: dff)
        linearBackwardWeight(G + P.wi0, dhidden, x, m: rows, k: d, n: width)
        linearBackwardInput(dx, dhidden, W + P.wi0, m: rows, k: d, n: width, accumulate: true)
    }
}
