import Foundation

/// Sizes of one multi-head attention call: batch, query length, key length, heads, head width.
struct AttentionShape {
    var batch: Int, tq: Int, tk: Int, heads: Int, dk: Int
    var inner: Int { heads * dk }
    var probsCount: Int { batch * heads * tq * tk }
}

/// T5Attention's core (after the projections, before `o`): no biases and — unlike most
/// transformers — no 1/√d scaling of the logits. Scores get the relative position bias (if any)
/// and the mask, then softmax, then weight the values.
///
/// q, k, v are strided views: row r of head h starts at `q + r·ldq + h·dk`, so they can point
/// into one fused [q|k|v] projection. Each (batch, head) pair is two sgemm calls.
enum Attention {
    /// probs: [B, H, tq, tk] (kept for backward); out: [B·tq, inner].
    /// keyMask: [B, tk] with 1 for real tokens (nil = all real); causal: key j ≤ query i + queryOffset.
    static func forward(out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                        q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldkv: Int,
                        bias: UnsafePointer<Float>?, keyMask: UnsafePointer<Float>?, causal: Bool,
                        queryOffset: Int = 0, dropout: (mask: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>)? = nil,
                        shape s: AttentionShape) {
        let tq = s.tq, tk = s.tk
        for b in 0..<s.batch {
            for h in 0..<s.heads {
                let p = probs + (b * s.heads + h) * tq * tk
                let qb = q + b * tq * ldq + h * s.dk
                let kb = k + b * tk * ldkv + h * s.dk
                let vb = v + b * tk * ldkv + h * s.dk
                sgemm(transA: false, transB: true, m: tq, n: tk, k: s.dk, qb, lda: ldq, kb, ldb: ldkv,
                      beta: 0, p, ldc: tk)
                let mask = keyMask.map { $0 + b * tk }
                let hb = bias.map { $0 + h * tq * tk }
                for i in 0..<tq {
                    softmaxRow(p + i * tk, bias: hb.map { $0 + i * tk }, mask: mask,
                               limit: causal ? min(tk, i + queryOffset + 1) : tk, count: tk)
                }
                // T5 drops attention weights after the softmax; `probs` keeps them undropped
                // (the softmax backward needs them) and the values are weighted by the dropped copy.
                var weights = UnsafePointer(p)
                if let (mask, scratch) = dropout {
                    multiply(scratch, p, mask + (b * s.heads + h) * tq * tk, tq * tk)
                    weights = UnsafePointer(scratch)
                }
                sgemm(transA: false, transB: false, m: tq, n: s.dk, k: tk, weights, lda: tk, vb, ldb: ldkv,
                      beta: 0, out + b * tq * s.inner + h * s.dk, ldc: s.inner)
            }
        }
    }

    /// In place: row ← softmax(row + bias) over keys j < limit with mask[j] ≠ 0; other keys get 0
    /// (what adding float-min before softmax gives in transformers). A C kernel (Kernels.swift):
    /// this runs B·H·tq times per layer, and a scalar version was ~8 % of a step.
    @inline(__always)
    static func softmaxRow(_ row: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
                           mask: UnsafePointer<Float>?, limit: Int, count: Int) {
        kernels.softmax_row(row, bias, mask, limit, count)
    }

    /// Given dOut [B·tq, inner], writes dq (stride ldq) and dk, dv (stride ldkv) — overwriting them —
    /// and adds the logits' gradient to dbias [H, tq, tk] (shared by the layers of a stack).
    /// dprobs: scratch of tq·tk floats.
    static func backward(dq: UnsafeMutablePointer<Float>, ldq: Int, dk: UnsafeMutablePointer<Float>,
                         dv: UnsafeMutablePointer<Float>, ldkv: Int, dbias: UnsafeMutablePointer<Float>?,
                         dout: UnsafePointer<Float>, probs: UnsafePointer<Float>,
                         q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                         dprobs: UnsafeMutablePointer<Float>,
                         dropout: (mask: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>)? = nil,
                         shape s: AttentionShape) {
        let tq = s.tq, tk = s.tk
        for b in 0..<s.batch {
            for h in 0..<s.heads {
                let p = probs + (b * s.heads + h) * tq * tk
                let off = h * s.dk
                let dob = dout + b * tq * s.inner + off
                // dP = dO · Vᵀ ; dV = Pᵀ · dO (P as the forward used it: dropped out, if dropout)
                sgemm(transA: false, transB: true, m: tq, n: tk, k: s.dk, dob, lda: s.inner,
                      v + b * tk * ldkv + off, ldb: ldkv, beta: 0, dprobs, ldc: tk)
                var weights = p
                if let (mask, scratch) = dropout {
                    let m = mask + (b * s.heads + h) * tq * tk
                    multiply(scratch, p, m, tq * tk)
                    weights = UnsafePointer(scratch)
                    multiply(dprobs, dprobs, m, tq * tk)  // through the dropout to the softmax output
                }
                sgemm(transA: true, transB: false, m: tk, n: s.dk, k: tq, weights, lda: tk, dob, ldb: s.inner,
                      beta: 0, dv + b * tk * ldkv + off, ldc: ldkv)
                // Softmax backward: dS = P ⊙ (dP − Σ_j dP·P).
                for i in 0..<tq {
                    let pr = p + i * tk, dr = dprobs + i * tk
                    let c = dot(pr, dr, tk)
                    for j in 0..<tk { dr[j] = pr[j] * (dr[j] - c) }
                }
                if let db = dbias { addInPlace(db + h * tq * tk, dprobs, tq * tk) }
                // dQ = dS · K ; dK = dSᵀ · Q
                sgemm(transA: false, transB: false, m: tq, n: s.dk, k: tk, dprobs, lda: tk,
                      k + b * tk * ldkv + off, ldb: ldkv, beta: 0, dq + b * tq * ldq + off, ldc: ldq)
                sgemm(transA: true, transB: false, m: tk, n: s.dk, k: tq, dprobs, lda: tk,
                      q + b * tq * ldq + off, ldb: ldq, beta: 0, dk + b * tk * ldkv + off, ldc: ldkv)
            }
        }
    }
}
