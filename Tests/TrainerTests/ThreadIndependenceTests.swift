import Foundation
import XCTest
@testable import Trainer

/// The same recipe gives byte-identical weights, checkpoints and decodings with any thread
/// count: the micro-batch layout is part of the recipe, threads only schedule it.
final class ThreadIndependenceTests: XCTestCase {
    override func tearDown() { setThreads(1) }

    /// Trains the tiny model (dropout on, two streams, uneven micro-batches) and returns its
    /// parameter buffer and the bytes of its saved model.safetensors.
    func train(threads: Int, microBatches: Int = 3, steps: Int = 5, recompute: Bool = false,
               original: Bool = false) throws -> (weights: [Float], file: Data) {
        let (xs, ys) = TrainingTests.reversalPairs(count: 40)
        var config = original ? TrainingTests.tinyOriginal : TrainingTests.tiny
        config.dropoutRate = 0.1
        let model = T5Model(config: config, seed: 9)
        var options = TrainOptions()
        options.steps = steps; options.batchSize = 11; options.threads = threads; options.seed = 7
        options.microBatches = microBatches; options.warmupSteps = 2
        options.recomputeActivations = recompute
        let trainer = Trainer(model: model, options: options)
        trainer.train(streams: [TrainingStream(name: "a", inputs: xs, targets: ys, weight: 1),
                                TrainingStream(name: "b", inputs: ys, targets: xs, weight: 0.5)])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-threads-\(getpid())-\(threads)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try model.save(to: dir)
        return (model.snapshot(), try Data(contentsOf: dir.appendingPathComponent("model.safetensors")))
    }

    func testWeightsAndCheckpointIdenticalWithOneTwoOrThreeThreads() throws {
        // 3 micro-batches: one thread runs 3 waves, two threads 2 waves (2 + 1), three threads 1.
        let one = try train(threads: 1), two = try train(threads: 2), three = try train(threads: 3)
        let bits = { (w: [Float]) in w.map(\.bitPattern) }
        XCTAssertEqual(bits(one.weights), bits(two.weights))
        XCTAssertEqual(bits(one.weights), bits(three.weights))
        XCTAssertEqual(one.file, two.file)
        XCTAssertEqual(one.file, three.file)
        // The comparison can tell: another micro-batch layout is another recipe.
        XCTAssertNotEqual(bits(one.weights), bits(try train(threads: 1, microBatches: 2).weights))
    }

    /// Recomputing each layer's forward in the backward pass (with the dropout masks drawn again
    /// from the same generator state) changes memory, not a single bit of the result.
    func testRecomputedActivationsGiveIdenticalWeights() throws {
        for original in [false, true] {
            let kept = try train(threads: 2, steps: 3, original: original)
            let recomputed = try train(threads: 2, steps: 3, recompute: true, original: original)
            XCTAssertEqual(kept.weights.map(\.bitPattern), recomputed.weights.map(\.bitPattern), "original: \(original)")
            XCTAssertEqual(kept.file, recomputed.file)
        }
    }

    func testMoreThreadsThanMicroBatches() throws {
        let one = try train(threads: 1, microBatches: 2, steps: 3), four = try train(threads: 4, microBatches: 2, steps: 3)
        XCTAssertEqual(one.file, four.file)
    }

    func testGreedyDecodingIdenticalWithOneTwoOrThreeThreads() {
        var config = TrainingTests.tiny
        config.vocabSize = 37
        let model = T5Model(config: config, seed: 12)
        var rng = SplitMix64(seed: 4)
        let inputs: [[Int32]] = (0..<29).map { i in (0..<(2 + i % 7)).map { _ in Int32(4 + rng.next() % 33) } + [1] }
        func decode(_ threads: Int) -> [[Int32]] {
            setThreads(threads)
            return model.greedyDecode(inputs: inputs, maxNewTokens: 9, batchSize: 4, minNewTokens: 9)
        }
        let one = decode(1)
        XCTAssertEqual(one.count, inputs.count)
        XCTAssertEqual(one, decode(2))
        XCTAssertEqual(one, decode(3))
    }
}
