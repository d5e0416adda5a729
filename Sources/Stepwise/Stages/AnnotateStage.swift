import Foundation

/// What the annotate stage stores: the teacher's output for every example of one split,
/// with how often it could not be parsed and how often its label was right.
public struct AnnotationArtifact: Codable, Sendable {
    public var split: String
    public var annotations: [Annotation]
    public var parseFailures: Int
    /// The teacher's label accuracy against gold, with the dataset's metric.
    public var teacherAccuracy: Double
    public var requests: Int
    public var promptTokens: Int
    public var completionTokens: Int
    /// With log-probabilities on a label-set task: the mean teacher probability at the answer
    /// position that its top-k alternatives do not put on a label (`TeacherLabelDistribution`).
    /// nil otherwise, and then absent from the JSON.
    public var labelMassMissing: Double?

    public func byID() -> [String: Annotation] {
        Dictionary(annotations.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    }
}

/// annotate: the teacher's chain of thought and label for each example of a split.
public enum AnnotateStage: StageDefinition {
    public static let kind: StageKind = "annotate"
    public static let version = 1

    public struct Params: Codable, Sendable {
        /// The teacher's fields that change what it says (no server address, concurrency,
        /// timeouts or key variable; prompt and replay files by content below).
        public var teacher: TeacherSpec
        /// sha256 of the prompt file.
        public var prompt: String?
        /// sha256 of the replayed output files.
        public var content: String?
        /// The teacher's / output parser's own version.
        public var implementation: Int
        /// Which dataset (the paper's parsing rules depend on it).
        public var dataset: DatasetKind
        /// The metric the teacher's label accuracy is measured with.
        public var metric: String
        public var split: Split
    }

    /// With log-probabilities asked for, the annotations also keep the answer position's
    /// (`Annotation.answerLogprobs`, first kept by this revision): the key says so, so an
    /// annotation cached before it is not reused without them. Other keys are unchanged.
    public static func keyParams(_ p: Params) -> JSONValue {
        let plain = JSONValue(encoding: p)
        guard p.teacher.logprobs == true, case .object(var fields) = plain else { return plain }
        fields["answer_logprobs"] = .number(1)
        return .object(fields)
    }

    /// Where the teacher is and how to talk to it: none of it changes what it says.
    public struct Settings: Codable, Sendable {
        public var promptFile: String?
        public var replayDirectory: String?
        public var replayFiles: [String]
        public var baseURL: String?
        public var apiKeyEnv: String?
        public var concurrency: Int?
        public var timeout: Double?
        public var maxRetries: Int?
    }

    public static func run(_ p: Params, settings: Settings, inputs: StageInputs, output: StageOutput) throws {
        let splits = try inputs.decode("dataset", as: DatasetSplits.self)
        let examples = splits[p.split]
        let annotations: [Annotation]
        var usage = TeacherUsage()
        let t = p.teacher
        switch t.kind {
        case .synthetic:
            let teacher = SyntheticTeacher(errorRate: t.errorRate ?? 0.15, seed: UInt64(t.seed ?? 0),
                                           topLogprobs: t.logprobs == true ? (t.topLogprobs ?? 0) : nil)
            annotations = examples.map(teacher.annotate)
        case .replay:
            guard let task = PaperDataset(rawValue: p.dataset.rawValue)?.task else {
                throw StepwiseError("the replay teacher reads the paper's released outputs; dataset kind `\(p.dataset.rawValue)` has none")
            }
            try FileContent.verify(settings.replayFiles.map(URL.init(fileURLWithPath:)), hash: p.content, stage: "annotate")
            let teacher = ReplayTeacher(directory: settings.replayDirectory ?? "", task: task,
                                        mode: ParseMode(rawValue: t.parse ?? "paper") ?? .paper)
            annotations = try teacher.annotate(examples, in: splits)
        case .openai:
            let promptFile = URL(fileURLWithPath: settings.promptFile ?? "")
            try FileContent.verify([promptFile], hash: p.prompt, stage: "annotate")
            let prompt = try PromptTemplate(contentsOfFile: promptFile.path)
            let teacher = try openAITeacher(t, settings: settings, inputs: inputs, prompt: prompt,
                                            task: parseTask(p.dataset, override: t.parseAs), what: "annotate")
            annotations = try blocking { try await teacher.annotate(examples) }
            usage = teacher.usage
        }
        try output.write(summarize(split: p.split, examples: examples, annotations: annotations, metric: p.metric,
                                   requests: usage.httpRequests, promptTokens: usage.promptTokens,
                                   completionTokens: usage.completionTokens))
    }

    /// The OpenAI-compatible teacher of a stage that runs where the store is: each response is
    /// committed to the request cache before it counts as answered, also when the stage fails
    /// part-way. With `generating`, its sampling replaces the annotation's (`GenerateSpec`:
    /// its own stop sequences, no log-probabilities).
    static func openAITeacher(_ t: TeacherSpec, settings: Settings, inputs: StageInputs, prompt: PromptTemplate, task: PaperTask,
                              what: String, generating g: GenerateSpec? = nil) throws -> OpenAITeacher {
        var config = OpenAITeacherConfig(baseURL: settings.baseURL ?? "", model: t.model ?? "",
                                         api: OpenAITeacherConfig.API(rawValue: t.api ?? "chat") ?? .chat,
                                         apiKeyEnv: settings.apiKeyEnv, temperature: t.temperature ?? 0, maxTokens: t.maxTokens ?? 256,
                                         stop: t.stop, concurrency: settings.concurrency ?? 16, timeout: settings.timeout ?? 120,
                                         maxRetries: settings.maxRetries ?? 6, logprobs: t.logprobs ?? false,
                                         topLogprobs: t.topLogprobs)
        if let g {
            config.temperature = g.temperature ?? config.temperature
            config.maxTokens = g.maxTokens ?? GenerateSpec.defaultMaxTokens
            config.stop = g.stop
            config.logprobs = false
            config.topLogprobs = nil
        }
        guard let makeCache = inputs.teacherCache else {
            throw StepwiseError("\(what) with an OpenAI-compatible teacher runs where the store is (its request cache)")
        }
        let status = inputs.status
        return try OpenAITeacher(config: config, prompt: prompt, task: task,
                                 parseMode: ParseMode(rawValue: t.parse ?? "paper") ?? .paper,
                                 cache: try makeCache(config.model, config.api.rawValue),
                                 progress: { done, total in status("\(done)/\(total) requests") })
    }

    /// Which of the paper's output rules parse a teacher's completions for this dataset
    /// (the synthetic task is SVAMP-like: "The answer is ( … )").
    static func parseTask(_ kind: DatasetKind, override: String?) throws -> PaperTask {
        if let override, let task = PaperTask(rawValue: override) { return task }
        switch kind {
        case .syntheticArith, .svamp: return .svamp
        case .cqa: return .cqa
        case .esnli: return .esnli
        case .anli1: return .anli
        case .jsonl: throw StepwiseError("an LLM teacher on a jsonl dataset needs `teacher.parse_as: svamp|cqa|esnli|anli`")
        }
    }

    /// Runs async teacher code from a stage (stages run on their own threads).
    static func blocking<T>(_ work: @escaping () async throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        var result: Result<T, Error>!
        Task {
            do { result = .success(try await work()) } catch { result = .failure(error) }
            done.signal()
        }
        done.wait()
        return try result.get()
    }

    static func summarize(split: Split, examples: [Example], annotations: [Annotation], metric: String,
                          requests: Int = 0, promptTokens: Int = 0, completionTokens: Int = 0) -> AnnotationArtifact {
        let quality = TeacherQuality.measure(annotations, examples: examples, metric: Metric(rawValue: metric) ?? .exactMatch)
        return AnnotationArtifact(split: split.rawValue, annotations: annotations,
                                  parseFailures: quality.parseFailures, teacherAccuracy: quality.accuracy,
                                  requests: requests, promptTokens: promptTokens, completionTokens: completionTokens,
                                  labelMassMissing: TeacherLabelDistribution.meanMissingMass(annotations, examples: examples))
    }
}

extension StageKind { public static let annotate = AnnotateStage.kind }
