import XCTest
@testable import Trainer

/// Decoding's packed-weight products against sgemm, and cached greedy decoding (which uses
/// them) against the full teacher-forced forward pass (which uses sgemm throughout).
final class PackedLinearTests: XCTestCase {
    /// Every ISA's kernel this CPU runs (generic, AVX2, AVX-512), whatever STEPWISE_TRAINER_ISA says.
    func testPackedProductMatchesSgemmForAnyShape() {
        XCTAssertFalse(availableKernels().isEmpty)
        for kernel in availableKernels() {
            var rng = SplitMix64(seed: 11)
            func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.next() % 2001) / 1000 - 1 } }
            // Rows and columns that fill no tile, part of one, several with a partial last one.
            for (m, k, n) in [(1, 1, 1), (3, 5, 17), (8, 64, 32), (13, 256, 33), (32, 256, 900), (33, 100, 48), (7, 1024, 64)] {
                let x = random(m * k), w = random(n * k)
                var expected = [Float](repeating: 0, count: m * n)
                var got = [Float](repeating: .nan, count: m * n)
                x.withUnsafeBufferPointer { xp in
                    w.withUnsafeBufferPointer { wp in
                        linearForward(&expected, xp.baseAddress!, wp.baseAddress!, m: m, k: k, n: n)
                        PackedLinear(wp.baseAddress!, n: n, k: k, kernel: kernel).forward(&got, xp.baseAddress!, m: m)
                    }
                }
                let tolerance = 1e-5 * max(expected.map(abs).max()!, 1)
                // Written this way round so that an output left unwritten (NaN) fails too.
                let wrong = zip(got, expected).filter { !(abs($0 - $1) <= tolerance) }.count
                XCTAssertEqual(wrong, 0, "\(String(cString: kernel.name)): m \(m) k \(k) n \(n)")
            }
        }
    }

    func testCachedGreedyDecodingEqualsArgmaxOfTheFullForwardPass() {
        // Sizes that leave partial tiles everywhere: vocabulary 37, d_ff 40, inner 24.
        let config = T5Config(dModel: 24, dKv: 6, dFF: 40, numLayers: 2, numDecoderLayers: 2, numHeads: 4, vocabSize: 37,
                              relativeAttentionNumBuckets: 8, relativeAttentionMaxDistance: 16, dropoutRate: 0)
        let model = T5Model(config: config, seed: 5)
        var rng = SplitMix64(seed: 2)
        let inputs: [[Int32]] = (0..<11).map { i in (0..<(3 + i % 5)).map { _ in Int32(4 + rng.next() % 33) } + [1] }
        // Twice, with other weights the second time: decoding repacks them at each call.
        assertDecodingMatchesForwardPass(model, inputs, steps: 6)
        model.restore(T5Model(config: config, seed: 6).snapshot())
        assertDecodingMatchesForwardPass(model, inputs, steps: 4)
    }

    func assertDecodingMatchesForwardPass(_ model: T5Model, _ inputs: [[Int32]], steps: Int) {
        let config = model.config
        let decoded = model.greedyDecode(inputs: inputs, maxNewTokens: steps, batchSize: 4, minNewTokens: steps)
        for (x, y) in zip(inputs, decoded) {
            XCTAssertEqual(y.count, steps)
            // Teacher-forced on its own output, the full model's argmax at each position (eos
            // excluded, as min_new_tokens does) is the token decoding chose.
            let logits = model.evaluate(inputs: [x], targets: [y]).logits
            for t in 0..<steps {
                let row = logits[(t * config.vocabSize)..<((t + 1) * config.vocabSize)]
                let best = row.indices.filter { $0 - t * config.vocabSize != Int(SpecialTokens.eos) }.max { row[$0] < row[$1] }!
                XCTAssertEqual(Int32(best - t * config.vocabSize), y[t], "position \(t) of \(x)")
            }
        }
    }
}
