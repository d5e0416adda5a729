import Foundation

/// A teacher response as cached: the completion text and what the server said about it.
public struct CachedTeacherResponse: Codable, Hashable, Sendable {
    public var text: String
    public var promptTokens: Int?
    public var completionTokens: Int?
    public var finishReason: String?
    /// The model name the server reported.
    public var model: String?
    /// Per generated token, when the teacher asks for log-probabilities (`logprobs: true`);
    /// nil otherwise, and then absent from the cached JSON, as in rows cached before it existed.
    public var logprobs: [TokenLogprob]?

    public init(text: String, promptTokens: Int? = nil, completionTokens: Int? = nil,
                finishReason: String? = nil, model: String? = nil, logprobs: [TokenLogprob]? = nil) {
        self.text = text
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.finishReason = finishReason
        self.model = model
        self.logprobs = logprobs
    }
}

/// Where teacher responses are cached one by one, so an interrupted annotation resumes where it
/// stopped and never pays for a request twice. Keys are `OpenAITeacher.cacheKey(prompt:)`
/// strings (readable canonical JSON; an implementation may hash them). Implementations must be
/// safe to call from several tasks at once.
public protocol TeacherRequestCache: Sendable {
    func cachedResponse(forKey key: String) throws -> CachedTeacherResponse?
    /// The cached responses among `keys`, by key. One call per batch, so that a store can look
    /// them all up at once instead of once per request.
    func cachedResponses(forKeys keys: [String]) throws -> [String: CachedTeacherResponse]
    /// Returns once the response is kept for good (committed, for a store): the teacher counts a
    /// response as done only then, so a process killed afterwards never asks for it again.
    func store(_ response: CachedTeacherResponse, forKey key: String) async throws
}

extension TeacherRequestCache {
    public func cachedResponses(forKeys keys: [String]) throws -> [String: CachedTeacherResponse] {
        var found: [String: CachedTeacherResponse] = [:]
        for key in keys where found[key] == nil {
            if let r = try cachedResponse(forKey: key) { found[key] = r }
        }
        return found
    }
}

/// A process-local cache (tests, one-off runs).
public final class InMemoryTeacherRequestCache: TeacherRequestCache, @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: CachedTeacherResponse] = [:]

    public init() {}

    public var count: Int { lock.lock(); defer { lock.unlock() }; return entries.count }

    public func cachedResponse(forKey key: String) throws -> CachedTeacherResponse? {
        lock.lock(); defer { lock.unlock() }
        return entries[key]
    }

    public func store(_ response: CachedTeacherResponse, forKey key: String) async throws {
        lock.lock(); defer { lock.unlock() }
        entries[key] = response
    }
}

/// `teacher: {kind: openai, ...}` — any OpenAI-compatible server (vLLM, llama.cpp, Ollama, OpenAI).
public struct OpenAITeacherConfig: Codable, Hashable, Sendable {
    public enum API: String, Codable, CaseIterable, Sendable {
        /// POST `<baseURL>/chat/completions` with one user message holding the prompt.
        case chat
        /// POST `<baseURL>/completions` with the prompt as is.
        case completions
    }

    /// E.g. `http://127.0.0.1:8000/v1`.
    public var baseURL: String
    public var model: String
    public var api: API
    /// The environment variable holding the API key, sent as `Authorization: Bearer …`. The key
    /// itself is never stored. nil: no Authorization header.
    public var apiKeyEnv: String?
    public var temperature: Double
    public var maxTokens: Int
    public var stop: [String]?
    /// Requests in flight at most.
    public var concurrency: Int
    /// Seconds before one attempt is abandoned (and retried).
    public var timeout: Double
    /// Attempts after the first, for 429, 5xx, timeouts, connection errors and malformed bodies.
    public var maxRetries: Int
    /// First back-off delay in seconds; doubles per retry, with jitter, up to `maxBackoff`.
    public var initialBackoff: Double
    public var maxBackoff: Double
    /// Ask for each generated token's log-probability (`logprobs: true`); they are cached with
    /// the response, and a response without them is an error.
    public var logprobs: Bool
    /// With `logprobs`: how many most likely alternatives per position (`top_logprobs: k`).
    public var topLogprobs: Int?

    enum CodingKeys: String, CodingKey {
        case baseURL = "base_url", model, api, apiKeyEnv = "api_key_env", temperature, maxTokens = "max_tokens",
             stop, concurrency, timeout, maxRetries = "max_retries", initialBackoff = "initial_backoff",
             maxBackoff = "max_backoff", logprobs, topLogprobs = "top_logprobs"
    }

    /// Decodes the spec's snake_case keys (`base_url`, `api_key_env`, `max_tokens`, …); every key
    /// but `base_url` and `model` may be left out and takes the default below. Unknown keys
    /// (e.g. `kind`, `prompt`) are ignored.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = OpenAITeacherConfig(baseURL: "", model: "")
        self.init(baseURL: try c.decode(String.self, forKey: .baseURL),
                  model: try c.decode(String.self, forKey: .model),
                  api: try c.decodeIfPresent(API.self, forKey: .api) ?? d.api,
                  apiKeyEnv: try c.decodeIfPresent(String.self, forKey: .apiKeyEnv),
                  temperature: try c.decodeIfPresent(Double.self, forKey: .temperature) ?? d.temperature,
                  maxTokens: try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? d.maxTokens,
                  stop: try c.decodeIfPresent([String].self, forKey: .stop),
                  concurrency: try c.decodeIfPresent(Int.self, forKey: .concurrency) ?? d.concurrency,
                  timeout: try c.decodeIfPresent(Double.self, forKey: .timeout) ?? d.timeout,
                  maxRetries: try c.decodeIfPresent(Int.self, forKey: .maxRetries) ?? d.maxRetries,
                  initialBackoff: try c.decodeIfPresent(Double.self, forKey: .initialBackoff) ?? d.initialBackoff,
                  maxBackoff: try c.decodeIfPresent(Double.self, forKey: .maxBackoff) ?? d.maxBackoff,
                  logprobs: try c.decodeIfPresent(Bool.self, forKey: .logprobs) ?? d.logprobs,
                  topLogprobs: try c.decodeIfPresent(Int.self, forKey: .topLogprobs))
    }

    public init(baseURL: String, model: String, api: API = .chat, apiKeyEnv: String? = nil,
                temperature: Double = 0, maxTokens: Int = 256, stop: [String]? = nil,
                concurrency: Int = 8, timeout: Double = 60, maxRetries: Int = 5,
                initialBackoff: Double = 0.5, maxBackoff: Double = 30, logprobs: Bool = false, topLogprobs: Int? = nil) {
        self.baseURL = baseURL
        self.model = model
        self.api = api
        self.apiKeyEnv = apiKeyEnv
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.stop = stop
        self.concurrency = concurrency
        self.timeout = timeout
        self.maxRetries = maxRetries
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.logprobs = logprobs
        self.topLogprobs = topLogprobs
    }
}

public struct OpenAITeacherError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The HTTP status of the last attempt, if one came back.
    public var status: Int?
    public var attempts: Int

    public var description: String {
        "openai teacher: \(message)" + (status.map { " (HTTP \($0))" } ?? "") + " after \(attempts) attempt\(attempts == 1 ? "" : "s")"
    }
}

/// What the teacher has done so far (cumulative over the teacher's lifetime).
public struct TeacherUsage: Codable, Hashable, Sendable {
    /// HTTP attempts sent, retries included.
    public var httpRequests = 0
    /// Attempts that were retried (429, 5xx, timeouts, connection errors, malformed bodies).
    public var retries = 0
    public var cacheHits = 0
    /// Prompts answered by the server (not from the cache).
    public var completions = 0
    public var promptTokens = 0
    public var completionTokens = 0

    public init() {}
}

/// A teacher that asks an OpenAI-compatible HTTP server for few-shot chain-of-thought
/// completions, parses them with the dataset's rule, and caches every response.
///
/// - Cache key (`cacheKey(prompt:)`): canonical JSON of the endpoint kind, model, full prompt and
///   sampling parameters (temperature, max tokens, stop) — not the host, so the same model
///   served elsewhere reuses the cache.
/// - Retries: see `RetryPolicy` (429, 5xx, timeouts, connection errors and unparseable 200
///   bodies, up to `maxRetries` times, honouring `Retry-After`, else exponential back-off with
///   jitter). Other 4xx fail at once.
/// - Concurrency: at most `concurrency` requests in flight.
/// - Durability: a response counts as answered (progress, results) only once the cache has
///   committed it.
/// - Transport: `AsyncHTTPTransport` for `http://` and `https://`, with the proxy and trust
///   roots the environment names (`TransportEnvironment`).
public final class OpenAITeacher: @unchecked Sendable {
    public let config: OpenAITeacherConfig
    public let prompt: PromptTemplate
    public let task: PaperTask
    public let parseMode: ParseMode
    public let cache: TeacherRequestCache?
    /// Called after each prompt of a batch is answered (from the cache or the server) with
    /// (answered so far, batch size); from any task, so it must be thread-safe.
    public let progress: (@Sendable (_ done: Int, _ total: Int) -> Void)?

    private let transport: HTTPTransport
    private let retryPolicy: RetryPolicy
    private let endpoint: URL
    /// Request headers, the API key's included: they live in memory only.
    private let headers: [(name: String, value: String)]
    /// The cache key and the request body are fixed text around the prompt, which is all that
    /// changes from one request to the next; see `cacheKey(prompt:)` and `body(_:)`.
    private let keyTemplate: (prefix: [UInt8], suffix: [UInt8])?
    private let bodyTemplate: (prefix: [UInt8], suffix: [UInt8])
    private let lock = NSLock()
    private var _usage = TeacherUsage()

    /// Throws when `apiKeyEnv` names a variable that is not set (or empty) in `environment`.
    public convenience init(config: OpenAITeacherConfig, prompt: PromptTemplate, task: PaperTask, parseMode: ParseMode = .paper,
                            cache: TeacherRequestCache?, environment: [String: String] = ProcessInfo.processInfo.environment,
                            progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil) throws {
        try self.init(config: config, prompt: prompt, task: task, parseMode: parseMode, cache: cache,
                      environment: environment, progress: progress, transport: nil)
    }

    /// `transport`: nil for an `AsyncHTTPTransport` to the base URL's server, set up from
    /// `environment` (proxy, trust roots); tests may pass another.
    init(config: OpenAITeacherConfig, prompt: PromptTemplate, task: PaperTask, parseMode: ParseMode,
         cache: TeacherRequestCache?, environment: [String: String],
         progress: (@Sendable (_ done: Int, _ total: Int) -> Void)?, transport: HTTPTransport?) throws {
        guard URL(string: config.baseURL)?.scheme != nil else {
            throw OpenAITeacherError(message: "base_url \"\(config.baseURL)\" is not a URL", status: nil, attempts: 0)
        }
        guard config.concurrency >= 1, config.maxRetries >= 0, config.timeout > 0 else {
            throw OpenAITeacherError(message: "concurrency must be ≥ 1, max_retries ≥ 0 and timeout > 0", status: nil, attempts: 0)
        }
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if let name = config.apiKeyEnv {
            guard let key = environment[name], !key.isEmpty else {
                throw OpenAITeacherError(message: "environment variable \(name) (api_key_env) is not set", status: nil, attempts: 0)
            }
            headers.append(("Authorization", "Bearer \(key)"))
        }
        var base = config.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        guard let endpoint = URL(string: base + (config.api == .chat ? "/chat/completions" : "/completions")) else {
            throw OpenAITeacherError(message: "base_url \"\(config.baseURL)\" is not a URL", status: nil, attempts: 0)
        }
        self.config = config
        self.prompt = prompt
        self.task = task
        self.parseMode = parseMode
        self.cache = cache
        self.progress = progress
        self.endpoint = endpoint
        self.headers = headers
        if config.topLogprobs != nil && !config.logprobs {
            throw OpenAITeacherError(message: "top_logprobs needs logprobs: true", status: nil, attempts: 0)
        }
        if let transport {
            self.transport = transport
        } else {
            let settings: TransportEnvironment
            do {
                settings = try TransportEnvironment(for: endpoint, environment: environment)
            } catch {
                throw OpenAITeacherError(message: "\(error)", status: nil, attempts: 0)
            }
            self.transport = AsyncHTTPTransport(for: endpoint, maxConnections: config.concurrency, timeout: config.timeout,
                                                environment: settings)
        }
        retryPolicy = RetryPolicy(maxRetries: config.maxRetries, initialBackoff: config.initialBackoff, maxBackoff: config.maxBackoff)
        keyTemplate = Self.keyTemplate(config)
        bodyTemplate = Self.bodyTemplate(config)
    }

    deinit {
        transport.shutdown()
    }

    public var usage: TeacherUsage {
        lock.lock(); defer { lock.unlock() }
        return _usage
    }

    private func record(_ change: (inout TeacherUsage) -> Void) {
        lock.lock(); defer { lock.unlock() }
        change(&_usage)
    }

    // MARK: - Keys

    private struct KeyFields: Encodable {
        var v = 1
        var api: String
        var model: String
        var prompt: String
        var temperature: Double
        var max_tokens: Int
        var stop: [String]
        /// Only when asked for (nil is left out of the JSON): keys of requests without them are
        /// the text they always were.
        var logprobs: Bool?
        var top_logprobs: Int?
    }

    /// The cache key of one full prompt: canonical JSON (sorted keys) of the endpoint kind, model,
    /// prompt and sampling parameters, as JSONEncoder writes `KeyFields` (`.sortedKeys,
    /// .withoutEscapingSlashes`) — the text that keys existing stores, so it must not change.
    /// JSONEncoder wrote it whole until it showed up in profiles; now it writes the fixed part once
    /// and the prompt is escaped the way JSONEncoder escapes (a test holds the two together).
    public func cacheKey(prompt fullPrompt: String) -> String {
        guard let keyTemplate else { return encodedCacheKey(prompt: fullPrompt) }
        var out = keyTemplate.prefix
        out.reserveCapacity(keyTemplate.prefix.count + fullPrompt.utf8.count + keyTemplate.suffix.count + 16)
        Self.writeJSONString(fullPrompt, to: &out)
        out += keyTemplate.suffix
        return String(decoding: out, as: UTF8.self)
    }

    /// The key without `cacheKey`'s shortcut (for the test that compares them).
    func encodedCacheKey(prompt fullPrompt: String) -> String {
        let fields = KeyFields(api: config.api.rawValue, model: config.model, prompt: fullPrompt,
                               temperature: config.temperature, max_tokens: config.maxTokens, stop: config.stop ?? [],
                               logprobs: config.logprobs ? true : nil, top_logprobs: config.logprobs ? config.topLogprobs : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(fields)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// nil when JSONEncoder refuses the fields (a NaN temperature): then `cacheKey` takes the
    /// long way and gets the same empty key as ever.
    private static func keyTemplate(_ config: OpenAITeacherConfig) -> (prefix: [UInt8], suffix: [UInt8])? {
        let fields = KeyFields(api: config.api.rawValue, model: config.model, prompt: "",
                               temperature: config.temperature, max_tokens: config.maxTokens, stop: config.stop ?? [],
                               logprobs: config.logprobs ? true : nil, top_logprobs: config.logprobs ? config.topLogprobs : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(fields) else { return nil }
        return split(Array(data), atEmptyStringOf: "prompt")
    }

    /// `json` cut around the empty string value of `key`: `…"key":` and what follows `""`.
    /// In JSON text a bare quote only delimits strings and a string followed by `:` is a key, so
    /// `"key":""` occurs exactly where that key's value is.
    private static func split(_ json: [UInt8], atEmptyStringOf key: String) -> (prefix: [UInt8], suffix: [UInt8])? {
        let marker = Array("\"\(key)\":\"\"".utf8)
        var i = 0
        while i + marker.count <= json.count {
            if json[i..<i + marker.count].elementsEqual(marker) {
                return (Array(json[..<(i + marker.count - 2)]), Array(json[(i + marker.count)...]))
            }
            i += 1
        }
        return nil
    }

    /// A JSON string literal, escaped as Foundation's JSONEncoder does: `"`, `\`, `\b \t \n \f \r`,
    /// other control characters as lower-case `\u00xx`; everything else (`/`, non-ASCII) as is.
    static func writeJSONString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            // Runs of bytes that need no escape are copied whole.
            var run = 0
            for i in 0..<bytes.count {
                let b = bytes[i]
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                if run < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i])) }
                run = i + 1
                out.append(UInt8(ascii: "\\"))
                switch b {
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x09: out.append(UInt8(ascii: "t"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case ..<0x20:
                    let hex: StaticString = "0123456789abcdef"
                    out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                            hex.utf8Start[Int(b >> 4)], hex.utf8Start[Int(b & 15)]])
                default: out.append(b)
                }
            }
            if run < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...])) }
        }
        out.append(UInt8(ascii: "\""))
    }

    // MARK: - Annotating

    /// Annotations for `examples`, in order. Fails on the first example whose request fails for
    /// good; responses obtained before that stay cached.
    public func annotate(_ examples: [Example]) async throws -> [Annotation] {
        try await run(count: examples.count, prompt: { self.prompt.render(input: examples[$0].input) }) { i, r in
            var a = PaperOutputParser.annotation(id: examples[i].id, raw: r.text, task: self.task, mode: self.parseMode)
            if let tokens = r.logprobs { a.answerLogprobs = AnswerPosition.find(in: r.text, tokens: tokens, task: self.task) }
            return a
        }
    }

    /// Completions for full prompts, in order, with at most `concurrency` requests in flight.
    public func complete(_ prompts: [String]) async throws -> [CachedTeacherResponse] {
        try await run(count: prompts.count, prompt: { prompts[$0] }) { _, r in r }
    }

    /// Answers `count` prompts (`prompt(i)`), each turned into a result by `transform` as it
    /// arrives. The cache is asked a chunk of prompts at a time (see `CompletionBatch`); then
    /// `concurrency` worker tasks each send one request after another, so a response hands straight on to the next request in the same task rather
    /// than through a parent that
    /// launches a child task per request (two more thread hand-offs per request, which on a busy
    /// 2-core machine cost more than the request's own work).
    private func run<T>(count: Int, prompt: @escaping (Int) -> String,
                        transform: @escaping (Int, CachedTeacherResponse) -> T) async throws -> [T] {
        let cache = self.cache
        let workers = min(count, config.concurrency)
        let batch = CompletionBatch<T>(count: count, chunk: max(64, workers), prepare: { range in
            let prompts = range.map(prompt)
            let keys = prompts.map { self.cacheKey(prompt: $0) }
            let hits = try cache?.cachedResponses(forKeys: keys) ?? [:]
            return zip(prompts, keys).map { CompletionBatch<T>.Prepared(prompt: $0, key: $1, cached: hits[$1]) }
        }, transform: transform, progress: progress)
        defer { record { $0.cacheHits += batch.cacheHits } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    // A response's commit overlaps the worker's next request: the connection
                    // goes back to work at once, and the response still counts as answered only
                    // once its row is committed. At most one commit per worker is outstanding.
                    var committing: Task<Void, Error>?
                    do {
                        while let item = try batch.claim() {
                            let response = try await self.received(item.prompt, key: item.key)
                            try await committing?.value
                            committing = Task {
                                try await cache?.store(response, forKey: item.key)
                                batch.answer(item.index, with: response)
                            }
                        }
                    } catch {
                        _ = try? await committing?.value   // keep what was already received
                        throw error
                    }
                    try await committing?.value
                }
            }
            try await group.waitForAll()
        }
        return batch.values()
    }

    /// One completion: from the cache, or from the server (then cached).
    public func complete(_ fullPrompt: String) async throws -> CachedTeacherResponse {
        let key = cacheKey(prompt: fullPrompt)
        if let cache, let hit = try cache.cachedResponse(forKey: key) {
            record { $0.cacheHits += 1 }
            return hit
        }
        return try await fetch(fullPrompt, key: key)
    }

    /// One completion from the server, returned once cached.
    private func fetch(_ fullPrompt: String, key: String) async throws -> CachedTeacherResponse {
        let response = try await received(fullPrompt, key: key)
        try await cache?.store(response, forKey: key)
        return response
    }

    /// One completion from the server, counted, not yet cached.
    private func received(_ fullPrompt: String, key: String) async throws -> CachedTeacherResponse {
        let response = try await request(fullPrompt, key: key)
        record {
            $0.completions += 1
            $0.promptTokens += response.promptTokens ?? 0
            $0.completionTokens += response.completionTokens ?? 0
        }
        return response
    }

    // MARK: - HTTP

    private enum Outcome {
        case success(CachedTeacherResponse)
        case retry(reason: String, status: Int?, retryAfter: Double?)
        case fail(reason: String, status: Int?)
        case cancelled
    }

    /// The request body: the JSON object `bodyTemplate` holds, with the prompt in its place.
    /// Not `JSONSerialization`, whose string escaping on Linux took a sixth of the client's CPU at
    /// a thousand requests a second.
    func body(_ fullPrompt: String) -> Data {
        var out = bodyTemplate.prefix
        out.reserveCapacity(bodyTemplate.prefix.count + fullPrompt.utf8.count + bodyTemplate.suffix.count + 16)
        Self.writeJSONString(fullPrompt, to: &out)
        out += bodyTemplate.suffix
        return Data(out)
    }

    /// `{"max_tokens":…,"messages":[{"content":PROMPT,"role":"user"}],"model":…,…}` (chat) or
    /// `{…,"prompt":PROMPT,…}` (completions), cut where the prompt goes.
    private static func bodyTemplate(_ config: OpenAITeacherConfig) -> (prefix: [UInt8], suffix: [UInt8]) {
        var object: [String: JSONValue] = [
            "model": .string(config.model),
            "temperature": .number(config.temperature),
            "max_tokens": .number(Double(config.maxTokens)),
        ]
        switch config.api {
        case .chat: object["messages"] = .array([.object(["role": .string("user"), "content": .string("")])])
        case .completions: object["prompt"] = .string("")
        }
        if let stop = config.stop, !stop.isEmpty { object["stop"] = .array(stop.map { .string($0) }) }
        if config.logprobs {
            switch config.api {
            case .chat:
                object["logprobs"] = .bool(true)
                if let k = config.topLogprobs { object["top_logprobs"] = .number(Double(k)) }
            case .completions:
                // The completions API takes the number of alternatives in `logprobs` itself.
                object["logprobs"] = .number(Double(config.topLogprobs ?? 0))
            }
        }
        // JSONValue always writes the key and its empty value, so the cut is always found.
        return split(Array(JSONValue.object(object).canonical.utf8), atEmptyStringOf: config.api == .chat ? "content" : "prompt")!
    }

    private func request(_ fullPrompt: String, key: String) async throws -> CachedTeacherResponse {
        let request = HTTPRequest(url: endpoint, headers: headers, body: body(fullPrompt), timeout: config.timeout)

        // Seeded by the key (hashing it is not free), only once a retry needs it.
        var jitter: SeededRandom?
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            record { $0.httpRequests += 1 }
            switch await send(request) {
            case .success(let r):
                return r
            case .cancelled:
                throw CancellationError()
            case .fail(let reason, let status):
                throw OpenAITeacherError(message: reason, status: status, attempts: attempt)
            case .retry(let reason, let status, let retryAfter):
                guard attempt <= config.maxRetries else {
                    throw OpenAITeacherError(message: "giving up: \(reason)", status: status, attempts: attempt)
                }
                record { $0.retries += 1 }
                if jitter == nil { jitter = SeededRandom(seed: 0x5EED, key) }
                let delay = retryPolicy.delay(afterAttempt: attempt, serverDelay: retryAfter, random: jitter!.double())
                try await Task.sleep(nanoseconds: UInt64(max(0, delay) * 1e9))
            }
        }
    }

    private func send(_ request: HTTPRequest) async -> Outcome {
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch let error as HTTPTransportError {
            if error == .cancelled { return .cancelled }
            if error.isRetryable { return .retry(reason: error.description, status: nil, retryAfter: nil) }
            return .fail(reason: error.description, status: nil)
        } catch is CancellationError {
            return .cancelled
        } catch {
            return .retry(reason: "request failed: \(error)", status: nil, retryAfter: nil)
        }
        let status = response.status
        let data = response.body
        guard (200...299).contains(status) else {
            if RetryPolicy.shouldRetry(response) {
                return .retry(reason: "server answered \(status)", status: status, retryAfter: RetryPolicy.serverDelay(response))
            }
            let snippet = String(decoding: data.prefix(300), as: UTF8.self)
            return .fail(reason: "server answered \(status): \(snippet)", status: status)
        }
        switch OpenAIResponseBody.parse(data, api: config.api, logprobs: config.logprobs) {
        case .response(let parsed):
            return .success(parsed)
        case .malformed:
            return .retry(reason: "malformed response body", status: status, retryAfter: nil)
        case .missingLogprobs:
            return .fail(reason: "the server sent no log-probabilities although the spec asks for them (teacher.logprobs: true); "
                         + "it may not support them (vLLM and OpenAI do)", status: status)
        }
    }

    /// The text and usage of an OpenAI-style response body (no log-probabilities); nil when it is not one.
    static func parseBody(_ data: Data, api: OpenAITeacherConfig.API) -> CachedTeacherResponse? {
        if case .response(let r) = OpenAIResponseBody.parse(data, api: api, logprobs: false) { return r }
        return nil
    }
}
