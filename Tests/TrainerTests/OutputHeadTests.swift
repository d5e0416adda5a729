import XCTest
@testable import Trainer

/// The block-by-block output head against the unblocked formula (all logits at once, in double)
/// and against finite differences, for block sizes that do and do not divide the rows.
final class OutputHeadTests: XCTestCase {
    override func setUp() { setThreads(1) }

    let rows = 13, d = 6, vocab = 11
    let targets: [Int32] = [3, 0, 6, 1, 10, 0, 2, 7, 7, 9, 0, 4, 5]   // three pad rows are ignored

    func inputs(seed: UInt64) -> (x: FloatBuffer, w: FloatBuffer) {
        var rng = SplitMix64(seed: seed)
        return (randomBuffer(rows * d, &rng), randomBuffer(vocab * d, &rng, scale: 0.7))
    }

    /// loss, dW, dX of weight · mean CE(X Wᵀ) computed directly in double.
    func unblocked(x: FloatBuffer, w: FloatBuffer, weight: Double) -> (loss: Double, dw: [Double], dx: [Double]) {
        let counted = targets.filter { $0 != 0 }.count
        var loss = 0.0
        var dw = [Double](repeating: 0, count: vocab * d), dx = [Double](repeating: 0, count: rows * d)
        for r in 0..<rows where targets[r] != 0 {
            let z = (0..<vocab).map { v in (0..<d).reduce(0.0) { $0 + Double(x[r * d + $1]) * Double(w[v * d + $1]) } }
            let m = z.max()!, logZ = m + log(z.reduce(0) { $0 + exp($1 - m) })
            loss += (logZ - z[Int(targets[r])]) / Double(counted)
            for v in 0..<vocab {
                let g = weight * (exp(z[v] - logZ) - (v == Int(targets[r]) ? 1 : 0)) / Double(counted)
                for k in 0..<d {
                    dw[v * d + k] += g * Double(x[r * d + k])
                    dx[r * d + k] += g * Double(w[v * d + k])
                }
            }
        }
        return (loss, dw, dx)
    }

    func blocked(x: FloatBuffer, w: FloatBuffer, blockRows: Int, weights: [Float]) -> (loss: [Double], dw: FloatBuffer, dx: FloatBuffer) {
        let dw = FloatBuffer(vocab * d), dx = FloatBuffer(rows * d)
        let scratch = OutputHead.Scratch(vocab: vocab, blockRows: blockRows, training: true)
        let loss = targets.withUnsafeBufferPointer { t in
            OutputHead.run(hidden: x.p, weight: w.p, rows: rows, d: d, vocab: vocab,
                           terms: weights.map { CrossEntropy(targets: t.baseAddress!, rows: rows, weight: $0) },
                           scratch: scratch, gradients: .init(weight: dw.p, hidden: dx.p))
        }
        return (loss, dw, dx)
    }

    func assertClose(_ a: FloatBuffer, _ b: [Double], _ message: String) {
        let scale = b.map(abs).max()!
        for i in 0..<b.count { XCTAssertEqual(Double(a[i]), b[i], accuracy: 1e-5 * scale, "\(message) [\(i)]") }
    }

    func testBlocksOfAnySizeGiveTheUnblockedLossAndGradients() {
        let (x, w) = inputs(seed: 21)
        let reference = unblocked(x: x, w: w, weight: 0.7)
        for blockRows in [1, 4, 5, 13, 16] {
            let r = blocked(x: x, w: w, blockRows: blockRows, weights: [0.7])
            XCTAssertEqual(r.loss[0], reference.loss, accuracy: 1e-6, "block \(blockRows)")
            assertClose(r.dw, reference.dw, "dW, block \(blockRows)")
            assertClose(r.dx, reference.dx, "dX, block \(blockRows)")
        }
    }

    /// A second term adds its gradient to the first's: CE·0.3 + CE·0.4 is CE·0.7.
    func testTermsAddTheirGradients() {
        let (x, w) = inputs(seed: 22)
        let reference = unblocked(x: x, w: w, weight: 0.7)
        let r = blocked(x: x, w: w, blockRows: 5, weights: [0.3, 0.4])
        XCTAssertEqual(r.loss.count, 2)
        for value in r.loss { XCTAssertEqual(value, reference.loss, accuracy: 1e-6) }
        assertClose(r.dw, reference.dw, "dW")
        assertClose(r.dx, reference.dx, "dX")
    }

    func testBlockedGradientsAgainstFiniteDifferences() {
        let (x, w) = inputs(seed: 23)
        let r = blocked(x: x, w: w, blockRows: 4, weights: [1])
        func loss() -> Double { blocked(x: x, w: w, blockRows: 4, weights: [1]).loss[0] }
        XCTAssertLessThan(directionalGradientError(param: w.p, count: w.count, analytic: r.dw.array, loss: loss), 1e-3)
        XCTAssertLessThan(directionalGradientError(param: x.p, count: x.count, analytic: r.dx.array, loss: loss), 1e-3)
    }

    /// Logits wanted by the caller (evaluation) are the product's, block by block.
    func testLogitsOutAreTheFullProduct() {
        let (x, w) = inputs(seed: 24)
        let out = FloatBuffer(rows * vocab), full = FloatBuffer(rows * vocab)
        let scratch = OutputHead.Scratch(vocab: vocab, blockRows: 5, training: false)
        let loss = targets.withUnsafeBufferPointer { t in
            OutputHead.run(hidden: x.p, weight: w.p, rows: rows, d: d, vocab: vocab,
                           terms: [CrossEntropy(targets: t.baseAddress!, rows: rows, weight: 1)], scratch: scratch,
                           logitsOut: out.p)
        }
        linearForward(full.p, x.p, w.p, m: rows, k: d, n: vocab)
        XCTAssertEqual(out.array, full.array)
        XCTAssertEqual(loss[0], unblocked(x: x, w: w, weight: 1).loss, accuracy: 1e-6)
    }

    /// The block size is a function of the vocabulary alone (results must not depend on the machine).
    func testBlockRows() {
        XCTAssertEqual(OutputHead.blockRows(vocab: 32128), 128)
        XCTAssertEqual(OutputHead.blockRows(vocab: 1 << 30), 16)
        XCTAssertEqual(OutputHead.blockRows(vocab: 400) % 16, 0)
    }
}
