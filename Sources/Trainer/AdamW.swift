import Foundation

/// AdamW (Loshchilov & Hutter; torch.optim.AdamW's update): decoupled weight decay
/// p ← p − lr·wd·p, then the bias-corrected Adam step. Norm weights are not decayed
/// (decaying a scale towards 0 is not regularisation); every matrix and embedding is.
final class AdamW {
    var beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8
    var weightDecay: Float
    private(set) var step = 0
    private let m: FloatBuffer, v: FloatBuffer

    init(store: ParameterStore, weightDecay: Float) {
        self.weightDecay = weightDecay
        m = FloatBuffer(store.count); v = FloatBuffer(store.count)
        // Runs of adjacent tensors with the same decay flag (a flag per parameter would be a third
        // buffer the size of the model: 1 GB for T5-base).
        var segments: [(range: Range<Int>, decays: Bool)] = []
        for info in store.infos {
            let decays = !info.name.hasSuffix("layer_norm.weight")
            let range = info.offset..<(info.offset + info.count)
            if let last = segments.last, last.decays == decays, last.range.upperBound == range.lowerBound {
                segments[segments.count - 1].range = last.range.lowerBound..<range.upperBound
            } else {
                segments.append((range, decays))
            }
        }
        self.segments = segments
    }
    /// Which parameters are decayed, as ranges of the flat buffer in order.
    private let segments: [(range: Range<Int>, decays: Bool)]

    /// One step over all parameters. `gradScale` multiplies every gradient as it is read (the
    /// clipping factor, folded in instead of a separate pass over the gradients). With
    /// `threads` > 1 the parameters are split into contiguous chunks, one per thread; every
    /// element's update is independent, so the result is the same for any thread count.
    func update(params: FloatBuffer, grads: FloatBuffer, learningRate lr: Float, gradScale: Float = 1, threads: Int = 1) {
        step += 1
        let c1 = 1 - powf(beta1, Float(step)), c2 = 1 - powf(beta2, Float(step))
        let stepSize = lr / c1, rc2 = 1 / c2.squareRoot()
        let decay = lr * weightDecay
        forEachChunk(count: params.count, threads: threads) { chunk in
            for segment in self.segments where segment.range.overlaps(chunk) {
                self.update(segment.range.clamped(to: chunk), params: params.p, grads: grads.p, stepSize: stepSize, rc2: rc2,
                            decay: segment.decays ? decay : 0, gradScale: gradScale)
            }
        }
    }

    private func update(_ range: Range<Int>, params p: UnsafeMutablePointer<Float>, grads g: UnsafeMutablePointer<Float>,
                        stepSize: Float, rc2: Float, decay: Float, gradScale: Float) {
        let b1 = beta1, b2 = beta2, eps = self.eps
        let mp = m.p, vp = v.p
        let vb1 = SIMD8<Float>(repeating: b1), vb2 = SIMD8<Float>(repeating: b2)
        let one = SIMD8<Float>(repeating: 1), veps = SIMD8<Float>(repeating: eps), vs = SIMD8<Float>(repeating: gradScale)
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            let gv = load8(g + i) * vs
            var pv = load8(p + i)
            pv -= SIMD8<Float>(repeating: decay) * pv
            let mv = vb1 * load8(mp + i) + (one - vb1) * gv
            let vv = vb2 * load8(vp + i) + (one - vb2) * gv * gv
            store8(mp + i, mv); store8(vp + i, vv)
            pv -= SIMD8<Float>(repeating: stepSize) * mv / ((vv).squareRoot() * SIMD8<Float>(repeating: rc2) + veps)
            store8(p + i, pv)
            i += 8
        }
        while i < range.upperBound {
            let gi = g[i] * gradScale
            p[i] -= decay * p[i]
            mp[i] = b1 * mp[i] + (1 - b1) * gi
            vp[i] = b2 * vp[i] + (1 - b2) * gi * gi
            p[i] -= stepSize * mp[i] / (vp[i].squareRoot() * rc2 + eps)
            i += 1
        }
    }
}

/// Runs `body` on `threads` contiguous chunks of 0..<count side by side (chunk edges on
/// multiples of 4096 floats, so SIMD loops and norm blocks never straddle two chunks). The
/// optimizer's passes over all parameters are memory-bound; on one thread they were ~5 % of a
/// data-parallel step during which the other threads idled.
func forEachChunk(count: Int, threads: Int, _ body: (Range<Int>) -> Void) {
    let blocks = (count + 4095) / 4096
    let t = max(1, min(threads, blocks))
    if t == 1 { body(0..<count); return }
    DispatchQueue.concurrentPerform(iterations: t) { k in
        let lo = min(count, blocks * k / t * 4096), hi = min(count, blocks * (k + 1) / t * 4096)
        if lo < hi { body(lo..<hi) }
    }
}

/// Adds other gradient buffers into `grads` (in the given order, per element) and, if `norm`,
/// returns the global L2 norm of the sum (else 0); with `threads` > 1 both run in parallel
/// chunks. The norm sums 4096-float blocks in index order whatever the thread count, so it is
/// reproducible.
func reduceGradients(_ grads: FloatBuffer, adding others: [FloatBuffer], threads: Int, norm: Bool = true) -> Float {
    if others.isEmpty && !norm { return 0 }
    let blockCount = (grads.count + 4095) / 4096
    let blockSums = UnsafeMutablePointer<Double>.allocate(capacity: max(1, blockCount))
    defer { blockSums.deallocate() }
    forEachChunk(count: grads.count, threads: threads) { range in
        for other in others { addInPlace(grads.p + range.lowerBound, other.p + range.lowerBound, range.count) }
        guard norm else { return }
        var i = range.lowerBound
        while i < range.upperBound {
            let n = min(4096, range.upperBound - i)
            blockSums[i / 4096] = Double(sumOfSquares(grads.p + i, n))
            i += n
        }
    }
    guard norm else { return 0 }
    var sum: Double = 0
    for b in 0..<blockCount { sum += blockSums[b] }
    return Float(sum.squareRoot())
}

/// The factor that scales gradients of norm `norm` down to `maxNorm` (1 when within it or nil).
func clipScale(norm: Float, maxNorm: Float?) -> Float {
    guard let maxNorm, norm > maxNorm else { return 1 }
    return maxNorm / (norm + 1e-6)
}

/// Learning-rate schedule: linear warm-up from 0, then constant, linear decay to 0, or cosine decay to 0.
public enum LearningRateSchedule: String, Codable, Sendable {
    case constant, linear, cosine

    public func rate(step: Int, totalSteps: Int, warmupSteps: Int, peak: Float) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let decaySteps = max(1, totalSteps - warmupSteps)
        let progress = min(1, Float(step - warmupSteps) / Float(decaySteps))
        switch self {
        case .constant: return peak
        case .linear: return peak * (1 - progress)
        case .cosine: return peak * 0.5 * (1 + cos(Float.pi * progress))
        }
    }
}
