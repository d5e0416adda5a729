import XCTest
@testable import Trainer

/// The distillation terms inside the model: CE, the soft-target KL and the hidden-state term at
/// the decoder's output (through a learned projection to a wider teacher), each weighted by
/// name, against finite differences over every student tensor and the projection — the hidden
/// term's gradient enters the student where the head's does, at the decoder's output. And in
/// the trainer: a weight-0 `kl` is plain CE bit for bit; a teacher equal to the student costs
/// nothing on the cosine term.
final class KnowledgeDistillationModelTests: XCTestCase {
    let inputs: [[Int32]] = [[5, 6, 7, 8, 9, 10, 11, 12, 1], [13, 14, 1], [4, 9, 22, 3, 1]]
    let targets: [[Int32]] = [[7, 8, 1], [20, 21, 19, 18, 1], [2, 1]]

    func config(width: Int) -> T5Config {
        var c = T5Config(dModel: width, dKv: 4, dFF: 24, numLayers: 2, numDecoderLayers: 2, numHeads: 3, vocabSize: 23,
                         relativeAttentionNumBuckets: 8, relativeAttentionMaxDistance: 10, dropoutRate: 0)
        c.layerNormEpsilon = 1e-6
        return c
    }

    func testEveryTermWeightedByNameAgainstFiniteDifferences() {
        setThreads(1)
        for (distance, layers) in [(HiddenDistance.cosine, StreamTeacher.HiddenLayers.final), (.mse, .final), (.cosine, .uniform)] {
            let student = T5Model(config: config(width: 16), seed: 11)
            var teacherConfig = config(width: 20)
            teacherConfig.numDecoderLayers = 3
            let teacher = StreamTeacher(model: T5Model(config: teacherConfig, seed: 12), inputs: inputs,
                                        ceWeight: 0.3, klWeight: 0.5, temperature: 2,
                                        hidden: .init(distance: distance, weight: 0.7, layers: layers))
            let batch = Batch(inputs: inputs, targets: targets)
            let slot = TeacherSlot()
            let ws = student.workspace(for: batch)
            slot.prepare(teacher, batch: batch, blockRows: ws.head.blockRows)
            let pairs = layers.pairs(studentLayers: 2, teacherLayers: 3)
            let projections = pairs.indices.map { HiddenProjection(studentWidth: 16, teacherWidth: 20, seed: UInt64(3 + $0), weightDecay: 0) }
            for p in projections { p.zeroGradients(slots: 1) }
            let rows = slot.forward(teacher, batch: batch, student: student.config, projections: projections,
                                    projectionGradients: projections.map { $0.gradient(slot: 0) })
            XCTAssertEqual(rows.hiddenPoints.map(\.studentLayer), pairs.map(\.student))
            student.zeroGradients()
            _ = student.accumulateGradients(batch, weight: 0.9, training: false, teacher: rows)
            let analytic = student.store.infos.map { student.gradient(named: $0.name)! }
            let projectionGradients = projections.map { $0.store.grads.array }
            func loss() -> Double {
                student.accumulateGradients(batch, weight: 0.9, training: false, teacher: rows).loss * 0.9
            }
            // ε = 2e-2: at 5e-2 the cosine's curvature leaves ~1e-3 of truncation error in the
            // first encoder layer's q (it grows 6× at 0.1); a wrong gradient is off by O(1).
            var worst = 0.0
            for (info, g) in zip(student.store.infos, analytic) {
                let err = directionalGradientError(param: student.store.values.p + info.offset, count: info.count,
                                                   analytic: g, eps: 2e-2, loss: loss)
                if err >= 1e-3 { print("\(distance) \(info.name): relative error \(err)") }
                worst = max(worst, err)
            }
            XCTAssertLessThan(worst, 1e-3, "\(distance) \(layers): every student tensor")
            for (projection, g) in zip(projections, projectionGradients) {
                XCTAssertLessThan(directionalGradientError(param: projection.store.values.p, count: projection.store.count,
                                                           analytic: g, eps: 5e-2, loss: loss), 1e-3, "\(distance) \(layers): projection")
            }
        }
    }

    func train(_ teacher: StreamTeacher?) -> (weights: [Float], losses: [[Float]], norms: [Float]) {
        let (xs, ys) = TrainingTests.reversalPairs(count: 24)
        var config = TrainingTests.tiny
        config.dropoutRate = 0.1
        let model = T5Model(config: config, seed: 4)
        var options = TrainOptions()
        options.steps = 4; options.batchSize = 8; options.threads = 2; options.seed = 2
        let trainer = Trainer(model: model, options: options)
        let stream = TrainingStream(name: "s", inputs: xs, targets: ys, teacher: teacher)
        var losses: [[Float]] = [], norms: [Float] = []
        while trainer.step < options.steps {
            let p = trainer.trainStep(streams: [stream])
            losses.append(p.lossPerStream); norms.append(p.gradientNorm)
        }
        return (model.snapshot(), losses, norms)
    }

    /// `losses: {ce: 1, kl: 0}` is plain cross-entropy bit for bit; a cosine term through a
    /// projection changes training, the same way with 1 or 2 threads' worth of slots.
    func testUniformLayerMap() {
        XCTAssertEqual(StreamTeacher.HiddenLayers.uniform.pairs(studentLayers: 2, teacherLayers: 6).map { [$0.student, $0.teacher] }, [[0, 2], [1, 5]])
        XCTAssertEqual(StreamTeacher.HiddenLayers.uniform.pairs(studentLayers: 3, teacherLayers: 3).map { [$0.student, $0.teacher] }, [[0, 0], [1, 1], [2, 2]])
        XCTAssertEqual(StreamTeacher.HiddenLayers.uniform.pairs(studentLayers: 4, teacherLayers: 2).map(\.teacher), [0, 0, 1, 1])
        XCTAssertEqual(StreamTeacher.HiddenLayers.final.pairs(studentLayers: 4, teacherLayers: 2).map { [$0.student, $0.teacher] }, [[3, 1]])
    }

    func testWeightZeroKLIsPlainCrossEntropyAndTheHiddenTermTrains() {
        let (xs, _) = TrainingTests.reversalPairs(count: 24)
        var wide = TrainingTests.tiny
        wide.dModel = 40
        let teacher = T5Model(config: wide, seed: 9)
        let plain = train(nil)
        let zero = train(StreamTeacher(model: teacher, inputs: xs, ceWeight: 1, klWeight: 0, temperature: 2))
        XCTAssertEqual(plain.weights, zero.weights)
        XCTAssertEqual(plain.losses, zero.losses)
        let cosine = train(StreamTeacher(model: teacher, inputs: xs, ceWeight: 1, klWeight: 0.5, temperature: 2,
                                         hidden: .init(distance: .cosine, weight: 0.1)))
        XCTAssertNotEqual(plain.weights, cosine.weights)
        XCTAssertEqual(cosine.weights, train(StreamTeacher(model: teacher, inputs: xs, ceWeight: 1, klWeight: 0.5, temperature: 2,
                                                           hidden: .init(distance: .cosine, weight: 0.1))).weights, "deterministic")
    }

    /// A teacher with the student's weights and width: the hidden states agree, cosine 1, no gradient.
    func testATwinTeacherCostsNothingOnTheCosineTerm() {
        let (xs, ys) = TrainingTests.reversalPairs(count: 24)
        let student = T5Model(config: TrainingTests.tiny, seed: 4), twin = T5Model(config: TrainingTests.tiny, seed: 4)
        var options = TrainOptions()
        options.steps = 1; options.batchSize = 8; options.threads = 2
        let p = Trainer(model: student, options: options).trainStep(streams: [
            TrainingStream(name: "s", inputs: xs, targets: ys,
                           teacher: StreamTeacher(model: twin, inputs: xs, ceWeight: 0, klWeight: 0, temperature: 1,
                                                  hidden: .init(distance: .cosine, weight: 1)))])
        XCTAssertEqual(p.gradientNorm, 0, accuracy: 1e-5)
        XCTAssertEqual(Double(p.lossPerStream[0]), 0, accuracy: 1e-5)
    }
}
