import Foundation

/// T5 v1.1 feed-forward (T5DenseGatedActDense): y = (gelu(x W0ᵀ) ⊙ x W1ᵀ) Woᵀ with the tanh
/// approximation of GELU ("gelu_new"). wi_0 and wi_1 are adjacent in the parameter buffer, so
/// one sgemm with n = 2·d_ff produces both halves side by side: h[row] = [h0 | h1]. In
/// training, dropout applies to the gated hidden before `wo` (as in transformers).
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

    /// h01: [rows, 2·dff] scratch (kept for backward), gated: [rows, dff] (kept), out: [rows, d].
    static func forward(out: UnsafeMutablePointer<Float>, h01: UnsafeMutablePointer<Float>,
                        gated: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
                        wi: UnsafePointer<Float>, wo: UnsafePointer<Float>, rows: Int, d: Int, dff: Int,
                        dropMask: UnsafePointer<Float>? = nil) {
        linearForward(h01, x, wi, m: rows, k: d, n: 2 * dff)
        activate(gated: gated, h01: h01, rows: rows, dff: dff)
        // T5 drops the gated hidden before `wo`; `gated` keeps the dropped values (wo's gradient uses them).
        if let dropMask { multiply(gated, gated, dropMask, rows * dff) }
        linearForward(out, gated, wo, m: rows, k: dff, n: d)
    }

    /// The same for decoding (no dropout), with the two products on packed weights.
    static func forward(out: UnsafeMutablePointer<Float>, h01: UnsafeMutablePointer<Float>,
                        gated: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
                        wi: PackedLinear, wo: PackedLinear, rows: Int) {
        wi.forward(h01, x, m: rows)
        activate(gated: gated, h01: h01, rows: rows, dff: wo.k)
        wo.forward(out, gated, m: rows)
    }

    /// gated[r] = gelu(h0[r]) ⊙ h1[r] for each row of h01 = [h0 | h1] (a C kernel: Kernels.swift).
    static func activate(gated: UnsafeMutablePointer<Float>, h01: UnsafePointer<Float>, rows: Int, dff: Int) {
        kernels.gelu_gate_forward(gated, h01, rows, dff)
    }

    /// dx accumulates (residual stream). dh01 and dgated are scratch of the same sizes as forward.
    static func backward(dx: UnsafeMutablePointer<Float>, dwi: UnsafeMutablePointer<Float>, dwo: UnsafeMutablePointer<Float>,
                         dout: UnsafePointer<Float>, x: UnsafePointer<Float>, h01: UnsafePointer<Float>,
                         gated: UnsafePointer<Float>, wi: UnsafePointer<Float>, wo: UnsafePointer<Float>,
                         dgated: UnsafeMutablePointer<Float>, dh01: UnsafeMutablePointer<Float>,
                         rows: Int, d: Int, dff: Int, dropMask: UnsafePointer<Float>? = nil) {
        linearBackwardWeight(dwo, dout, gated, m: rows, k: dff, n: d)
        linearBackwardInput(dgated, dout, wo, m: rows, k: dff, n: d, accumulate: false)
        if let dropMask { multiply(dgated, dgated, dropMask, rows * dff) }
        // dh01 = [dgated ⊙ h1 ⊙ gelu'(h0) | dgated ⊙ gelu(h0)], one tanh for both (a C kernel).
        kernels.gelu_gate_backward(dh01, dgated, h01, rows, dff)
        linearBackwardWeight(dwi, dh01, x, m: rows, k: d, n: 2 * dff)
        linearBackwardInput(dx, dh01, wi, m: rows, k: d, n: 2 * dff, accumulate: true)
    }
}
