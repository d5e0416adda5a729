import Foundation
import XCTest
@testable import Trainer

/// What a training step holds in memory: the estimate counts the buffers the trainer allocates,
/// and giving the step's scratch back to the OS while evaluating changes no weight.
final class TrainingMemoryTests: XCTestCase {
    override func tearDown() {
        FloatBuffer.mapThreshold = 1 << 20
        setThreads(1)
    }

    /// `count` pairs whose inputs and targets all have these lengths (eos included).
    static func pairs(count: Int, input: Int, target: Int, seed: UInt64) -> [[Int32]] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in (0..<max(input, target) - 1).map { _ in Int32(4 + rng.next() % 15) } }
    }

    func stream(_ name: String, input: Int, target: Int, seed: UInt64) -> TrainingStream {
        let xs = Self.pairs(count: 24, input: input, target: target, seed: seed)
        return TrainingStream(name: name, inputs: xs.map { Array($0.prefix(input - 1)) + [1] },
                              targets: xs.map { Array($0.reversed().prefix(target - 1)) + [1] })
    }

    func testEstimateCountsTheTrainersBuffers() {
        var config = TrainingTests.tiny
        config.dropoutRate = 0.1
        let streams = [stream("a", input: 9, target: 5, seed: 1), stream("b", input: 7, target: 8, seed: 2)]
        for (threads, microBatches) in [(1, 1), (2, 2), (1, 3), (2, 3), (3, 2)] {
            for recompute in [false, true] {
                let model = T5Model(config: config, seed: 1)
                var options = TrainOptions()
                options.batchSize = 12; options.threads = threads; options.microBatches = microBatches
                options.recomputeActivations = recompute
                let trainer = Trainer(model: model, options: options)
                trainer.trainStep(streams: streams)
                let gradients = trainer.threadGrads.compactMap { $0 }.count
                let workspaces = [model.workspace] + trainer.threadWorkspaces.dropFirst()
                let floats = model.parameterCount * (4 + gradients) + workspaces.reduce(0) { $0 + ($1?.floatCount ?? 0) }
                let estimate = TrainingMemory(config: config, options: options, encoderLength: 9, decoderLength: 8)
                XCTAssertEqual(estimate.totalBytes, 4 * floats, "threads \(threads), micro-batches \(microBatches), recompute \(recompute)")
            }
        }
        // Recomputing keeps one layer's activations per stack: less, for the same parameters.
        var options = TrainOptions()
        let kept = TrainingMemory(config: config, options: options, encoderLength: 64, decoderLength: 32)
        options.recomputeActivations = true
        let recomputed = TrainingMemory(config: config, options: options, encoderLength: 64, decoderLength: 32)
        XCTAssertEqual(kept.parameterBytes, recomputed.parameterBytes)
        XCTAssertLessThan(recomputed.activationBytes, kept.activationBytes)
    }

    /// Trains with every buffer a map (so that discarding really drops pages), validating by
    /// greedy decoding after every step or never: the weights must be the same bits.
    func train(evaluating: Bool, recompute: Bool) -> [UInt32] {
        FloatBuffer.mapThreshold = 0
        var config = TrainingTests.tiny
        config.dropoutRate = 0.1
        config.vocabSize = 40
        let model = T5Model(config: config, seed: 3)
        var options = TrainOptions()
        options.steps = 4; options.batchSize = 12; options.threads = 2; options.microBatches = 3; options.seed = 5
        options.evaluateEvery = evaluating ? 1 : 0
        options.recomputeActivations = recompute
        let trainer = Trainer(model: model, options: options)
        let streams = [stream("a", input: 9, target: 5, seed: 1), stream("b", input: 7, target: 8, seed: 2)]
        var decoded = 0
        trainer.train(streams: streams, evaluate: evaluating ? { _ in
            #if os(Linux)
            // The step's gradients went back to the OS: they read as zero pages now.
            XCTAssertTrue(model.store.grads.array.allSatisfy { $0 == 0 })
            #endif
            decoded += model.greedyDecode(inputs: streams[0].inputs, maxNewTokens: 6, batchSize: 5).count
        } : nil)
        XCTAssertEqual(decoded, evaluating ? 4 * 24 : 0)
        XCTAssertNil(model.packedDecoder, "decoding's buffers are freed after each evaluation")
        XCTAssertTrue(model.decodeWorkspaces.isEmpty)
        return model.snapshot().map(\.bitPattern)
    }

    func testEvaluatingBetweenStepsChangesNoWeight() {
        for recompute in [false, true] {
            // One boolean, not XCTAssertEqual: a failure would print every weight twice.
            XCTAssertTrue(train(evaluating: true, recompute: recompute) == train(evaluating: false, recompute: recompute),
                          "recompute \(recompute): the weights differ")
        }
    }

    /// Decoding never grows the training workspace (and shares one layer's buffers across the
    /// encoder's layers): its outputs are those of the full forward pass, token by token.
    func testDecodingLeavesTheTrainingWorkspaceAlone() {
        var config = TrainingTests.tiny
        config.vocabSize = 40
        config.numLayers = 3
        let model = T5Model(config: config, seed: 8)
        let inputs = Self.pairs(count: 7, input: 6, target: 1, seed: 4).map { Array($0.prefix(5)) + [1] }
        _ = model.evaluate(inputs: [inputs[0]], targets: [[1]])
        let training = model.workspace
        let decoded = model.greedyDecode(inputs: inputs, maxNewTokens: 5, batchSize: 7, minNewTokens: 5)
        XCTAssertTrue(model.workspace === training, "decoding allocated its own workspace")
        XCTAssertEqual(model.decodeWorkspaces.first??.layout, .oneLayer)
        // Greedy by hand: the full forward over the tokens so far, the last position's argmax.
        for (input, output) in zip(inputs, decoded) {
            var prefix: [Int32] = []
            for _ in 0..<5 {
                let logits = model.evaluate(inputs: [input], targets: [prefix + [1]]).logits
                let last = Array(logits[(prefix.count * config.vocabSize)..<((prefix.count + 1) * config.vocabSize)])
                let best = last.indices.filter { $0 != 1 }.max { last[$0] < last[$1] }!
                prefix.append(Int32(best))
            }
            XCTAssertEqual(output, prefix)
        }
    }
}
