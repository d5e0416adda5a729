import Foundation

/// T5 v1.1's feed-forward activation (T5DenseGatedActDense): y = (gelu(x W0ᵀ) ⊙ x W1ᵀ) Woᵀ with
/// the tanh approximation of GELU ("gelu_new"). wi_0 and wi_1 are adjacent in the parameter
/// buffer, so one sgemm with n = 2·d_ff produces both halves side by side: h[row] = [h0 | h1].
/// The products and dropout are in `FeedForward`.
enum GatedGELU {
    static let c0: Float = 0.7978845608028654  // sqrt(2/π)
    static let c1: Float = 0.044715

    @inline(__always) static func gelu(_ x: Float) -> Float {
        0.5 * x * (1 + tanhf(c0 * (x + c1 * x * x * x)))
    }
    @inline(__always) static func geluGrad(_ x: Float) -> Float {
        let u = c0 * (x + c1 * x * x * x)
        let t = tanhf(u)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c0 * (1 + 3 * c1 * x * x)
    }

    /// gated[r] = gelu(h0[r]) ⊙ h1[r] for each row of h01 = [h0 | h1] (a C kernel: Kernels.swift).
    static func activate(gated: UnsafeMutablePointer<Float>, h01: UnsafePointer<Float>, rows: Int, dff: Int) {
        kernels.gelu_gate_forward(gated, h01, rows, dff)
    }

    /// dh01 = ∂/∂[h0 | h1] given dgated = ∂/∂gated (already through the dropout mask):
    /// [dgated ⊙ h1 ⊙ gelu'(h0) | dgated ⊙ gelu(h0)], one tanh for both (a C kernel).
    static func activationBackward(dh01: UnsafeMutablePointer<Float>, dgated: UnsafePointer<Float>,
                                   h01: UnsafePointer<Float>, rows: Int, dff: Int) {
        kernels.gelu_gate_backward(dh01, dgated, h01, rows, dff)
    }
}
