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

    /// gated[r] = gelu(h0[r]) ⊙ h1[r] for each row of h01 = [h0 | h1].
    static func activate(gated: UnsafeMutablePointer<Float>, h01: UnsafePointer<Float>, rows: Int, dff: Int) {
        let half = SIMD8<Float>(repeating: 0.5)
        for r in 0..<rows {
            let h0 = h01 + r * 2 * dff, h1 = h0 + dff, g = gated + r * dff
            var i = 0
            while i + 8 <= dff {
                let a = load8(h0 + i)
                let u: SIMD8<Float> = c0 * (a + c1 * a * a * a)
                let t = tanh8(u)
                store8(g + i, half * a * (1 + t) * load8(h1 + i))
                i += 8
            }
            while i < dff { g[i] = gelu(h0[i]) * h1[i]; i += 1 }
        }
    }

    /// dh01 = ∂/∂[h0 | h1] given dgated = ∂/∂gated (already through the dropout mask).
    static func activationBackward(dh01: UnsafeMutablePointer<Float>, dgated: UnsafePointer<Float>,
                                   h01: UnsafePointer<Float>, rows: Int, dff: Int) {
        let half = SIMD8<Float>(repeating: 0.5)
        for r in 0..<rows {
            let h0 = h01 + r * 2 * dff, h1 = h0 + dff, dg = dgated + r * dff
            let dh0 = dh01 + r * 2 * dff, dh1 = dh0 + dff
            var i = 0
            while i + 8 <= dff {
                // One tanh serves both gelu(a) and gelu'(a).
                let a = load8(h0 + i), g = load8(dg + i)
                let u: SIMD8<Float> = c0 * (a + c1 * a * a * a)
                let t = tanh8(u)
                let onePlusT: SIMD8<Float> = 1 + t
                let gelu: SIMD8<Float> = half * a * onePlusT
                let sech2: SIMD8<Float> = 1 - t * t
                let inner: SIMD8<Float> = c0 * (1 + (3 * c1) * a * a)
                let grad: SIMD8<Float> = half * onePlusT + half * a * sech2 * inner
                store8(dh0 + i, g * load8(h1 + i) * grad)
                store8(dh1 + i, g * gelu)
                i += 8
            }
            while i < dff {
                dh0[i] = dg[i] * h1[i] * geluGrad(h0[i])
                dh1[i] = dg[i] * gelu(h0[i])
                i += 1
            }
        }
    }
}
