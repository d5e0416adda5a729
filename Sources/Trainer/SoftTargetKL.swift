import Foundation

/// Hinton's soft-target term on the output head's logits: per counted (non-pad) target row,
/// T²·KL(p_teacher ‖ p_student) with p = softmax(logits / T), summed over rows and divided by
/// the same normalizer as the cross-entropy (so `(1−α)·CE + α·this` is the distillation loss
/// per target token). A `RowBlockLoss`: it computes the teacher's logits for the block's rows
/// itself, from the teacher's decoder output and head, so no more than one block of teacher
/// logits exists either.
///
/// With p_t = softmax(z_t/T) and p_s = softmax(z_s/T):
///     value  = T² · Σ_v p_t (log p_t − log p_s)
///     ∂value/∂z_s = T · (p_s − p_t)
/// The T² keeps the gradient's scale independent of T (Hinton et al., 2015). A one-hot teacher at
/// T = 1 makes the term the cross-entropy on the teacher's choice, value and gradient alike.
struct SoftTargetKL: RowBlockLoss {
    /// The teacher's decoder output [rows, teacherWidth] (already scaled for a tied head), and its
    /// head [vocab, teacherWidth]: the teacher's logits are teacherHidden · teacherHeadᵀ.
    let teacherHidden: UnsafePointer<Float>
    let teacherHead: UnsafePointer<Float>
    let teacherWidth: Int
    /// Scratch for one block of teacher logits (≥ block rows × vocab), overwritten by each block.
    let teacherLogits: UnsafeMutablePointer<Float>
    /// The rows' targets: pad rows are ignored, as by the cross-entropy.
    let targets: UnsafePointer<Int32>
    let normalizer: Int
    let temperature: Float
    let weight: Float
    /// One weight per row (nil = all 1), as the cross-entropy's.
    let rowWeights: [Float]?

    func evaluate(logits: UnsafePointer<Float>, rows: Range<Int>, vocab: Int,
                  gradient: UnsafeMutablePointer<Float>?, accumulate: Bool) -> Double {
        linearForward(teacherLogits, teacherHidden + rows.lowerBound * teacherWidth, teacherHead,
                      m: rows.count, k: teacherWidth, n: vocab)
        let invT = 1 / temperature
        let t2 = Double(temperature) * Double(temperature)
        var total = 0.0
        for (i, r) in rows.enumerated() {
            let gr = gradient.map { $0 + i * vocab }
            if targets[r] == SpecialTokens.pad {
                if !accumulate { gr?.update(repeating: 0, count: vocab) }
                continue
            }
            let pt = teacherLogits + i * vocab
            let zs = logits + i * vocab
            // The teacher's row becomes p_t in place; Σ p_t log p_t = Σ e·u / S − log S on the way.
            var mt = -Float.infinity
            for v in 0..<vocab { mt = max(mt, pt[v]) }
            var st = 0.0, eu = 0.0
            for v in 0..<vocab {
                let u = (pt[v] - mt) * invT
                let e = exp(u)
                pt[v] = e
                st += Double(e)
                eu += Double(e) * Double(u)
            }
            let norm = Float(1 / st)
            for v in 0..<vocab { pt[v] *= norm }
            let teacherNegEntropy = eu / st - log(st)
            // Σ p_t log p_s = Σ p_t·u_s − log S_s with u_s = (z_s − max)/T.
            var ms = -Float.infinity
            for v in 0..<vocab { ms = max(ms, zs[v]) }
            var ss = 0.0, crossU = 0.0
            for v in 0..<vocab {
                let u = (zs[v] - ms) * invT
                ss += Double(exp(u))
                crossU += Double(pt[v]) * Double(u)
            }
            let kl = teacherNegEntropy - (crossU - log(ss))
            let w = rowWeights?[r] ?? 1
            total += Double(w) * t2 * kl
            if let gr {
                let scale = weight * w * temperature / Float(normalizer)
                let invS = Float(1 / ss)
                for v in 0..<vocab {
                    let g = scale * (exp((zs[v] - ms) * invT) * invS - pt[v])
                    if accumulate { gr[v] += g } else { gr[v] = g }
                }
            }
        }
        return total / Double(normalizer)
    }
}
