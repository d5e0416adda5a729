import Foundation

/// The original T5's feed-forward activation (T5DenseActDense with `feed_forward_proj: relu`):
/// y = relu(x Wiᵀ) Woᵀ. The products and dropout are in `FeedForward`.
enum DenseReLU {
    @inline(__always) static func relu(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
        for i in 0..<n { out[i] = max(x[i], 0) }
    }

    /// dhidden = dactivated where hidden > 0, else 0 (torch's relu' at 0 is 0, which this matches).
    static func activationBackward(dhidden: UnsafeMutablePointer<Float>, dactivated: UnsafePointer<Float>,
                                   hidden: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { dhidden[i] = hidden[i] > 0 ? dactivated[i] : 0 }
    }
}
