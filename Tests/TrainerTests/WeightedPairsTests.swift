import Foundation
import XCTest
@testable import Trainer

/// Per-pair weights (soft targets written as weighted (input → label_j) pairs): weights of 1 are
/// plain CE bit for bit, the weighted loss's gradient is checked against finite differences, and
/// a batch of weighted pairs is the weighted mixture of its pairs' gradients.
final class WeightedPairsTests: XCTestCase {
    let tolerance = 1e-3

    func testWeightedCrossEntropyGradient() {
        var rng = SplitMix64(seed: 16)
        let rows = 5, vocab = 7
        let logits = randomBuffer(rows * vocab, &rng)
        let targets: [Int32] = [3, 0, 6, 1, 2]
        let weights: [Float] = [0.2, 5, 0.7, 0.1, 1.3]   // the pad row's weight must not matter
        func loss() -> Double {
            Double(targets.withUnsafeBufferPointer { t in
                CrossEntropy.forwardBackward(logits: logits.p, targets: t.baseAddress!, rows: rows, vocab: vocab,
                                             dlogits: nil, weight: 1, rowWeights: weights).loss
            })
        }
        let d = FloatBuffer(rows * vocab)
        _ = targets.withUnsafeBufferPointer { t in
            CrossEntropy.forwardBackward(logits: logits.p, targets: t.baseAddress!, rows: rows, vocab: vocab,
                                         dlogits: d.p, weight: 1, rowWeights: weights)
        }
        XCTAssertLessThan(directionalGradientError(param: logits.p, count: logits.count, analytic: d.array, loss: loss), tolerance)
        // The pad row contributes nothing even with a large weight.
        XCTAssertEqual(Array(d.array[vocab..<2 * vocab]), [Float](repeating: 0, count: vocab))
    }

    /// Weights of exactly 1 train the same weights, bit for bit, as a stream without weights.
    func testOneHotWeightsEqualPlainCrossEntropyBitForBit() {
        let (xs, ys) = TrainingTests.reversalPairs(count: 24)
        func train(_ weights: [Float]?, threads: Int) -> ([Float], [[Float]]) {
            var config = TrainingTests.tiny
            config.dropoutRate = 0.1
            let model = T5Model(config: config, seed: 4)
            var options = TrainOptions()
            options.steps = 6; options.batchSize = 8; options.threads = threads; options.seed = 2
            let trainer = Trainer(model: model, options: options)
            let stream = TrainingStream(name: "s", inputs: xs, targets: ys, exampleWeights: weights)
            var losses: [[Float]] = []
            while trainer.step < options.steps { losses.append(trainer.trainStep(streams: [stream]).lossPerStream) }
            return (model.snapshot(), losses)
        }
        let plain = train(nil, threads: 2)
        let ones = train([Float](repeating: 1, count: xs.count), threads: 2)
        XCTAssertEqual(plain.0, ones.0, "weights after training")
        XCTAssertEqual(plain.1, ones.1, "loss curve")
        // A non-trivial weighting does change training (the test can fail).
        var skewed = [Float](repeating: 1, count: xs.count)
        skewed[0] = 3; skewed[5] = 0.25
        XCTAssertNotEqual(plain.0, train(skewed, threads: 2).0)
    }

    /// The gradient of a weighted batch is Σ wᵢ·∇(CEᵢ summed over its tokens) / Σ wᵢ·nᵢ.
    func testWeightedBatchIsTheWeightedMixtureOfItsPairs() {
        let (xs, ys) = TrainingTests.reversalPairs(count: 3, seed: 11)
        let model = T5Model(config: TrainingTests.tiny, seed: 8)
        let w: [Float] = [0.6, 0.3, 0.1]
        model.computeGradients(inputs: xs, targets: ys, exampleWeights: w)
        let mixed = model.store.grads.array
        var expected = [Double](repeating: 0, count: mixed.count)
        var weightedCount = 0.0
        for i in 0..<3 {
            let n = Double(ys[i].count)
            // Each pair alone: its mean CE's gradient, times its token count = the summed CE's.
            model.computeGradients(inputs: [xs[i]], targets: [ys[i]], exampleWeights: nil)
            let g = model.store.grads.array
            for j in g.indices { expected[j] += Double(w[i]) * n * Double(g[j]) }
            weightedCount += Double(w[i]) * n
        }
        var worst = 0.0, scale = 0.0
        for j in mixed.indices {
            let e = expected[j] / weightedCount
            worst = max(worst, abs(Double(mixed[j]) - e)); scale = max(scale, abs(e))
        }
        XCTAssertLessThan(worst, 1e-4 * max(scale, 1e-3), "max |Δ| \(worst) of max |g| \(scale)")
    }
}
