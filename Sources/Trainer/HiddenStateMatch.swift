import Foundation

/// Feature-based knowledge distillation: the student's hidden states pulled toward the
/// teacher's at the same positions (DistilBERT's cosine term, or a mean squared error), through
/// a learned linear projection P [teacherWidth, studentWidth] when the widths differ (a = h·Pᵀ;
/// no projection when they are equal). Per counted row r:
///
///     cosine: 1 − cos(a_r, t_r)            mse: Σ_k (a_rk − t_rk)² / teacherWidth
///
/// summed over rows and divided by `normalizer`. Forward and backward side by side: the gradient
/// with respect to the student's hidden states is added into `dHidden` (where the trainer's
/// backward pass picks it up at that layer's output), and the projection's into `dProjection`.
public enum HiddenDistance: String, Sendable, CaseIterable {
    case cosine, mse
}

struct HiddenStateMatch {
    let distance: HiddenDistance
    let studentWidth: Int
    let teacherWidth: Int
    /// P [teacherWidth, studentWidth], nil when the widths are equal (identity).
    let projection: UnsafePointer<Float>?
    let normalizer: Int
    let weight: Float

    /// Value (without its weight) over the rows whose `counted` flag is set; with `dHidden`,
    /// adds weight·∂value/∂hidden there and weight·∂value/∂P into `dProjection`. `scratch` holds
    /// rows × teacherWidth floats (the projected states, then their gradient).
    func evaluate(hidden: UnsafePointer<Float>, teacher: UnsafePointer<Float>, rows: Int, counted: (Int) -> Bool,
                  scratch: UnsafeMutablePointer<Float>, dHidden: UnsafeMutablePointer<Float>?,
                  dProjection: UnsafeMutablePointer<Float>?) -> Double {
        let dt = teacherWidth, ds = studentWidth
        precondition(projection != nil || dt == ds, "a projection is needed between widths \(ds) and \(dt)")
        let a: UnsafePointer<Float>
        if let projection {
            linearForward(scratch, hidden, projection, m: rows, k: ds, n: dt)
            a = UnsafePointer(scratch)
        } else {
            a = hidden
        }
        // The gradient with respect to a, row by row, into `da` (the scratch, or straight into
        // dHidden without a projection — written after each row's a is read).
        let da: UnsafeMutablePointer<Float>? = dHidden == nil ? nil : (projection == nil ? dHidden : scratch)
        let scale = weight / Float(normalizer)
        var total = 0.0
        for r in 0..<rows {
            let ar = a + r * dt, tr = teacher + r * dt
            guard counted(r) else {
                if projection != nil, let da { (da + r * dt).update(repeating: 0, count: dt) }
                continue
            }
            switch distance {
            case .cosine:
                var aa = 0.0, tt = 0.0, at = 0.0
                for k in 0..<dt {
                    aa += Double(ar[k]) * Double(ar[k]); tt += Double(tr[k]) * Double(tr[k]); at += Double(ar[k]) * Double(tr[k])
                }
                let na = max(aa.squareRoot(), 1e-12), nt = max(tt.squareRoot(), 1e-12)
                let cos = at / (na * nt)
                total += 1 - cos
                if let da {
                    // ∂(1 − cos)/∂a = −t/(|a||t|) + cos·a/|a|²
                    let ct = Float(-1 / (na * nt)), ca = Float(cos / (na * na))
                    let row = da + r * dt
                    for k in 0..<dt {
                        let g = scale * (ct * tr[k] + ca * ar[k])
                        row[k] = projection == nil ? row[k] + g : g
                    }
                }
            case .mse:
                var sum = 0.0
                for k in 0..<dt { let e = Double(ar[k]) - Double(tr[k]); sum += e * e }
                total += sum / Double(dt)
                if let da {
                    let c = 2 * scale / Float(dt)
                    let row = da + r * dt
                    for k in 0..<dt {
                        let g = c * (ar[k] - tr[k])
                        row[k] = projection == nil ? row[k] + g : g
                    }
                }
            }
        }
        if let projection, let dHidden, let da {
            if let dProjection { linearBackwardWeight(dProjection, da, hidden, m: rows, k: ds, n: dt) }
            linearBackwardInput(dHidden, da, projection, m: rows, k: ds, n: dt, accumulate: true)
        }
        return total / Double(normalizer)
    }
}
