import Foundation
import XCTest
@testable import Trainer

final class TrainingTests: XCTestCase {
    static let tiny = T5Config(dModel: 32, dKv: 8, dFF: 64, numLayers: 2, numDecoderLayers: 2, numHeads: 4, vocabSize: 20,
                               relativeAttentionNumBuckets: 16, relativeAttentionMaxDistance: 32, dropoutRate: 0)

    /// 32 pairs: a random digit string (tokens 4…13) → the same string reversed, then eos.
    static func reversalPairs(count: Int = 32, seed: UInt64 = 3) -> ([[Int32]], [[Int32]]) {
        var rng = SplitMix64(seed: seed)
        var xs: [[Int32]] = [], ys: [[Int32]] = []
        for _ in 0..<count {
            let n = 3 + Int(rng.next() % 4)
            let x = (0..<n).map { _ in Int32(4 + rng.next() % 10) }
            xs.append(x + [1]); ys.append(x.reversed() + [1])
        }
        return (xs, ys)
    }

    static var tinyOriginal: T5Config {
        var c = tiny
        c.feedForward = .relu; c.tieWordEmbeddings = true; c.scaleDecoderOutputs = true
        return c
    }

    func testTinyModelOverfits32Pairs() { overfit(Self.tiny) }
    /// The original T5 (relu, tied and rescaled head) trains too.
    func testTinyOriginalT5Overfits32Pairs() { overfit(Self.tinyOriginal) }

    func overfit(_ config: T5Config) {
        let (xs, ys) = Self.reversalPairs()
        let model = T5Model(config: config, seed: 1)
        var options = TrainOptions()
        options.steps = 400; options.batchSize = 32; options.learningRate = 3e-3; options.warmupSteps = 20
        options.schedule = .constant; options.weightDecay = 0; options.threads = 1; options.seed = 5
        let trainer = Trainer(model: model, options: options)
        let stream = TrainingStream(name: "reverse", inputs: xs, targets: ys)
        var exact = 0, steps = 0
        while trainer.step < options.steps {
            let p = trainer.trainStep(streams: [stream])
            steps = p.step
            if p.step % 25 == 0 {
                let out = model.greedyDecode(inputs: xs, maxNewTokens: 10)
                exact = zip(out, ys).filter { $0.0 + [1] == $0.1 }.count
                if exact == xs.count { break }
            }
        }
        print("overfit: \(exact)/\(xs.count) exact after \(steps) steps")
        XCTAssertEqual(exact, xs.count, "exact-match greedy outputs after \(steps) steps")
    }

    func lossCurve(seed: UInt64, threads: Int = 1) -> [[Float]] {
        let (xs, ys) = Self.reversalPairs(count: 40)
        var config = Self.tiny
        config.dropoutRate = 0.1   // dropout on: determinism must include the masks
        let model = T5Model(config: config, seed: 9)
        var options = TrainOptions()
        options.steps = 15; options.batchSize = 8; options.threads = threads; options.seed = seed; options.warmupSteps = 3
        let trainer = Trainer(model: model, options: options)
        let streams = [TrainingStream(name: "a", inputs: xs, targets: ys, weight: 1),
                       TrainingStream(name: "b", inputs: ys, targets: xs, weight: 0.5)]
        var curve: [[Float]] = []
        trainer.train(streams: streams, progress: { curve.append($0.lossPerStream) })
        return curve
    }

    func testSameSeedSameLossCurve() {
        let a = lossCurve(seed: 42), b = lossCurve(seed: 42), c = lossCurve(seed: 43)
        XCTAssertEqual(a.count, 15)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }

    /// Cutting a batch into micro-batches computes the same loss and gradients as one pass (up
    /// to float rounding: the micro-batches' gradients are summed separately).
    func testMicroBatchedStepMatchesOnePass() { checkMicroBatchedStep(Self.tiny, gradient: "encoder.block.0.layer.0.SelfAttention.q.weight") }
    /// With a tied head, every micro-batch's head gradient lands in the shared embedding's.
    func testMicroBatchedStepMatchesOnePassTiedHead() { checkMicroBatchedStep(Self.tinyOriginal, gradient: "shared.weight") }

    func checkMicroBatchedStep(_ config: T5Config, gradient: String) {
        let (xs, ys) = Self.reversalPairs(count: 16)
        func firstStep(microBatches: Int) -> (loss: [Float], grad: [Float]) {
            let model = T5Model(config: config, seed: 3)
            var options = TrainOptions()
            options.steps = 1; options.batchSize = 16; options.threads = 2; options.clipNorm = nil
            options.microBatches = microBatches
            let trainer = Trainer(model: model, options: options)
            let p = trainer.trainStep(streams: [TrainingStream(inputs: xs, targets: ys, weight: 0.5),
                                                TrainingStream(inputs: ys, targets: xs, weight: 1)])
            return (p.lossPerStream, model.gradient(named: gradient)!)
        }
        let one = firstStep(microBatches: 1), three = firstStep(microBatches: 3)
        setThreads(1)
        for (a, b) in zip(one.loss, three.loss) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        let scale = one.grad.map(abs).max()!
        for (a, b) in zip(one.grad, three.grad) { XCTAssertEqual(a, b, accuracy: 1e-5 * scale) }
    }

    /// Σ weight · CE: the gradient of a weighted stream is weight × the unit-weight gradient.
    func testStreamWeightScalesGradient() {
        let (xs, ys) = Self.reversalPairs(count: 4)
        let model = T5Model(config: Self.tiny, seed: 2)
        model.computeGradients(inputs: xs, targets: ys, weight: 1)
        let g1 = model.gradient(named: "lm_head.weight")!
        model.computeGradients(inputs: xs, targets: ys, weight: 0.25)
        let g2 = model.gradient(named: "lm_head.weight")!
        for (a, b) in zip(g1, g2) { XCTAssertEqual(a * 0.25, b, accuracy: 1e-7) }
    }

    func testSaveLoadIdenticalOutputs() throws {
        let (xs, ys) = Self.reversalPairs(count: 6)
        let model = T5Model(config: Self.tiny, seed: 4)
        let tok = Tokenizer.train(texts: ["abc abd 12"], vocabSize: 40, specialTokens: ["[label]"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-ckpt-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try model.save(to: dir, tokenizer: tok)
        let (loaded, tok2) = try T5Model.load(from: dir)
        XCTAssertEqual(loaded.config, model.config)
        XCTAssertEqual(loaded.snapshot(), model.snapshot())
        XCTAssertEqual(loaded.evaluate(inputs: xs, targets: ys).logits, model.evaluate(inputs: xs, targets: ys).logits)
        XCTAssertEqual(loaded.greedyDecode(inputs: xs, maxNewTokens: 8), model.greedyDecode(inputs: xs, maxNewTokens: 8))
        XCTAssertEqual(tok2?.tokens, tok.tokens)
        // Text in, text and ids out.
        var small = Self.tiny
        small.vocabSize = tok.vocabularySize
        let textModel = T5Model(config: small, seed: 1)
        let generated = textModel.generate(["abc 12", "abd"], tokenizer: tok, maxNewTokens: 5)
        XCTAssertEqual(generated.map(\.ids), textModel.greedyDecode(inputs: [tok.encode("abc 12"), tok.encode("abd")], maxNewTokens: 5))
        XCTAssertEqual(generated.map(\.text), generated.map { tok.decode($0.ids) })
        // The config carries transformers' keys.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(json["model_type"] as? String, "t5")
        XCTAssertEqual(json["feed_forward_proj"] as? String, "gated-gelu")
        XCTAssertEqual(json["tie_word_embeddings"] as? Bool, false)
    }

    func testSnapshotRestore() {
        let model = T5Model(config: Self.tiny, seed: 4)
        let snap = model.snapshot()
        let (xs, ys) = Self.reversalPairs(count: 8)
        var options = TrainOptions(); options.steps = 2; options.batchSize = 4; options.threads = 1
        Trainer(model: model, options: options).train(streams: [TrainingStream(inputs: xs, targets: ys)])
        XCTAssertNotEqual(model.snapshot(), snap)
        model.restore(snap)
        XCTAssertEqual(model.snapshot(), snap)
    }

    func testScheduleShapes() {
        let s = LearningRateSchedule.linear
        XCTAssertEqual(s.rate(step: 0, totalSteps: 100, warmupSteps: 10, peak: 1), 0.1, accuracy: 1e-6)
        XCTAssertEqual(s.rate(step: 9, totalSteps: 100, warmupSteps: 10, peak: 1), 1, accuracy: 1e-6)
        XCTAssertEqual(s.rate(step: 55, totalSteps: 100, warmupSteps: 10, peak: 1), 0.5, accuracy: 1e-6)
        XCTAssertEqual(LearningRateSchedule.cosine.rate(step: 55, totalSteps: 100, warmupSteps: 10, peak: 1), 0.5, accuracy: 1e-6)
    }
}
