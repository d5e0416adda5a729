import XCTest
@testable import Trainer

/// Each layer's hand-written backward against central finite differences.
final class LayerGradientTests: XCTestCase {
    override func setUp() { setThreads(1) }
    let tolerance = 1e-3

    func testRMSNorm() {
        var rng = SplitMix64(seed: 1)
        let rows = 5, dim = 19
        let x = randomBuffer(rows * dim, &rng), w = randomBuffer(dim, &rng), r = randomBuffer(rows * dim, &rng)
        let out = FloatBuffer(rows * dim), rstd = FloatBuffer(rows)
        func loss() -> Double {
            RMSNorm.forward(out: out.p, rstd: rstd.p, x: x.p, weight: w.p, rows: rows, dim: dim, eps: 1e-6)
            return probe(out, r)
        }
        _ = loss()
        let dx = FloatBuffer(rows * dim), dw = FloatBuffer(dim)
        RMSNorm.backward(dx: dx.p, dweight: dw.p, dout: r.p, x: x.p, rstd: rstd.p, weight: w.p, rows: rows, dim: dim)
        XCTAssertLessThan(directionalGradientError(param: x.p, count: x.count, analytic: dx.array, loss: loss), tolerance)
        XCTAssertLessThan(directionalGradientError(param: w.p, count: w.count, analytic: dw.array, loss: loss), tolerance)
    }

    func testGatedGELU() { checkFeedForward(.gatedGELU, seed: 2) }
    func testDenseReLU() { checkFeedForward(.relu, seed: 5) }

    /// One feed-forward block (products, activation, dropout) against finite differences. The
    /// weights sit in one buffer at `FeedForwardParams` offsets, as in the model.
    func checkFeedForward(_ kind: FeedForwardKind, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let rows = 6, d = 12, ff = 20, width = FeedForward.hiddenWidth(kind, dff: ff)
        let P = FeedForwardParams(wi0: 0, wi1: kind == .gatedGELU ? ff * d : nil, wo: width * d)
        let x = randomBuffer(rows * d, &rng), w = randomBuffer(width * d + d * ff, &rng, scale: 0.3)
        let r = randomBuffer(rows * d, &rng), mask = FloatBuffer(rows * ff)
        for i in 0..<mask.count { mask[i] = i % 5 == 0 ? 0 : 1.25 }
        let out = FloatBuffer(rows * d), hidden = FloatBuffer(rows * width), activated = FloatBuffer(rows * ff)
        func loss() -> Double {
            FeedForward.forward(kind, out: out.p, hidden: hidden.p, activated: activated.p, x: x.p, params: P, weights: w.p,
                                rows: rows, d: d, dff: ff, dropMask: mask.p)
            return probe(out, r)
        }
        _ = loss()
        if kind == .relu {
            XCTAssertTrue(hidden.array.contains { $0 < 0 } && hidden.array.contains { $0 > 0 }, "both sides of the kink")
        }
        let dx = FloatBuffer(rows * d), dw = FloatBuffer(w.count)
        let dactivated = FloatBuffer(rows * ff), dhidden = FloatBuffer(rows * width)
        FeedForward.backward(kind, dx: dx.p, grads: dw.p, dout: r.p, x: x.p, hidden: hidden.p, activated: activated.p,
                             params: P, weights: w.p, dactivated: dactivated.p, dhidden: dhidden.p, rows: rows, d: d, dff: ff,
                             dropMask: mask.p)
        withExtendedLifetime((dactivated, dhidden)) {}
        // ReLU: small steps, since a finite difference across the kink is not its derivative.
        let eps: Float = kind == .relu ? 1e-3 : 1e-2
        XCTAssertLessThan(directionalGradientError(param: x.p, count: x.count, analytic: dx.array, eps: eps, loss: loss), tolerance)
        XCTAssertLessThan(directionalGradientError(param: w.p, count: width * d, analytic: Array(dw.array[0..<(width * d)]),
                                                   eps: eps, loss: loss), tolerance)
        XCTAssertLessThan(directionalGradientError(param: w.p + P.wo, count: d * ff, analytic: Array(dw.array[P.wo...]),
                                                   eps: eps, loss: loss), tolerance)
    }

    /// Attention core with position bias, key padding mask and (optionally) causal masking.
    func checkAttention(causal: Bool, tq: Int, tk: Int) {
        var rng = SplitMix64(seed: causal ? 3 : 4)
        let s = AttentionShape(batch: 2, tq: tq, tk: tk, heads: 3, dk: 4)
        let q = randomBuffer(s.batch * tq * s.inner, &rng), kv = randomBuffer(s.batch * tk * 2 * s.inner, &rng)
        let bias = randomBuffer(s.heads * tq * tk, &rng), r = randomBuffer(s.batch * tq * s.inner, &rng)
        let mask = FloatBuffer(s.batch * tk)
        for i in 0..<mask.count { mask[i] = 1 }
        if !causal { mask[tk - 1] = 0; mask[tk - 2] = 0 }   // padding at the end of the first sequence
        let out = FloatBuffer(s.batch * tq * s.inner), probs = FloatBuffer(s.probsCount)
        func loss() -> Double {
            Attention.forward(out: out.p, probs: probs.p, q: q.p, ldq: s.inner, k: kv.p, v: kv.p + s.inner, ldkv: 2 * s.inner,
                              bias: bias.p, keyMask: causal ? nil : mask.p, causal: causal, shape: s)
            return probe(out, r)
        }
        _ = loss()
        let dq = FloatBuffer(q.count), dkv = FloatBuffer(kv.count), dbias = FloatBuffer(bias.count)
        let dprobs = FloatBuffer(tq * tk)
        Attention.backward(dq: dq.p, ldq: s.inner, dk: dkv.p, dv: dkv.p + s.inner, ldkv: 2 * s.inner, dbias: dbias.p,
                           dout: r.p, probs: probs.p, q: q.p, k: kv.p, v: kv.p + s.inner, dprobs: dprobs.p, shape: s)
        withExtendedLifetime(dprobs) {}
        XCTAssertLessThan(directionalGradientError(param: q.p, count: q.count, analytic: dq.array, loss: loss), tolerance)
        XCTAssertLessThan(directionalGradientError(param: kv.p, count: kv.count, analytic: dkv.array, loss: loss), tolerance)
        XCTAssertLessThan(directionalGradientError(param: bias.p, count: bias.count, analytic: dbias.array, loss: loss), tolerance)
    }
    func testSelfAttentionCausal() { checkAttention(causal: true, tq: 5, tk: 5) }
    func testCrossAttentionMasked() { checkAttention(causal: false, tq: 4, tk: 6) }

    func testRelativePositionBias() {
        var rng = SplitMix64(seed: 5)
        let c = T5Config(dModel: 8, dKv: 2, dFF: 8, numLayers: 1, numHeads: 2, vocabSize: 10,
                         relativeAttentionNumBuckets: 8, relativeAttentionMaxDistance: 12)
        let tq = 9, tk = 9
        let buckets = RelativePositionBias.buckets(tq: tq, tk: tk, bidirectional: true, config: c)
        let table = randomBuffer(8 * 2, &rng), r = randomBuffer(2 * tq * tk, &rng), bias = FloatBuffer(2 * tq * tk)
        func loss() -> Double {
            RelativePositionBias.forward(bias: bias.p, table: table.p, buckets: buckets, heads: 2, tq: tq, tk: tk)
            return probe(bias, r)
        }
        _ = loss()
        let dt = FloatBuffer(table.count)
        RelativePositionBias.backward(dtable: dt.p, dbias: r.p, buckets: buckets, heads: 2, tq: tq, tk: tk)
        XCTAssertLessThan(directionalGradientError(param: table.p, count: table.count, analytic: dt.array, loss: loss), tolerance)
        // Buckets: bidirectional halves, exact for small distances, capped at the last bucket.
        XCTAssertEqual(RelativePositionBias.bucket(0, bidirectional: true, numBuckets: 32, maxDistance: 128), 0)
        XCTAssertEqual(RelativePositionBias.bucket(3, bidirectional: true, numBuckets: 32, maxDistance: 128), 19)
        XCTAssertEqual(RelativePositionBias.bucket(-3, bidirectional: true, numBuckets: 32, maxDistance: 128), 3)
        XCTAssertEqual(RelativePositionBias.bucket(-500, bidirectional: false, numBuckets: 32, maxDistance: 128), 31)
        XCTAssertEqual(RelativePositionBias.bucket(5, bidirectional: false, numBuckets: 32, maxDistance: 128), 0)
    }

    func testCrossEntropy() {
        var rng = SplitMix64(seed: 6)
        let rows = 5, vocab = 7
        let logits = randomBuffer(rows * vocab, &rng)
        let targets: [Int32] = [3, 0, 6, 1, 0]   // two pad rows are ignored
        func loss() -> Double {
            Double(targets.withUnsafeBufferPointer {
                CrossEntropy.forwardBackward(logits: logits.p, targets: $0.baseAddress!, rows: rows, vocab: vocab, dlogits: nil, weight: 1).loss
            })
        }
        let d = FloatBuffer(rows * vocab)
        let (_, count) = targets.withUnsafeBufferPointer {
            CrossEntropy.forwardBackward(logits: logits.p, targets: $0.baseAddress!, rows: rows, vocab: vocab, dlogits: d.p, weight: 1)
        }
        XCTAssertEqual(count, 3)
        XCTAssertLessThan(directionalGradientError(param: logits.p, count: logits.count, analytic: d.array, loss: loss), tolerance)
    }

    func testEmbedding() {
        var rng = SplitMix64(seed: 7)
        let table = randomBuffer(6 * 4, &rng), r = randomBuffer(5 * 4, &rng), out = FloatBuffer(5 * 4)
        let ids: [Int32] = [2, 5, 2, 0, 1]
        func loss() -> Double {
            ids.withUnsafeBufferPointer { Embedding.forward(out: out.p, ids: $0.baseAddress!, table: table.p, count: 5, dim: 4, vocab: 6) }
            return probe(out, r)
        }
        _ = loss()
        let dt = FloatBuffer(table.count)
        ids.withUnsafeBufferPointer { Embedding.backward(dtable: dt.p, dout: r.p, ids: $0.baseAddress!, count: 5, dim: 4) }
        XCTAssertLessThan(directionalGradientError(param: table.p, count: table.count, analytic: dt.array, loss: loss), tolerance)
    }
}
