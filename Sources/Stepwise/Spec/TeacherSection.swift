import Foundation
import Yams

/// `teacher:` — who writes the chains of thought and labels.
enum TeacherSection {
    static let keysByKind: [TeacherKind: [String]] = [
        .synthetic: ["error_rate", "seed", "logprobs", "top_logprobs", "generate"],
        .replay: ["path", "parse"],
        .openai: ["base_url", "model", "api", "api_key_env", "temperature", "max_tokens", "stop", "concurrency",
                  "timeout", "max_retries", "prompt", "parse", "parse_as", "logprobs", "top_logprobs", "generate"],
    ]

    /// The most alternatives per token the OpenAI API returns (`top_logprobs`).
    static let maxTopLogprobs = 20

    static func read(_ node: Node, reader: SpecReader, root: URL) -> TeacherSpec? {
        let allKeys = ["kind"] + Set(keysByKind.values.flatMap { $0 }).sorted()
        guard let f = reader.fields(node, at: "teacher", allowed: allKeys),
              let kindName = f.oneOf("kind", TeacherKind.allCases.map(\.rawValue), required: true),
              let kind = TeacherKind(rawValue: kindName) else { return nil }
        let valid = ["kind"] + (keysByKind[kind] ?? [])
        for key in f.order where !valid.contains(key) {
            reader.fail(f.keyNode(key), f.path(key), "`\(key)` does not apply to teacher kind `\(kindName)`; expected one of \(SpecReader.list(valid))",
                        suggestion: Suggestion.closest(to: key, among: valid))
        }
        var t = TeacherSpec(kind: kind)
        switch kind {
        case .synthetic:
            t.errorRate = f.double("error_rate") ?? 0.15
            t.seed = f.int("seed") ?? 0
            if let r = t.errorRate, !(0...1).contains(r) {
                reader.fail(f.value("error_rate"), f.path("error_rate"), "expected a probability in [0, 1], found \(r)")
            }
            readLogprobs(f, into: &t, reader: reader)
        case .replay:
            t.path = f.string("path", required: true, what: "the folder holding {split}_CoT_{i}.json")
            t.parse = f.oneOf("parse", ["paper", "forgiving"]) ?? "paper"
            if let p = t.path {
                DatasetSection.checkExists(DatasetSection.resolve(p, root), node: f.value("path"), path: f.path("path"),
                                           reader: reader, root: root, hint: nil)
            }
        case .openai:
            t.baseURL = f.string("base_url", required: true, what: "the server's URL, e.g. http://127.0.0.1:8000/v1")
            t.model = f.string("model", required: true, what: "the model name the server knows")
            t.api = f.oneOf("api", ["chat", "completions"]) ?? "chat"
            t.apiKeyEnv = f.string("api_key_env")
            t.temperature = f.double("temperature") ?? 0
            t.maxTokens = f.int("max_tokens", min: 1) ?? 256
            t.stop = f.scalarList("stop")?.map(\.1)
            t.concurrency = f.int("concurrency", min: 1) ?? 16
            t.timeout = f.double("timeout") ?? 120
            t.maxRetries = f.int("max_retries", min: 0) ?? 6
            t.parse = f.oneOf("parse", ["paper", "forgiving"]) ?? "paper"
            t.parseAs = f.oneOf("parse_as", ["svamp", "cqa", "esnli", "anli"])
            readLogprobs(f, into: &t, reader: reader)
            t.prompt = f.string("prompt", required: true, what: "a few-shot prompt file with an {input} placeholder")
            if let p = t.prompt {
                DatasetSection.checkExists(DatasetSection.resolve(p, root), node: f.value("prompt"), path: f.path("prompt"),
                                           reader: reader, root: root, hint: "prompt files ship in Experiments/prompts/")
            }
        }
        if let node = f.value("generate"), kind != .replay {
            t.generate = GenerateSection.read(node, at: f.path("generate"), teacher: kind, reader: reader, root: root)
        }
        return t
    }
}

extension TeacherSection {
    /// `logprobs` and `top_logprobs` (the OpenAI-compatible teacher asks the server; the
    /// synthetic one makes them up, deterministically).
    static func readLogprobs(_ f: Fields, into t: inout TeacherSpec, reader: SpecReader) {
        // Stored as given (nil when left out), so that a spec without them keeps its stage keys.
        t.logprobs = f.bool("logprobs") == true ? true : nil
        t.topLogprobs = f.int("top_logprobs", min: 0)
        if let k = t.topLogprobs {
            if k > maxTopLogprobs {
                reader.fail(f.value("top_logprobs"), f.path("top_logprobs"),
                            "expected at most \(maxTopLogprobs) alternatives per token (the OpenAI API's limit), found \(k)")
            } else if t.logprobs != true {
                reader.fail(f.value("top_logprobs"), f.path("top_logprobs"), "top_logprobs needs `logprobs: true` beside it")
            }
        }
    }
}

extension TeacherSpec {
    init(kind: TeacherKind) { self.kind = kind }
}
