import Foundation
import Trainer

/// Expands an experiment into its DAG (DESIGN.md "Stages"):
/// dataset → subsample(fraction, seed) ─┐
///        → annotate(split) → tokenizer ┴→ train(cell) → evaluate(cell) ─┐
///          annotate(test) → teacher_eval ─────────────────────────────┴→ report
/// A cell with `synthetic: {per_example: n}` also reads generate(fraction, seed, n), made from
/// the dataset and its subsample, shared by every method at that point.
/// Each node is a stage definition with typed params built here from the spec; the planner
/// never dispatches on a stage's kind, and the stages never see the spec. A pretrained size's
/// cells have no tokenizer input: their train stage reads the checkpoint (its folder a setting,
/// its identity in the key).
public enum Planner {
    /// Plans with the pretrained sizes' checkpoints found without the network (folders, and hub
    /// ids already in the local cache); `plan(_:checkpoints:)` takes ones resolved beforehand.
    public static func plan(_ e: Experiment) throws -> Plan {
        try plan(e, checkpoints: try StudentCheckpoints.resolveCached(e))
    }

    public static func plan(_ spec: Experiment, checkpoints: StudentCheckpoints) throws -> Plan {
        let e = try resolvingSizes(spec, checkpoints)
        var b = Builder()
        let dataset = b.add("dataset[\(e.dataset.kind.rawValue)]", try datasetWork(e), [])

        var annotate: [Split: Int] = [:]
        let splits = e.teacherSplits
        if !splits.isEmpty {
            let (params, settings) = try annotateParts(e)
            for split in Split.allCases where splits.contains(split) {
                var p = params
                p.split = split
                annotate[split] = b.add("annotate[\(e.teacher.kind.rawValue) \(split.rawValue)]",
                                        AnnotateStage.work(p, settings: settings), [("dataset", dataset)])
            }
        }

        let cells = e.cells
        var evaluations: [(role: String, index: Int)] = []
        var trained: [(role: String, index: Int)] = []   // the report draws their training curves
        if !cells.isEmpty {
            // Only from-scratch sizes train on the tokenizer stage's vocabulary.
            var tokenizer: Int?
            if cells.contains(where: { e.student.size(named: $0.size)?.initFrom == nil }) {
                var tokInputs = [("dataset", dataset)]
                if let a = annotate[.train] { tokInputs.append(("annotate_train", a)) }
                tokenizer = b.add("tokenizer[\(e.student.tokenizer.kind) \(e.student.tokenizer.vocab)]",
                                  TokenizerStage.work(.init(kind: e.student.tokenizer.kind, vocab: e.student.tokenizer.vocab,
                                                            specialTokens: [DistillStepByStep.labelPrefix, DistillStepByStep.rationalePrefix],
                                                            extraTexts: [SingleTask.answerMarker]), settings: NoSettings()),
                                  tokInputs)
            }
            var recipe = e.train
            recipe.seeds = []   // the seed is the cell's
            // The builder already makes one stage of equal keys; these only spare recomputing a
            // key per cell (a generate stage's work hashes the prompt file).
            var subsamples: [String: Int] = [:]
            var generations: [String: Int] = [:]
            /// A cell's train stage (and the input format of a pretrained student); an embedded
            /// teacher's train stage first, planned as that method's own cell would be, so the
            /// two are one stage (same key) when the teacher's method is swept at that size too.
            func addTrain(_ cell: Cell) throws -> (index: Int, inputFormat: StudentInputFormat?) {
                let method = try MethodRegistry.method(cell.method)
                guard let size = e.student.size(named: cell.size) else { throw StepwiseError("size `\(cell.size)` is not declared") }
                let subKey = "\(JSONValue.format(cell.dataFraction)) \(cell.seed)"
                let sub = subsamples[subKey] ?? b.add("subsample[f=\(JSONValue.format(cell.dataFraction)) seed=\(cell.seed)]",
                                                      SubsampleStage.work(.init(fraction: cell.dataFraction, seed: cell.seed), settings: NoSettings()),
                                                      [("dataset", dataset)])
                subsamples[subKey] = sub
                var inputs = [("dataset", dataset), ("subsample", sub)]
                // Teacher-written examples mixed into this cell's training (`synthetic: {per_example: n}`).
                let perExample = GeneratedData.perExample(cell.variant)
                if perExample > 0 {
                    let genKey = "\(subKey) \(perExample)"
                    let gen = try generations[genKey] ?? b.add(
                        "generate[\(e.teacher.kind.rawValue) f=\(JSONValue.format(cell.dataFraction)) seed=\(cell.seed) ×\(perExample)]",
                        generateWork(e, fraction: cell.dataFraction, seed: cell.seed, perExample: perExample),
                        [("dataset", dataset), ("subsample", sub)])
                    generations[genKey] = gen
                    inputs.append(("generate", gen))
                }
                var pretrained: TrainStage.Pretrained?
                var dropout = e.student.dropout
                var settings = TrainStage.Settings(recomputeActivations: e.recomputeActivations)
                if size.initFrom != nil {
                    guard let checkpoint = checkpoints.bySize[size.name] else {
                        throw StepwiseError("size `\(size.name)`: its checkpoint was not resolved")
                    }
                    pretrained = .init(checkpoint: checkpoint.identity,
                                       inputFormat: StudentKind.pretrained.inputFormat(dataset: e.dataset.kind))
                    // The checkpoint's own rate unless the spec sets one (written as the config's decimal).
                    if !e.student.dropoutWritten { dropout = Double("\(checkpoint.config.dropoutRate)") ?? dropout }
                    settings.checkpointFolder = checkpoint.folder.path
                } else if let tokenizer {
                    inputs.append(("tokenizer", tokenizer))
                }
                // The teacher's annotations of each split the method reads: train (and valid) here, test below.
                for split in [Split.train, .valid] where method.teacherSplits.contains(split) {
                    if let a = annotate[split] { inputs.append(("annotate_\(split.rawValue)", a)) }
                }
                let teacher = method.teacherStudent(cell.variant)
                if let teacher {
                    inputs.append((TrainStage.teacherRole, try addTrain(try teacher.cell(for: cell)).index))
                }
                let params = TrainStage.Params(cell: cell, methodVersion: method.version, size: size, dropout: dropout,
                                               recipe: recipe, metric: e.dataset.metric, validationLimit: 256,
                                               trainer: TrainerVersion.current, pretrained: pretrained)
                let cost = TrainStage.estimatedCost(params, teacher: teacher.flatMap { e.student.size(named: $0.size) })
                let train = b.add("train[\(cell.label)]", TrainStage.work(params, settings: settings, cost: cost), inputs, cell: cell)
                return (train, pretrained?.inputFormat)
            }
            for cell in cells {
                let method = try MethodRegistry.method(cell.method)
                let (train, inputFormat) = try addTrain(cell)
                let eval = b.add("evaluate[\(cell.label)]",
                                 EvaluateStage.work(.init(cell: cell, methodVersion: method.version, split: .test, metric: e.dataset.metric,
                                                          maxNewTokens: e.train.maxTargetLength, inputFormat: inputFormat),
                                                    settings: NoSettings()),
                                 [("dataset", dataset), ("train", train)]
                                    + (method.teacherSplits.contains(.test) ? annotate[.test].map { [("annotate_test", $0)] } ?? [] : []),
                                 cell: cell)
                evaluations.append((cell.label, eval))
                trained.append((ReportRenderer.trainRolePrefix + cell.label, train))
            }
        }
        // Rows scored on the teacher's own test answers (few-shot CoT).
        for m in e.sweptMethods where !m.trainsStudent {
            guard let a = annotate[.test] else { continue }
            let te = b.add("teacher_eval[\(m.name) \(e.teacher.kind.rawValue)]",
                           TeacherEvalStage.work(.init(method: m.name, metric: e.dataset.metric), settings: NoSettings()),
                           [("dataset", dataset), ("annotate_test", a)])
            evaluations.append((m.name, te))
        }
        // The teacher's per-split quality (parse failures, accuracy, tokens) is in the report too.
        let teacherInputs = annotate.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { (ReportRenderer.teacherRolePrefix + $0.key.rawValue, $0.value) }
        // The dataset gives the teacher samples their inputs and gold labels.
        let samplesInputs = annotate.isEmpty ? [] : [(ReportRenderer.datasetRole, dataset)]
        let generationInputs = b.stages.indices.filter { b.stages[$0].kind == .generate }
            .map { (ReportRenderer.generateRolePrefix + b.stages[$0].label, $0) }
        b.add("report[\(e.name)]", ReportStage.work(.init(context: ReportContext(e)), settings: NoSettings()),
              evaluations + teacherInputs + trained + samplesInputs + generationInputs)
        return Plan(experiment: e, stages: b.stages, checkpoints: checkpoints)
    }

    /// The experiment with each resolved pretrained size's shape taken from its checkpoint's
    /// config (the report shows it; the train key holds it beside the checkpoint's identity).
    static func resolvingSizes(_ spec: Experiment, _ checkpoints: StudentCheckpoints) throws -> Experiment {
        var e = spec
        e.student.sizes = e.student.sizes.map { size in
            guard size.initFrom != nil, let checkpoint = checkpoints.bySize[size.name] else { return size }
            return checkpoint.size(named: size.name)
        }
        return e
    }

    static func datasetWork(_ e: Experiment) throws -> StageWork {
        var spec = e.dataset
        spec.path = nil; spec.trainFile = nil; spec.validFile = nil; spec.testFile = nil
        let implementation: Int
        var directory: String?
        let files: [URL]
        switch e.dataset.kind {
        case .syntheticArith:
            implementation = SyntheticArith.version
            files = []
        case .svamp, .cqa, .esnli, .anli1:
            implementation = PaperDatasetLoader.version
            let dir = e.resolve(e.dataset.path ?? "")
            directory = dir.path
            files = Split.allCases.map { dir.appendingPathComponent("\(e.dataset.kind.rawValue)_\($0.rawValue).json") }
                .filter { FileManager.default.fileExists(atPath: $0.path) }
        case .jsonl:
            implementation = JSONLDatasetLoader.version
            files = [e.dataset.trainFile, e.dataset.validFile, e.dataset.testFile].compactMap { $0 }.map(e.resolve)
        }
        // File-backed data: the key follows the files' content, not their paths or dates.
        let content = files.isEmpty ? nil : try Hashing.fingerprint(files: files)
        return DatasetStage.work(.init(dataset: spec, implementation: implementation, content: content),
                                 settings: .init(directory: directory, files: files.map(\.path), root: e.root.path))
    }

    static func annotateParts(_ e: Experiment) throws -> (AnnotateStage.Params, AnnotateStage.Settings) {
        var teacher = e.teacher.keyFields
        teacher.prompt = nil; teacher.path = nil
        var settings = AnnotateStage.Settings(promptFile: e.teacher.prompt.map { e.resolve($0).path }, replayDirectory: nil,
                                              replayFiles: [], baseURL: e.teacher.baseURL, apiKeyEnv: e.teacher.apiKeyEnv,
                                              concurrency: e.teacher.concurrency, timeout: e.teacher.timeout,
                                              maxRetries: e.teacher.maxRetries)
        let prompt = try e.teacher.prompt.map { try Hashing.fingerprint(files: [e.resolve($0)]) }
        var content: String?
        if e.teacher.kind == .replay, let path = e.teacher.path {
            let dir = e.resolve(path)
            let chunks = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
                .filter { $0.contains("_CoT_") && $0.hasSuffix(".json") }.sorted().map { dir.appendingPathComponent($0) }
            settings.replayDirectory = dir.path
            settings.replayFiles = chunks.map(\.path)
            content = try Hashing.fingerprint(files: chunks)
        }
        let implementation = e.teacher.kind == .synthetic ? SyntheticTeacher.version : PaperOutputParser.version
        return (AnnotateStage.Params(teacher: teacher, prompt: prompt, content: content, implementation: implementation,
                                     dataset: e.dataset.kind, metric: e.dataset.metric, split: .train), settings)
    }

    /// A generate stage: the teacher's key fields as annotate has them, the generation settings
    /// with the prompt by content (its path a setting).
    static func generateWork(_ e: Experiment, fraction: Double, seed: Int, perExample: Int) throws -> StageWork {
        let (annotate, settings) = try annotateParts(e)
        var generate = e.teacher.generate ?? GenerateSpec()
        var s = settings
        s.promptFile = generate.prompt.map { e.resolve($0).path }
        let prompt = try generate.prompt.map { try Hashing.fingerprint(files: [e.resolve($0)]) }
        generate.prompt = nil
        return GenerateStage.work(.init(teacher: annotate.teacher, generate: generate, prompt: e.teacher.kind == .openai ? prompt : nil,
                                        implementation: annotate.implementation, dataset: e.dataset.kind, metric: e.dataset.metric,
                                        dataFraction: fraction, seed: seed, perExample: perExample,
                                        mix: syntheticMix(e)), settings: s)
    }

    /// The mix the synthetic teacher writes new problems with: the synthetic task's own, when
    /// the spec changes it from the default.
    static func syntheticMix(_ e: Experiment) -> SyntheticArith.Mix? {
        guard e.teacher.kind == .synthetic, e.dataset.kind == .syntheticArith else { return nil }
        let mix = e.dataset.syntheticMix
        return mix == .standard ? nil : mix
    }

    /// Adds stages, computing each key from its already-keyed inputs. A stage whose key is
    /// already planned is that stage (an embedded teacher's train stage and the same cell swept).
    struct Builder {
        var stages: [Stage] = []
        var byKey: [String: Int] = [:]

        @discardableResult
        mutating func add(_ label: String, _ work: StageWork, _ inputs: [(String, Int)], cell: Cell? = nil) -> Int {
            let stage = Stage(label: label, work: work, inputs: inputs.map { (role: $0.0, index: $0.1) },
                              inputKeys: inputs.map { stages[$0.1].key }, cell: cell)
            if let existing = byKey[stage.key] { return existing }
            stages.append(stage)
            byKey[stage.key] = stages.count - 1
            return stages.count - 1
        }
    }
}
