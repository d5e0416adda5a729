import Foundation
import XCTest
@testable import Trainer

/// The soft-target term of knowledge distillation (`SoftTargetKL`) against its formula in double
/// and finite differences, against the cross-entropy for a one-hot teacher, and inside the
/// trainer: α = 0 is plain cross-entropy bit for bit, and a teacher identical to the student
/// (reading the same inputs) gives no gradient at α = 1.
final class SoftTargetKLTests: XCTestCase {
    override func setUp() { setThreads(1) }

    let rows = 7, d = 5, teacherWidth = 9, vocab = 11
    let targets: [Int32] = [3, 0, 6, 1, 10, 2, 0]   // two pad rows are ignored

    struct Inputs { let x, w, teacherHidden, teacherHead: FloatBuffer }

    func inputs(seed: UInt64) -> Inputs {
        var rng = SplitMix64(seed: seed)
        return Inputs(x: randomBuffer(rows * d, &rng), w: randomBuffer(vocab * d, &rng, scale: 0.8),
                      teacherHidden: randomBuffer(rows * teacherWidth, &rng), teacherHead: randomBuffer(vocab * teacherWidth, &rng, scale: 0.6))
    }

    func term(_ i: Inputs, scratch: FloatBuffer, temperature: Float, weight: Float, width: Int? = nil,
              _ t: UnsafePointer<Int32>) -> SoftTargetKL {
        SoftTargetKL(teacherHidden: i.teacherHidden.p, teacherHead: i.teacherHead.p, teacherWidth: width ?? teacherWidth,
                     teacherLogits: scratch.p, targets: t, normalizer: targets.filter { $0 != 0 }.count,
                     temperature: temperature, weight: weight, rowWeights: nil)
    }

    /// The head with [CE·(1−α), KL·α] over blocks of 3 rows: loss, dW and dX.
    func head(_ i: Inputs, alpha: Float, temperature: Float) -> (loss: Double, dw: FloatBuffer, dx: FloatBuffer) {
        let dw = FloatBuffer(vocab * d), dx = FloatBuffer(rows * d)
        let scratch = OutputHead.Scratch(vocab: vocab, blockRows: 3, training: true)
        let teacherLogits = FloatBuffer(3 * vocab)
        let values = targets.withUnsafeBufferPointer { t in
            OutputHead.run(hidden: i.x.p, weight: i.w.p, rows: rows, d: d, vocab: vocab,
                           terms: [CrossEntropy(targets: t.baseAddress!, rows: rows, weight: 1 - alpha),
                                   term(i, scratch: teacherLogits, temperature: temperature, weight: alpha, t.baseAddress!)],
                           scratch: scratch, gradients: .init(weight: dw.p, hidden: dx.p))
        }
        return (Double(1 - alpha) * values[0] + Double(alpha) * values[1], dw, dx)
    }

    func testValueAndGradientAgainstTheFormulaInDouble() {
        let i = inputs(seed: 31)
        var rng = SplitMix64(seed: 32)
        let logits = randomBuffer(rows * vocab, &rng, scale: 2)
        let gradient = FloatBuffer(rows * vocab), scratch = FloatBuffer(rows * vocab)
        let T = 2.5
        let value = targets.withUnsafeBufferPointer { t in
            term(i, scratch: scratch, temperature: Float(T), weight: 0.7, t.baseAddress!)
                .evaluate(logits: logits.p, rows: 0..<rows, vocab: vocab, gradient: gradient.p, accumulate: false)
        }
        let counted = Double(targets.filter { $0 != 0 }.count)
        var expected = 0.0
        for r in 0..<rows {
            let zt = (0..<vocab).map { v in (0..<teacherWidth).reduce(0.0) { $0 + Double(i.teacherHidden[r * teacherWidth + $1]) * Double(i.teacherHead[v * teacherWidth + $1]) } / T }
            let zs = (0..<vocab).map { Double(logits[r * vocab + $0]) / T }
            func softmax(_ z: [Double]) -> [Double] { let m = z.max()!; let e = z.map { exp($0 - m) }; let s = e.reduce(0, +); return e.map { $0 / s } }
            let pt = softmax(zt), ps = softmax(zs)
            for v in 0..<vocab {
                let g = targets[r] == 0 ? 0 : 0.7 * T * (ps[v] - pt[v]) / counted
                XCTAssertEqual(Double(gradient[r * vocab + v]), g, accuracy: 1e-6, "row \(r), token \(v)")
            }
            if targets[r] != 0 { expected += T * T * zip(pt, ps).reduce(0.0) { $0 + $1.0 * log($1.0 / $1.1) } / counted }
        }
        XCTAssertEqual(value, expected, accuracy: 1e-5 * max(1, expected))
    }

    /// Every term is gradient-checked like the other layers: through the blocked head, in the
    /// head's weight and its input, mixed with the cross-entropy.
    func testGradientAgainstFiniteDifferences() {
        let i = inputs(seed: 33)
        for (alpha, T) in [(Float(0.6), Float(2)), (1, 1), (0.3, 4)] {
            let r = head(i, alpha: alpha, temperature: T)
            func loss() -> Double { head(i, alpha: alpha, temperature: T).loss }
            XCTAssertLessThan(directionalGradientError(param: i.w.p, count: i.w.count, analytic: r.dw.array, loss: loss), 1e-3, "dW α=\(alpha) T=\(T)")
            XCTAssertLessThan(directionalGradientError(param: i.x.p, count: i.x.count, analytic: r.dx.array, loss: loss), 1e-3, "dX α=\(alpha) T=\(T)")
        }
    }

    /// A teacher whose distributions are one-hot on the targets (T = 1) is the cross-entropy:
    /// the same value and the same gradient.
    func testOneHotTeacherGivesTheCrossEntropyGradient() {
        var rng = SplitMix64(seed: 34)
        let logits = randomBuffer(rows * vocab, &rng, scale: 2)
        // Teacher hidden row r is the one-hot of its target, its head 10⁴·I: logits 10⁴ on the
        // target and 0 elsewhere, whose softmax is exactly one-hot in float.
        let hidden = FloatBuffer(rows * vocab), headWeights = FloatBuffer(vocab * vocab)
        for r in 0..<rows { hidden[r * vocab + Int(targets[r])] = 1 }
        for v in 0..<vocab { headWeights[v * vocab + v] = 1e4 }
        let teacher = Inputs(x: FloatBuffer(1), w: FloatBuffer(1), teacherHidden: hidden, teacherHead: headWeights)
        let klGradient = FloatBuffer(rows * vocab), ceGradient = FloatBuffer(rows * vocab), scratch = FloatBuffer(rows * vocab)
        let (kl, ce) = targets.withUnsafeBufferPointer { t -> (Double, Double) in
            let kl = term(teacher, scratch: scratch, temperature: 1, weight: 1, width: vocab, t.baseAddress!)
                .evaluate(logits: logits.p, rows: 0..<rows, vocab: vocab, gradient: klGradient.p, accumulate: false)
            let ce = CrossEntropy(targets: t.baseAddress!, rows: rows, weight: 1)
                .evaluate(logits: logits.p, rows: 0..<rows, vocab: vocab, gradient: ceGradient.p, accumulate: false)
            return (kl, ce)
        }
        XCTAssertEqual(kl, ce, accuracy: 1e-6 * ce)
        for k in 0..<rows * vocab { XCTAssertEqual(klGradient[k], ceGradient[k], accuracy: 1e-7, "element \(k)") }
        // Not a property of any teacher: a softer one gives another gradient.
        for v in 0..<vocab { headWeights[v * vocab + v] = 2 }
        _ = targets.withUnsafeBufferPointer { t in
            term(teacher, scratch: scratch, temperature: 1, weight: 1, width: vocab, t.baseAddress!)
                .evaluate(logits: logits.p, rows: 0..<rows, vocab: vocab, gradient: klGradient.p, accumulate: false)
        }
        XCTAssertGreaterThan(zip(klGradient.array, ceGradient.array).map { abs($0 - $1) }.max()!, 1e-3)
    }

    /// Five steps of the tiny student (seed 4) on the reversal pairs, with `teacher` on the stream.
    func train(teacher: StreamTeacher?, dropout: Float = 0) -> (weights: [Float], progress: [TrainingProgress]) {
        let (xs, ys) = TrainingTests.reversalPairs(count: 24)
        var config = TrainingTests.tiny
        config.dropoutRate = dropout
        let model = T5Model(config: config, seed: 4)
        var options = TrainOptions()
        options.steps = 5; options.batchSize = 8; options.threads = 2; options.seed = 2
        let trainer = Trainer(model: model, options: options)
        let stream = TrainingStream(name: "s", inputs: xs, targets: ys, teacher: teacher)
        var progress: [TrainingProgress] = []
        while trainer.step < options.steps { progress.append(trainer.trainStep(streams: [stream])) }
        return (model.snapshot(), progress)
    }

    /// α = 0 trains exactly what plain cross-entropy trains (the teacher is never run); α > 0 does not.
    func testAlphaZeroIsPlainCrossEntropyBitForBit() {
        let (xs, _) = TrainingTests.reversalPairs(count: 24)
        var teacherConfig = TrainingTests.tiny
        teacherConfig.dModel = 48
        let teacher = T5Model(config: teacherConfig, seed: 9)
        func run(_ alpha: Float?) -> (weights: [Float], progress: [TrainingProgress]) {
            train(teacher: alpha.map { StreamTeacher(model: teacher, inputs: xs, alpha: $0, temperature: 2) }, dropout: 0.1)
        }
        let plain = run(nil), zero = run(0)
        XCTAssertEqual(plain.weights, zero.weights, "weights")
        XCTAssertEqual(plain.progress.map(\.lossPerStream), zero.progress.map(\.lossPerStream), "loss curve")
        XCTAssertNotEqual(plain.weights, run(0.5).weights, "a teacher with α > 0 changes training")
    }

    /// A teacher with the student's own weights, reading the student's inputs, has the student's
    /// distributions on every row of every micro-batch: at α = 1 the gradient is zero. Reading
    /// other inputs, it is not — so teacher rows are aligned with the student's.
    func testATeacherEqualToTheStudentGivesNoGradient() {
        let (xs, _) = TrainingTests.reversalPairs(count: 24)
        let twin = T5Model(config: TrainingTests.tiny, seed: 4)
        let same = train(teacher: StreamTeacher(model: twin, inputs: xs, alpha: 1, temperature: 2))
        XCTAssertEqual(same.progress[0].gradientNorm, 0, accuracy: 1e-6)
        XCTAssertEqual(Double(same.progress[0].lossPerStream[0]), 0, accuracy: 1e-5, "KL of a distribution with itself")
        let shifted = Array(xs.dropFirst()) + [xs[0]]
        let other = train(teacher: StreamTeacher(model: twin, inputs: shifted, alpha: 1, temperature: 2))
        XCTAssertGreaterThan(other.progress[0].gradientNorm, 1e-3)
    }
}
