import Foundation

/// The original T5's feed-forward (T5DenseActDense with `feed_forward_proj: relu`):
/// y = relu(x Wiᵀ) Woᵀ. In training, dropout applies to the activated hidden before `wo`
/// (as in transformers).
enum DenseReLU {
    /// hidden: [rows, dff] pre-activation (kept for backward), activated: [rows, dff] (kept, after
    /// dropout: `wo`'s gradient uses it), out: [rows, d].
    static func forward(out: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>,
                        activated: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
                        wi: UnsafePointer<Float>, wo: UnsafePointer<Float>, rows: Int, d: Int, dff: Int,
                        dropMask: UnsafePointer<Float>? = nil) {
        linearForward(hidden, x, wi, m: rows, k: d, n: dff)
        relu(activated, hidden, rows * dff)
        if let dropMask { multiply(activated, activated, dropMask, rows * dff) }
        linearForward(out, activated, wo, m: rows, k: dff, n: d)
    }

    @inline(__always) static func relu(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
        for i in 0..<n { out[i] = max(x[i], 0) }
    }

    /// dx accumulates (residual stream). dactivated and dhidden are [rows, dff] scratch.
    static func backward(dx: UnsafeMutablePointer<Float>, dwi: UnsafeMutablePointer<Float>, dwo: UnsafeMutablePointer<Float>,
                         dout: UnsafePointer<Float>, x: UnsafePointer<Float>, hidden: UnsafePointer<Float>,
                         activated: UnsafePointer<Float>, wi: UnsafePointer<Float>, wo: UnsafePointer<Float>,
                         dactivated: UnsafeMutablePointer<Float>, dhidden: UnsafeMutablePointer<Float>,
                         rows: Int, d: Int, dff: Int, dropMask: UnsafePointer<Float>? = nil) {
        FeedForward.backwardThroughOutput(dwo: dwo, dactivated: dactivated, dout: dout, activated: activated, wo: wo,
                                          rows: rows, d: d, dff: dff, dropMask: dropMask)
        // relu'(h) = 1 where h > 0 (torch's choice at 0 is 0, which this matches).
        for i in 0..<(rows * dff) { dhidden[i] = hidden[i] > 0 ? dactivated[i] : 0 }
        linearBackwardWeight(dwi, dhidden, x, m: rows, k: d, n: dff)
        linearBackwardInput(dx, dhidden, wi, m: rows, k: d, n: dff, accumulate: true)
    }
}
