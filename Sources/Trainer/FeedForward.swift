import Foundation

/// A layer's feed-forward block, whichever kind the config names. The workspace buffers are
/// sized for the gated kind (hidden [rows, 2·d_ff]); the ReLU kind uses the first half.
enum FeedForward {
    static func forward(_ kind: FeedForwardKind, out: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>,
                        activated: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, params P: FeedForwardParams,
                        weights W: UnsafePointer<Float>, rows: Int, d: Int, dff: Int, dropMask: UnsafePointer<Float>?) {
        switch kind {
        case .gatedGELU:
            GatedGELU.forward(out: out, h01: hidden, gated: activated, x: x, wi: W + P.wi0, wo: W + P.wo,
                              rows: rows, d: d, dff: dff, dropMask: dropMask)
        case .relu:
            DenseReLU.forward(out: out, hidden: hidden, activated: activated, x: x, wi: W + P.wi0, wo: W + P.wo,
                              rows: rows, d: d, dff: dff, dropMask: dropMask)
        }
    }

    /// Decoding: packed weights, no dropout.
    static func forward(_ kind: FeedForwardKind, out: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>,
                        activated: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
                        wi: PackedLinear, wo: PackedLinear, rows: Int) {
        wi.forward(hidden, x, m: rows)
        switch kind {
        case .gatedGELU: GatedGELU.activate(gated: activated, h01: hidden, rows: rows, dff: wo.k)
        case .relu: DenseReLU.relu(activated, hidden, rows * wo.k)
        }
        wo.forward(out, activated, m: rows)
    }

    /// Width of the first product's output (wi_0|wi_1 side by side, or wi).
    static func hiddenWidth(_ kind: FeedForwardKind, dff: Int) -> Int { kind == .gatedGELU ? 2 * dff : dff }

    static func backward(_ kind: FeedForwardKind, dx: UnsafeMutablePointer<Float>, grads G: UnsafeMutablePointer<Float>,
                         dout: UnsafePointer<Float>, x: UnsafePointer<Float>, hidden: UnsafePointer<Float>,
                         activated: UnsafePointer<Float>, params P: FeedForwardParams, weights W: UnsafePointer<Float>,
                         dactivated: UnsafeMutablePointer<Float>, dhidden: UnsafeMutablePointer<Float>,
                         rows: Int, d: Int, dff: Int, dropMask: UnsafePointer<Float>?) {
        switch kind {
        case .gatedGELU:
            GatedGELU.backward(dx: dx, dwi: G + P.wi0, dwo: G + P.wo, dout: dout, x: x, h01: hidden, gated: activated,
                               wi: W + P.wi0, wo: W + P.wo, dgated: dactivated, dh01: dhidden, rows: rows, d: d, dff: dff,
                               dropMask: dropMask)
        case .relu:
            DenseReLU.backward(dx: dx, dwi: G + P.wi0, dwo: G + P.wo, dout: dout, x: x, hidden: hidden, activated: activated,
                               wi: W + P.wi0, wo: W + P.wo, dactivated: dactivated, dhidden: dhidden, rows: rows, d: d,
                               dff: dff, dropMask: dropMask)
        }
    }

    /// The backward steps both kinds share: `wo`'s gradient (from the kept, dropped-out activated
    /// hidden) and the gradient reaching the activated hidden, through the same dropout mask.
    static func backwardThroughOutput(dwo: UnsafeMutablePointer<Float>, dactivated: UnsafeMutablePointer<Float>,
                                      dout: UnsafePointer<Float>, activated: UnsafePointer<Float>, wo: UnsafePointer<Float>,
                                      rows: Int, d: Int, dff: Int, dropMask: UnsafePointer<Float>?) {
        linearBackwardWeight(dwo, dout, activated, m: rows, k: dff, n: d)
        linearBackwardInput(dactivated, dout, wo, m: rows, k: dff, n: d, accumulate: false)
        if let dropMask { multiply(dactivated, dactivated, dropMask, rows * dff) }
    }
}
