import Foundation
import Trainer

/// tokenizer: the students' vocabulary, trained on the training split's texts only (inputs,
/// gold labels, and the teacher's rationales and labels when a method learns from them).
enum TokenizerStage {
    static func run(_ ctx: StageContext) throws -> Data {
        let splits = try ctx.input("dataset", as: DatasetSplits.self)
        var texts = splits.train.flatMap { [$0.input, $0.label] }
        if ctx.inputs["annotate_train"] != nil {
            let annotated = try ctx.input("annotate_train", as: AnnotationArtifact.self)
            texts += annotated.annotations.flatMap { [$0.rationale, $0.label, StudentTasks.answerMarker] }
        }
        let spec = ctx.experiment.student.tokenizer
        let tokenizer = Tokenizer.train(texts: texts, vocabSize: spec.vocab,
                                        specialTokens: [StudentTasks.labelPrefix, StudentTasks.rationalePrefix],
                                        kind: spec.kind == "word" ? .word : .bpe)
        let tmp = try TemporaryFolder()
        let file = tmp.url.appendingPathComponent("tokenizer.json")
        try tokenizer.save(to: file)
        return try Data(contentsOf: file)
    }

    static func load(_ data: Data) throws -> Tokenizer {
        let tmp = try TemporaryFolder()
        let file = tmp.url.appendingPathComponent("tokenizer.json")
        try data.write(to: file)
        return try Tokenizer.load(from: file)
    }
}

/// What a train stage stores besides the checkpoint.
public struct TrainingSummary: Codable, Sendable {
    public var steps: Int
    public var parameters: Int
    /// (step, loss per stream) every few steps.
    public var lossCurve: [[Double]]
    public var streamNames: [String]
    /// (step, validation metric) at each evaluation.
    public var validationCurve: [[Double]]
    public var bestStep: Int
    public var bestValidation: Double
    public var trainExamples: Int
    public var seconds: Double
    public var tokensPerSecond: Double
}

/// train: one student for one cell. Evaluates on (up to `validationLimit` examples of) the
/// validation split every `eval_every` steps and keeps the best checkpoint; never looks at test.
enum TrainStage {
    static let validationLimit = 256
    static let summaryFile = "training.json"

    static func run(_ ctx: StageContext) throws -> Data {
        let e = ctx.experiment
        guard let cell = ctx.cell, let size = e.student.size(named: cell.size) else {
            throw StepwiseError("\(ctx.stage.label): malformed params")
        }
        // Training sees train and valid only: the test split is dropped before anything else, so
        // nothing in this stage can score test or select a checkpoint on it (the paper's code
        // evaluated on test every 250 steps; we do not). `evaluate` scores test once.
        var splits = try ctx.input("dataset", as: DatasetSplits.self)
        splits.test = []
        let subset = Set(try ctx.input("subsample", as: SubsampleStage.Artifact.self).ids)
        let tokenizer = try TokenizerStage.load(try ctx.data("tokenizer"))
        let annotations = ctx.inputs["annotate_train"] != nil ? try ctx.input("annotate_train", as: AnnotationArtifact.self).byID() : [:]
        let examples = splits.train.filter { subset.contains($0.id) }
        let textStreams = try StudentTasks.streams(for: cell, examples: examples, annotations: annotations)
        guard textStreams.allSatisfy({ !$0.inputs.isEmpty }), !textStreams.isEmpty else {
            throw StepwiseError("\(ctx.stage.label): no training pairs (the teacher produced no parsable output for this subset?)")
        }
        let streams = textStreams.map { s in
            TrainingStream(name: s.name, inputs: s.inputs.map { tokenizer.encode($0) },
                           targets: s.targets.map { tokenizer.encode($0, appendEOS: true) }, weight: Float(s.weight))
        }

        let config = T5Config(dModel: size.dModel, dKv: size.dKv, dFF: size.dFF, numLayers: size.layers,
                              numDecoderLayers: size.decoderLayers, numHeads: size.heads,
                              vocabSize: tokenizer.vocabularySize, dropoutRate: Float(e.student.dropout))
        let model = T5Model(config: config, seed: UInt64(cell.seed))
        var options = TrainOptions()
        options.steps = e.train.steps
        options.batchSize = e.train.batchSize
        options.learningRate = Float(e.train.learningRate)
        options.warmupSteps = e.train.warmupSteps
        options.schedule = LearningRateSchedule(rawValue: e.train.schedule) ?? .linear
        options.weightDecay = Float(e.train.weightDecay)
        options.clipNorm = e.train.clipNorm > 0 ? Float(e.train.clipNorm) : nil
        options.seed = UInt64(cell.seed)
        options.threads = ctx.threads
        options.maxInputLength = e.train.maxInputLength
        options.maxTargetLength = e.train.maxTargetLength
        options.evaluateEvery = e.train.evalEvery
        let trainer = Trainer(model: model, options: options)

        let metric = Metric(rawValue: e.dataset.metric) ?? .exactMatch
        let valid = Array(splits.valid.prefix(validationLimit))
        var best: (step: Int, score: Double, snapshot: [Float])?
        var lossCurve: [[Double]] = [], validationCurve: [[Double]] = []
        let start = Date()
        var tokensPerSecond = 0.0
        trainer.train(streams: streams, progress: { p in
            tokensPerSecond = tokensPerSecond == 0 ? p.tokensPerSecond : 0.9 * tokensPerSecond + 0.1 * p.tokensPerSecond
            if p.step % 10 == 0 || p.step == options.steps {
                lossCurve.append([Double(p.step)] + p.lossPerStream.map(Double.init))
                let elapsed = Date().timeIntervalSince(start)
                let eta = elapsed / Double(p.step) * Double(options.steps - p.step)
                let losses = zip(streams, p.lossPerStream).map { "\($0.name) \(String(format: "%.3f", $1))" }.joined(separator: " ")
                ctx.status("step \(p.step)/\(options.steps) loss \(losses) \(Int(tokensPerSecond)) tok/s ETA \(Int(eta))s")
            }
        }, evaluate: { step in
            guard !valid.isEmpty else { return }
            let predictions = StudentPredictor(model: model, tokenizer: tokenizer, method: cell.method,
                                               maxNewTokens: options.maxTargetLength).predict(valid)
            let score = metric.score(predictions: predictions, golds: valid.map(\.label))
            validationCurve.append([Double(step), score])
            if best == nil || score > best!.score { best = (step, score, model.snapshot()) }
        })
        if let best { model.restore(best.snapshot) }

        let tmp = try TemporaryFolder()
        try model.save(to: tmp.url, tokenizer: tokenizer)
        let summary = TrainingSummary(steps: options.steps, parameters: model.parameterCount, lossCurve: lossCurve,
                                      streamNames: streams.map(\.name), validationCurve: validationCurve,
                                      bestStep: best?.step ?? options.steps, bestValidation: best?.score ?? .nan,
                                      trainExamples: examples.count, seconds: Date().timeIntervalSince(start),
                                      tokensPerSecond: tokensPerSecond)
        try ArtifactCodec.encode(summary).write(to: tmp.url.appendingPathComponent(summaryFile))
        return try FileBundle.pack(folder: tmp.url)
    }
}

/// evaluate: the selected checkpoint's test predictions, scored once.
enum EvaluateStage {
    static func run(_ ctx: StageContext) throws -> Data {
        let e = ctx.experiment
        guard let cell = ctx.cell else {
            throw StepwiseError("\(ctx.stage.label): malformed params")
        }
        let splits = try ctx.input("dataset", as: DatasetSplits.self)
        let bundle = try ctx.data("train")
        let tmp = try TemporaryFolder()
        try FileBundle.unpack(bundle, into: tmp.url)
        let (model, tok) = try T5Model.load(from: tmp.url)
        guard let tokenizer = tok else { throw StepwiseError("the checkpoint has no tokenizer") }
        let summary = try ArtifactCodec.decode(TrainingSummary.self, from: Data(contentsOf: tmp.url.appendingPathComponent(TrainStage.summaryFile)),
                                               what: "training summary")
        setThreads(ctx.threads)
        let predictions = StudentPredictor(model: model, tokenizer: tokenizer, method: cell.method,
                                           maxNewTokens: e.train.maxTargetLength)
            .predict(splits.test) { done, total in ctx.status("decoding \(done)/\(total)") }
        let metric = Metric(rawValue: e.dataset.metric) ?? .exactMatch
        let value = metric.score(predictions: predictions, golds: splits.test.map(\.label))
        let row = EvaluationArtifact(method: cell.method, size: cell.size, dataFraction: cell.dataFraction, lambda: cell.lambda,
                                     labels: cell.labels, seed: cell.seed, split: "test", metric: e.dataset.metric, value: value,
                                     count: predictions.count, parameters: summary.parameters, bestStep: summary.bestStep,
                                     predictions: predictions)
        return try ArtifactCodec.encode(row)
    }
}

/// A student's answers for examples: the method's test input, batched greedy decoding, and the
/// label read back from the output. Validation (during training) and test scoring share it.
struct StudentPredictor {
    let model: T5Model
    let tokenizer: Tokenizer
    let method: MethodKind
    let maxNewTokens: Int
    let batch = 64

    func predict(_ examples: [Example], progress: (Int, Int) -> Void = { _, _ in }) -> [String] {
        let inputs = examples.map { tokenizer.encode(StudentTasks.testInput(for: method, $0)) }
        var predictions: [String] = []
        predictions.reserveCapacity(inputs.count)
        for start in stride(from: 0, to: inputs.count, by: batch) {
            let chunk = Array(inputs[start..<min(start + batch, inputs.count)])
            let out = model.greedyDecode(inputs: chunk, maxNewTokens: maxNewTokens, batchSize: batch)
            predictions += out.map { StudentTasks.prediction(for: method, output: tokenizer.decode($0)) }
            progress(predictions.count, inputs.count)
        }
        return predictions
    }
}
