import Foundation

/// generate: new training examples written by the teacher for one data fraction, seed and
/// number per real example (GPTMix, self-instruct). Each request shows `shots` examples of the
/// cell's own training subsample — never validation or test — and asks for `per_request` new
/// ones with labels and rationales; every candidate is parsed, checked against every split's
/// inputs and the examples kept before it (exact and normalized text), and its label against
/// the task's answer parser (`GenerationFilter`). OpenAI-compatible requests are cached one by
/// one, as annotations are: an interrupted generation resumes without paying twice.
public enum GenerateStage: StageDefinition {
    public static let kind: StageKind = "generate"
    public static let version = 1

    public struct Params: Codable, Sendable {
        /// The teacher's fields that change what it says (as annotate's).
        public var teacher: TeacherSpec
        /// Shots, examples per request and sampling; the prompt by content below, not path.
        public var generate: GenerateSpec
        /// sha256 of the generation prompt file (OpenAI-compatible teacher).
        public var prompt: String?
        /// The synthetic teacher's version, or the output parser's.
        public var implementation: Int
        public var dataset: DatasetKind
        public var metric: String
        public var dataFraction: Double
        public var seed: Int
        public var perExample: Int
        /// The synthetic task's difficulty mix when the spec sets one (the synthetic teacher's new
        /// problems follow it); nil for the default mix and other datasets, which keeps their keys.
        public var mix: SyntheticArith.Mix?
    }

    public typealias Settings = AnnotateStage.Settings

    /// A request is a teacher call, not student arithmetic: cheap next to training.
    public static func estimatedCost(_ p: Params) -> Double { 0 }

    public static func run(_ p: Params, settings: Settings, inputs: StageInputs, output: StageOutput) throws {
        let splits = try inputs.decode("dataset", as: DatasetSplits.self)
        let byID = Dictionary(splits.train.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let subset = try inputs.decode("subsample", as: SubsampleStage.Artifact.self).ids.compactMap { byID[$0] }
        let t = p.teacher
        let g = p.generate
        let run = GenerationRun(examples: subset, shots: g.shots, perRequest: g.perRequest, dataFraction: p.dataFraction,
                                seed: p.seed, perExample: p.perExample)
        let what = "generate[f=\(JSONValue.format(p.dataFraction)) seed=\(p.seed) ×\(p.perExample)]"
        let mode = ParseMode(rawValue: t.parse ?? "paper") ?? .paper
        let metric = Metric(rawValue: p.metric) ?? .exactMatch
        let artifact: GenerationArtifact
        switch t.kind {
        case .synthetic:
            // It answers the synthetic task SVAMP-style, or CQA-style when the inputs list choices.
            let task: PaperTask = subset.contains { LabelSet.lettered($0.input) != nil } ? .cqa : .svamp
            let teacher = SyntheticTeacher(errorRate: t.errorRate ?? 0.15, seed: UInt64(t.seed ?? 0))
            artifact = try run.run(filter: GenerationFilter(splits: splits, task: task, mode: mode, metric: metric), what: what) { indices in
                indices.map { CachedTeacherResponse(text: teacher.generate(shown: run.shown($0), count: g.perRequest, mix: p.mix ?? .standard)) }
            }
        case .openai:
            let promptFile = URL(fileURLWithPath: settings.promptFile ?? "")
            try FileContent.verify([promptFile], hash: p.prompt, stage: "generate")
            let prompt = try GenerationPrompt(contentsOfFile: promptFile.path)
            let task = try AnnotateStage.parseTask(p.dataset, override: t.parseAs)
            let teacher = try AnnotateStage.openAITeacher(t, settings: settings, inputs: inputs, prompt: PromptTemplate(text: "{input}"),
                                                          task: task, what: "generate", generating: g)
            artifact = try run.run(filter: GenerationFilter(splits: splits, task: task, mode: mode, metric: metric), what: what) { indices in
                let prompts = indices.map { prompt.render(run.shown($0), count: g.perRequest, task: task) }
                return try AnnotateStage.blocking { try await teacher.complete(prompts) }
            }
        case .replay:
            throw StepwiseError("\(what): the replay teacher only has the paper's released outputs for the dataset's own inputs; "
                                + "it cannot write new examples (use a synthetic or openai teacher)")
        }
        try output.write(artifact)
    }
}

extension StageKind { public static let generate = GenerateStage.kind }
