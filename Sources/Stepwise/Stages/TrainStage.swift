import Foundation
import Trainer

/// What a train stage stores besides the checkpoint (`training.json` in its folder).
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
    // No wall time or throughput here: the artifact must depend only on its key (the store
    // records each stage's duration beside it).
}

/// train: one student for one cell. Evaluates on (up to `validationLimit` examples of) the
/// validation split every `eval_every` steps and keeps the best checkpoint; never looks at test.
/// Its artifact is a folder transformers' `from_pretrained` opens in place: `model.safetensors`,
/// `config.json`, `tokenizer.json`, plus `training.json` (and, for a pretrained student, the
/// checkpoint's tokenizer files, which `AutoTokenizer` opens).
///
/// A from-scratch student starts from random weights with the tokenizer stage's vocabulary; a
/// pretrained one from its checkpoint's weights and tokenizer (the folder is a setting, its
/// content in the key, re-checked here before reading), reading the paper's input format.
public enum TrainStage: StageDefinition {
    public static let kind: StageKind = "train"
    public static let version = 2   // 2: the artifact is a folder, method options by name
    static let summaryFile = "training.json"

    public struct Params: Codable, Sendable {
        public var cell: Cell
        public var methodVersion: Int
        public var size: StudentSize
        public var dropout: Double
        /// The training recipe (the spec's `train:` without its seeds: the seed is the cell's).
        public var recipe: TrainSpec
        public var metric: String
        public var validationLimit: Int
        /// A trainer change that alters what it learns re-trains every student.
        public var trainer: Int
        /// Set for a student that starts from a pretrained checkpoint (nil: from scratch, and
        /// absent from the key, so from-scratch keys are what they were before pretrained students).
        public var pretrained: Pretrained?
    }

    /// A pretrained student's part of the key.
    public struct Pretrained: Codable, Hashable, Sendable {
        /// The checkpoint's commit and files' content (never its path).
        public var checkpoint: CheckpointIdentity
        /// How the student reads its inputs (`StudentKind.pretrained`'s format).
        public var inputFormat: StudentInputFormat
    }

    public struct Settings: Codable, Sendable {
        /// A pretrained student's checkpoint folder (absolute; its content is in the params).
        public var checkpointFolder: String?
        /// Whether to recompute activations in the backward pass (nil: `auto`). Memory and time
        /// only: the weights are the same bit for bit, so it is not in the key.
        public var recomputeActivations: RecomputeActivations?
        public init(checkpointFolder: String? = nil, recomputeActivations: RecomputeActivations? = nil) {
            self.checkpointFolder = checkpointFolder
            self.recomputeActivations = recomputeActivations
        }
    }

    public static func keyParams(_ p: Params) -> JSONValue {
        var fields: [String: JSONValue] = [
            "cell": p.cell.json, "method_version": .number(Double(p.methodVersion)), "size": SharedKeyJSON.of(p.size),
            "dropout": .number(p.dropout), "recipe": SharedKeyJSON.of(p.recipe), "metric": .string(p.metric),
            "validation_limit": .number(Double(p.validationLimit)), "trainer": .number(Double(p.trainer))]
        if let pretrained = p.pretrained { fields["pretrained"] = SharedKeyJSON.of(pretrained) }
        return .object(fields)
    }

    /// Multiply-adds of the weights × examples per step × steps × streams.
    public static func estimatedCost(_ p: Params) -> Double { estimatedCost(p, teacher: nil) }

    /// The same, plus an embedded teacher's forward pass (`teacher`: its size) on every example
    /// of every step: a forward without a backward is about a third of a training step's
    /// multiply-adds. The planner knows the teacher's size; the params name it only.
    public static func estimatedCost(_ p: Params, teacher: StudentSize?) -> Double {
        let streams = Double(MethodRegistry.named(p.cell.method)?.streamCount(p.cell.variant) ?? 1)
        let examples = Double(p.recipe.steps * p.recipe.batchSize) * streams
        return examples * (weightMultiplyAdds(p.size) + (teacher.map(weightMultiplyAdds) ?? 0) / 3)
    }

    /// Multiply-adds of a size's weight matrices per token (the embeddings and head aside).
    static func weightMultiplyAdds(_ s: StudentSize) -> Double {
        let inner = Double(s.heads * s.dKv), d = Double(s.dModel), ff = Double(s.dFF)
        return Double(s.layers) * (4 * d * inner + 3 * d * ff) + Double(s.decoderLayers) * (8 * d * inner + 3 * d * ff)
    }

    public static func run(_ p: Params, settings: Settings, inputs: StageInputs, output: StageOutput) throws {
        let cell = p.cell
        let method = try MethodRegistry.method(cell.method)
        // Training sees train and valid only: the test split is dropped before anything else, so
        // nothing in this stage can score test or select a checkpoint on it (the paper's code
        // evaluated on test every 250 steps; we do not). `evaluate` scores test once.
        var splits = try inputs.decode("dataset", as: DatasetSplits.self)
        splits.test = []
        let subset = Set(try inputs.decode("subsample", as: SubsampleStage.Artifact.self).ids)
        let format = p.pretrained?.inputFormat ?? .stepwise
        let (model, tokenizer) = try student(p, settings: settings, inputs: inputs)
        var annotations = inputs.has("annotate_train") ? try inputs.decode("annotate_train", as: AnnotationArtifact.self).byID() : [:]
        var examples = splits.train.filter { subset.contains($0.id) }
        // Teacher-written examples join the real ones, each with the generation's own rationale and label.
        let perExample = GeneratedData.perExample(cell.variant)
        if perExample > 0 {
            let generated = GeneratedData.training(try inputs.decode("generate", as: GenerationArtifact.self), count: perExample * examples.count)
            examples += generated.examples
            annotations.merge(generated.annotations) { real, _ in real }
        }
        let textStreams = try method.streams(cell.variant, examples: examples, annotations: annotations, format: format)
        guard textStreams.allSatisfy({ !$0.inputs.isEmpty }), !textStreams.isEmpty else {
            throw StepwiseError("train[\(cell.label)]: no training pairs (the teacher produced no parsable output for this subset?)")
        }
        let teacher = inputs.has(teacherRole) ? try embeddedTeacher(p, student: model, inputs: inputs) : nil
        let streams = try textStreams.map { (s: TextStream) throws -> TrainingStream in
            var targets = s.targets.map { tokenizer.text.encode($0, appendEOS: true) }
            var streamTeacher: StreamTeacher?
            if let d = s.distillation {
                guard let teacher else { throw StepwiseError("train[\(cell.label)]: its stream `\(s.name)` distils from an embedded teacher, but the stage has no `\(teacherRole)` input") }
                let teacherInputs = d.teacherInputs.map { tokenizer.text.encode($0, appendEOS: format.inputEndsWithEOS) }
                if d.teacherSequences {
                    inputs.status("the teacher writes the \(teacherInputs.count) training targets")
                    targets = teacher.greedyDecode(inputs: teacherInputs, maxNewTokens: p.recipe.maxTargetLength, batchSize: 64)
                        .map { $0 + [tokenizer.text.eosId] }
                }
                let hidden = d.hiddenDistance.flatMap(HiddenDistance.init(rawValue:)).map {
                    StreamTeacher.HiddenTerm(distance: $0, weight: Float(d.hiddenWeight),
                                             layers: StreamTeacher.HiddenLayers(rawValue: d.hiddenLayers) ?? .final)
                }
                streamTeacher = StreamTeacher(model: teacher, inputs: teacherInputs, ceWeight: Float(d.ceWeight), klWeight: Float(d.klWeight),
                                              temperature: Float(d.temperature), hidden: hidden)
            }
            return TrainingStream(name: s.name, inputs: s.inputs.map { tokenizer.text.encode($0, appendEOS: format.inputEndsWithEOS) },
                                  targets: targets, weight: Float(s.weight), exampleWeights: s.exampleWeights?.map(Float.init),
                                  teacher: streamTeacher)
        }

        let r = p.recipe
        var options = TrainOptions()
        options.steps = r.steps
        options.batchSize = r.batchSize
        options.learningRate = Float(r.learningRate)
        options.warmupSteps = r.warmupSteps
        options.schedule = LearningRateSchedule(rawValue: r.schedule) ?? .linear
        options.weightDecay = Float(r.weightDecay)
        options.clipNorm = r.clipNorm > 0 ? Float(r.clipNorm) : nil
        options.seed = UInt64(cell.seed)
        options.threads = inputs.threads
        options.maxInputLength = r.maxInputLength
        options.maxTargetLength = r.maxTargetLength
        options.evaluateEvery = r.evalEvery
        options.microBatches = r.microBatches
        let recompute = (settings.recomputeActivations ?? .auto).decide(
            config: model.config, options: options,
            encoderLength: streams.map { $0.inputs.map(\.count).max() ?? 1 }.max() ?? 1,
            decoderLength: streams.map { $0.targets.map(\.count).max() ?? 1 }.max() ?? 1)
        options.recomputeActivations = recompute.recompute
        inputs.status(recompute.reason)
        let trainer = Trainer(model: model, options: options)

        let metric = Metric(rawValue: p.metric) ?? .exactMatch
        let valid = Array(splits.valid.prefix(p.validationLimit))
        // Methods that read the teacher's output at test time read it on validation too.
        let validAnnotations = try StudentPredictor.annotations(.valid, inputs)
        // The best validation step's weights go straight to the output folder (written again at
        // each improvement) rather than into a second copy of the weights in memory: a T5-base
        // copy is a gigabyte. Streamed from the parameters, so writing adds no copy either.
        var best: (step: Int, score: Double)?
        var saveError: Error?
        func saveCheckpoint() {
            do { try tokenizer.save(model, to: output.folder) } catch { saveError = saveError ?? error }
        }
        var lossCurve: [[Double]] = [], validationCurve: [[Double]] = []
        let start = Date()
        var tokensPerSecond = 0.0
        trainer.train(streams: streams, progress: { pr in
            tokensPerSecond = tokensPerSecond == 0 ? pr.tokensPerSecond : 0.9 * tokensPerSecond + 0.1 * pr.tokensPerSecond
            if pr.step % 10 == 0 || pr.step == options.steps {
                lossCurve.append([Double(pr.step)] + pr.lossPerStream.map(Double.init))
                let elapsed = Date().timeIntervalSince(start)
                let eta = elapsed / Double(pr.step) * Double(options.steps - pr.step)
                let losses = zip(streams, pr.lossPerStream).map { "\($0.name) \(String(format: "%.3f", $1))" }.joined(separator: " ")
                inputs.status("step \(pr.step)/\(options.steps) loss \(losses) \(Int(tokensPerSecond)) tok/s ETA \(Int(eta))s")
            }
        }, evaluate: { step in
            guard !valid.isEmpty else { return }
            let predictions = StudentPredictor(model: model, tokenizer: tokenizer.text, format: format, method: method,
                                               variant: cell.variant, maxNewTokens: options.maxTargetLength,
                                               annotations: validAnnotations).predict(valid)
            let score = metric.score(predictions: predictions, golds: valid.map(\.label))
            validationCurve.append([Double(step), score])
            if best == nil || score > best!.score {
                best = (step, score)
                saveCheckpoint()
            }
        })
        if best == nil { saveCheckpoint() }   // no validation split: the last step's weights
        if let error = saveError {
            throw StepwiseError("train[\(cell.label)]: cannot write its checkpoint into \(output.folder.path): \(ArtifactFiles.describe(error))")
        }
        let summary = TrainingSummary(steps: options.steps, parameters: model.parameterCount, lossCurve: lossCurve,
                                      streamNames: streams.map(\.name), validationCurve: validationCurve,
                                      bestStep: best?.step ?? options.steps, bestValidation: best?.score ?? .nan,
                                      trainExamples: examples.count)
        try ArtifactCodec.encode(summary).write(to: output.folder.appendingPathComponent(summaryFile))
    }

    /// The role of an embedded teacher's train stage (`DistillationMethod.teacherStudent`).
    static let teacherRole = "teacher"

    /// The embedded teacher: its trained folder, read in place. Its tokenizer is the student's
    /// (the spec checks it; a different vocabulary here is an error, never silently misaligned).
    static func embeddedTeacher(_ p: Params, student: T5Model, inputs: StageInputs) throws -> T5Model {
        let folder = try inputs.folder(teacherRole)
        let (teacher, _) = try StudentTokenizer.load(folder)
        guard teacher.config.vocabSize == student.config.vocabSize else {
            throw StepwiseError("train[\(p.cell.label)]: the teacher in \(folder.path) has a vocabulary of \(teacher.config.vocabSize) "
                                + "ids, the student \(student.config.vocabSize): they must share the tokenizer")
        }
        return teacher
    }

    /// The model to train and its tokenizer: a pretrained checkpoint's (checked against the key
    /// before its weights are read), or random weights sized for the tokenizer stage's vocabulary.
    static func student(_ p: Params, settings: Settings, inputs: StageInputs) throws -> (T5Model, StudentTokenizer) {
        guard let pretrained = p.pretrained else {
            let tokenizer = try TokenizerStage.load(try inputs.data("tokenizer"))
            let size = p.size
            let config = T5Config(dModel: size.dModel, dKv: size.dKv, dFF: size.dFF, numLayers: size.layers,
                                  numDecoderLayers: size.decoderLayers, numHeads: size.heads,
                                  vocabSize: tokenizer.vocabularySize, dropoutRate: Float(p.dropout))
            return (T5Model(config: config, seed: UInt64(p.cell.seed)), .bpe(tokenizer))
        }
        guard let folder = settings.checkpointFolder else {
            throw StepwiseError("train[\(p.cell.label)]: a pretrained student's job has no checkpoint folder")
        }
        let checkpoint = try T5Checkpoint.open(folder: URL(fileURLWithPath: folder))
        try pretrained.checkpoint.verify(files: PretrainedFolder.files(of: checkpoint), stage: "train[\(p.cell.label)]")
        let tokenizer = try PretrainedFolder.tokenizer(in: checkpoint.folder)
        return (T5Model(checkpoint: checkpoint, dropoutRate: Float(p.dropout)), .sentencePiece(tokenizer))
    }
}

/// A student's tokenizer: the tokenizer stage's BPE vocabulary (from-scratch students) or the
/// checkpoint's SentencePiece model (pretrained ones). Saved into the trained folder so that
/// evaluation, and transformers' `AutoTokenizer`, read the one it trained with.
enum StudentTokenizer {
    case bpe(Tokenizer)
    case sentencePiece(SentencePieceTokenizer)

    var text: any TextTokenizer {
        switch self {
        case .bpe(let t): return t
        case .sentencePiece(let t): return t
        }
    }

    func save(_ model: T5Model, to folder: URL) throws {
        switch self {
        case .bpe(let t): try model.save(to: folder, tokenizer: t)
        case .sentencePiece(let t):
            try model.save(to: folder)
            try t.save(to: folder)
        }
    }

    /// A trained student's folder: the model and the tokenizer saved beside it (our BPE
    /// `tokenizer.json`, else the checkpoint's SentencePiece files as `AutoTokenizer` reads them).
    static func load(_ folder: URL) throws -> (T5Model, StudentTokenizer) {
        let (model, bpe) = try T5Model.load(from: folder)
        if let bpe { return (model, .bpe(bpe)) }
        return (model, .sentencePiece(try PretrainedFolder.tokenizer(in: folder)))
    }
}

/// A student's answers for examples: the method's test input, batched greedy decoding, and the
/// label read back from the output. Validation (during training) and test scoring share it.
struct StudentPredictor {
    let model: T5Model
    let tokenizer: any TextTokenizer
    let format: StudentInputFormat
    let method: any DistillationMethod.Type
    let variant: MethodVariant
    let maxNewTokens: Int
    /// The teacher's annotations of the split, for methods that read them at test time.
    var annotations: [String: Annotation] = [:]
    let batch = 64

    /// The `annotate_<split>` input's annotations by id, or none when the stage has no such input.
    static func annotations(_ split: Split, _ inputs: StageInputs) throws -> [String: Annotation] {
        let role = "annotate_\(split.rawValue)"
        return inputs.has(role) ? try inputs.decode(role, as: AnnotationArtifact.self).byID() : [:]
    }

    func predict(_ examples: [Example], progress: (Int, Int) -> Void = { _, _ in }) -> [String] {
        let inputs = examples.map {
            tokenizer.encode(method.testInput(variant, $0, format: format, annotation: annotations[$0.id]), appendEOS: format.inputEndsWithEOS)
        }
        var predictions: [String] = []
        predictions.reserveCapacity(inputs.count)
        for start in stride(from: 0, to: inputs.count, by: batch) {
            let chunk = Array(inputs[start..<min(start + batch, inputs.count)])
            let out = model.greedyDecode(inputs: chunk, maxNewTokens: maxNewTokens, batchSize: batch)
            predictions += out.map { method.prediction(variant, output: tokenizer.decode($0)) }
            progress(predictions.count, inputs.count)
        }
        return predictions
    }
}

extension StageKind { public static let train = TrainStage.kind }
