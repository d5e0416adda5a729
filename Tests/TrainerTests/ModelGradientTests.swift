import XCTest
@testable import Trainer

/// The whole model's backward against finite differences, one tensor at a time.
final class ModelGradientTests: XCTestCase {
    let inputs: [[Int32]] = [[5, 6, 7, 8, 9, 10, 11, 12, 1], [13, 14, 1], [4, 9, 22, 3, 1]]
    let targets: [[Int32]] = [[7, 8, 1], [20, 21, 19, 18, 1], [2, 1]]

    func model(dropout: Float, seed: UInt64, original: Bool = false) -> T5Model {
        setThreads(1)
        var config = T5Config(dModel: 16, dKv: 4, dFF: 24, numLayers: 2, numDecoderLayers: original ? 3 : 2, numHeads: 3,
                              vocabSize: 23, relativeAttentionNumBuckets: 8, relativeAttentionMaxDistance: 10,
                              dropoutRate: dropout, original: original)
        config.layerNormEpsilon = 1e-6
        return T5Model(config: config, seed: seed)
    }

    /// Worst relative error over every parameter tensor of `model`, whose current gradients are
    /// the analytic ones for `loss`.
    func worstError(_ model: T5Model, eps: Float, label: String, loss: () -> Double) -> Double {
        let store = model.store
        let analytic = store.infos.map { model.gradient(named: $0.name)! }
        var worst = 0.0
        for (info, g) in zip(store.infos, analytic) {
            let err = directionalGradientError(param: store.values.p + info.offset, count: info.count, analytic: g,
                                               eps: eps, loss: loss)
            if err >= 1e-3 { print("\(label) \(info.name): relative error \(err)") }
            worst = max(worst, err)
        }
        print("\(label): worst relative error \(worst) over \(store.infos.count) tensors")
        return worst
    }

    func testWholeModelGradients() {
        let model = model(dropout: 0, seed: 11)
        model.computeGradients(inputs: inputs, targets: targets, weight: 0.7)
        let worst = worstError(model, eps: 5e-2, label: "whole-model gradient check") {
            Double(model.evaluate(inputs: inputs, targets: targets).loss) * 0.7
        }
        XCTAssertLessThan(worst, 1e-3)
    }

    /// Finite differences over a whole relu model are less exact than over the gated one: a step
    /// large enough for float32 rounding not to matter (the gated check's 5e-2) moves some hidden
    /// units across relu's kink, where no extrapolation holds; smaller steps drown in rounding
    /// (measured worst error: 2.5e-3 at 5e-3, 6e-3 at 2e-3, 1.3e-2 at 1e-3). So 5e-3 with a
    /// tolerance of 5e-3; a wrong gradient is off by O(1). The exact check of these gradients is
    /// the parity test (every gradient within ~1e-6 of torch's).
    static let reluTolerance = 5e-3

    /// The original T5: relu feed-forward, the head tied to the shared embedding (whose gradient
    /// then sums the head's and both embeddings'), the decoder output scaled by d_model^-0.5; and
    /// more decoder than encoder layers.
    func testWholeModelGradientsOriginalT5() {
        let model = model(dropout: 0, seed: 13, original: true)
        XCTAssertNil(model.parameter(named: "lm_head.weight"))
        model.computeGradients(inputs: inputs, targets: targets, weight: 0.7)
        let worst = worstError(model, eps: 5e-3, label: "whole-model gradient check (original T5)") {
            Double(model.evaluate(inputs: inputs, targets: targets).loss) * 0.7
        }
        XCTAssertLessThan(worst, Self.reluTolerance)
    }

    func testWholeModelGradientsOriginalT5WithDropout() {
        let model = model(dropout: 0.3, seed: 14, original: true)
        func pass() -> Float {
            model.dropoutRNG = SplitMix64(seed: 98)
            return model.computeGradients(inputs: inputs, targets: targets, weight: 1, training: true)
        }
        pass()
        let worst = worstError(model, eps: 5e-3, label: "whole-model gradient check, original T5, dropout 0.3") { Double(pass()) }
        XCTAssertLessThan(worst, Self.reluTolerance)
    }

    /// With dropout on (every site: embeddings, sublayer outputs, attention probabilities, the
    /// gated hidden), the loss is a fixed function of the parameters once the masks are fixed:
    /// reseeding the dropout generator before each pass draws the same masks. The masks' 1/(1−p)
    /// scaling makes the loss more curved, so the step is smaller than without dropout (at 5e-2
    /// the finite differences themselves were off by ~1 %; at 2e-2 the worst error is ~3e-4).
    func testWholeModelGradientsWithDropout() {
        let model = model(dropout: 0.3, seed: 12)
        func pass() -> Float {
            model.dropoutRNG = SplitMix64(seed: 99)
            return model.computeGradients(inputs: inputs, targets: targets, weight: 1, training: true)
        }
        XCTAssertNotEqual(pass(), model.evaluate(inputs: inputs, targets: targets).loss, "dropout changes the loss")
        let worst = worstError(model, eps: 2e-2, label: "whole-model gradient check with dropout 0.3") { Double(pass()) }
        XCTAssertLessThan(worst, 1e-3)
    }
}
