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

    public func byID() -> [String: Annotation] {
        Dictionary(annotations.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    }
}

/// annotate: the teacher's chain of thought and label for each example of a split.
enum AnnotateStage {
    static func run(_ ctx: StageContext) throws -> Data {
        let e = ctx.experiment
        let splits = try ctx.input("dataset", as: DatasetSplits.self)
        guard case .string(let splitName)? = ctx.stage.params["split"], let split = Split(rawValue: splitName) else {
            throw StepwiseError("\(ctx.stage.label): malformed params")
        }
        let examples = splits[split]
        let annotations: [Annotation]
        var usage = TeacherUsage()
        switch e.teacher.kind {
        case .synthetic:
            let teacher = SyntheticTeacher(errorRate: e.teacher.errorRate ?? 0.15, seed: UInt64(e.teacher.seed ?? 0))
            annotations = examples.map(teacher.annotate)
        case .replay:
            guard let task = PaperDataset(rawValue: e.dataset.kind.rawValue)?.task else {
                throw StepwiseError("the replay teacher reads the paper's released outputs; dataset kind `\(e.dataset.kind.rawValue)` has none")
            }
            let teacher = ReplayTeacher(directory: e.resolve(e.teacher.path ?? "").path, task: task,
                                        mode: ParseMode(rawValue: e.teacher.parse ?? "paper") ?? .paper)
            annotations = try teacher.annotate(examples, in: splits)
        case .openai:
            let t = e.teacher
            let config = OpenAITeacherConfig(baseURL: t.baseURL ?? "", model: t.model ?? "",
                                             api: OpenAITeacherConfig.API(rawValue: t.api ?? "chat") ?? .chat,
                                             apiKeyEnv: t.apiKeyEnv, temperature: t.temperature ?? 0, maxTokens: t.maxTokens ?? 256,
                                             stop: t.stop, concurrency: t.concurrency ?? 16, timeout: t.timeout ?? 120,
                                             maxRetries: t.maxRetries ?? 6, logprobs: t.logprobs ?? false, topLogprobs: t.topLogprobs)
            let prompt = try PromptTemplate(contentsOfFile: e.resolve(t.prompt ?? "").path)
            let status = ctx.status
            // Each response is committed before it counts as answered, also when the annotation fails part-way.
            let cache = StoreTeacherCache(store: ctx.store, model: config.model, api: config.api.rawValue)
            let teacher = try OpenAITeacher(config: config, prompt: prompt, task: parseTask(e.dataset.kind, override: t.parseAs),
                                            parseMode: ParseMode(rawValue: t.parse ?? "paper") ?? .paper,
                                            cache: cache,
                                            progress: { done, total in status("\(done)/\(total) requests") })
            annotations = try blocking { try await teacher.annotate(examples) }
            usage = teacher.usage
        }
        return try ArtifactCodec.encode(summarize(split: split, examples: examples, annotations: annotations, metric: e.dataset.metric,
                                                  requests: usage.httpRequests, promptTokens: usage.promptTokens,
                                                  completionTokens: usage.completionTokens))
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
                                  requests: requests, promptTokens: promptTokens, completionTokens: completionTokens)
    }
}
