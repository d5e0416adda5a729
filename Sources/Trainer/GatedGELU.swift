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

    /// dx accumulates (residual stream). dh01 and dgated are scratch of the same sizes as forward.
    static func backward(dx: UnsafeMutablePointer<Float>, dwi: UnsafeMutablePointer<Float>, dwo: UnsafeMutablePointer<Float>,
                         dout: UnsafePointer<Float>, x: UnsafePointer<Float>, h01: UnsafePointer<Float>,
                         gated: UnsafePointer<Float>, wi: UnsafePointer<Float>, wo: UnsafePointer<Float>,
                         dgated: UnsafeMutablePointer<Float>, dh01: UnsafeMutablePointer<Float>,
                         rows: Int, d: Int, dff: Int, dropMask: UnsafePointer<Float>? = nil) {
        FeedForward.backwardThroughOutput(dwo: dwo, dactivated: dgated, dout: dout, activated: gated, wo: wo,
                                          rows: rows, d: d, dff: dff, dropMask: dropMask)
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
        linearBackwardWeight(dwi, dh01, x, m: rows, k: d, n: 2 * dff)
        linearBackwardInput(dx, dh01, wi, m: rows, k: d, n: 2 * dff, accumulate: true)
    }
}
