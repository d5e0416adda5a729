import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import Stepwise

/// Runs Fixtures/fake_openai_server.py (started here, stopped in tearDown) on 127.0.0.1.
final class FakeOpenAIServer {
    let process = Process()
    let port: Int

    init(arguments: [String] = []) throws {
        let script = TestFixtures.path("fake_openai_server.py")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var buffer = Data()
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
        }
        let line = String(decoding: buffer, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard line.hasPrefix("PORT "), let p = Int(line.dropFirst(5)) else {
            process.terminate()
            throw XCTSkip("fake OpenAI server did not start (python3 missing?): \(line)")
        }
        port = p
    }

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// SIGTERM, then SIGKILL if the server is still there after two seconds; never blocks for long.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func stats() async throws -> [String: Any] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/stats")!)
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    func requests() async throws -> Int { try await stats()["requests"] as! Int }
}

final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var _calls: [[Int]] = []
    func record(_ done: Int, _ total: Int) { lock.lock(); _calls.append([done, total]); lock.unlock() }
    var calls: [[Int]] { lock.lock(); defer { lock.unlock() }; return _calls }
}

/// Test cases that start fake servers; every server a test started is stopped after it.
class FakeServerTestCase: XCTestCase {
    var servers: [FakeOpenAIServer] = []

    override func tearDown() {
        for s in servers { s.stop() }
        servers = []
    }

    func server(_ args: [String] = []) throws -> FakeOpenAIServer {
        let s = try FakeOpenAIServer(arguments: args)
        servers.append(s)
        return s
    }
}

final class TeacherOpenAITests: FakeServerTestCase {

    func config(_ s: FakeOpenAIServer, api: OpenAITeacherConfig.API = .chat, concurrency: Int = 6,
                timeout: Double = 1, maxRetries: Int = 4) -> OpenAITeacherConfig {
        OpenAITeacherConfig(baseURL: s.baseURL, model: "fake-model", api: api, temperature: 0, maxTokens: 64,
                            stop: ["\n\nQ:"], concurrency: concurrency, timeout: timeout, maxRetries: maxRetries,
                            initialBackoff: 0.05, maxBackoff: 2)
    }

    /// The fake server's deterministic answer label for a full prompt.
    func expectedLabel(_ fullPrompt: String) -> String {
        let n = fullPrompt.unicodeScalars.count
        return "( \(n) + 1 )"
    }

    func testFaultsAreRetriedAndSecondPassIsServedFromCache() async throws {
        try await faultsAreRetriedAndSecondPassIsServedFromCache(transport: nil)
    }

    /// The same exchanges through URLSession, which `https://` base URLs use.
    func testFaultsAreRetriedThroughURLSession() async throws {
        try await faultsAreRetriedAndSecondPassIsServedFromCache(transport: { URLSessionTransport(maxConnections: $0.concurrency, timeout: $0.timeout) })
    }

    func faultsAreRetriedAndSecondPassIsServedFromCache(transport: ((OpenAITeacherConfig) -> HTTPTransport)?) async throws {
        let s = try server(["--hang-seconds", "3"])
        let markers = ["", "", "[[429x1]]", "[[500x2]]", "[[badjsonx1]]", "[[dropx1]]", "[[hangx1]]", "", "[[500x1]] [[429x2]]", "é 🍎"]
        let examples = (0..<30).map { i in
            Example(id: "train-\(i)", input: "Problem \(i) \(markers[i % markers.count])", label: "( 1 + 1 )")
        }
        let template = PromptTemplate(text: "Q: A worked example. The answer is ( 2 ).\n\nQ: {input}\nA:")
        let cache = InMemoryTeacherRequestCache()
        let counter = ProgressCounter()
        let c = config(s)
        let teacher = try OpenAITeacher(config: c, prompt: template, task: .svamp, parseMode: .paper, cache: cache,
                                        environment: [:], progress: { done, total in counter.record(done, total) },
                                        transport: transport?(c))
        let start = Date()
        let annotations = try await teacher.annotate(examples)
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(annotations.map(\.id), examples.map(\.id))
        for (e, a) in zip(examples, annotations) {
            XCTAssertTrue(a.parsed, a.raw)
            XCTAssertEqual(a.label, expectedLabel(template.render(input: e.input)), a.raw)
        }
        let stats = try await s.stats()
        let faults = stats["faults"] as! [String: Int]
        let faultCount = faults.values.reduce(0, +)
        // 3 × (429 + 500×2 + badjson + drop + hang + 500 then 429) = 3 × 8 = 24 faulty attempts.
        XCTAssertEqual(faultCount, 24, "\(faults)")
        XCTAssertEqual(stats["requests"] as? Int, 30 + faultCount)
        let usage = teacher.usage
        XCTAssertEqual(usage.httpRequests, 30 + faultCount)
        XCTAssertEqual(usage.retries, faultCount)
        XCTAssertEqual(usage.completions, 30)
        XCTAssertEqual(usage.cacheHits, 0)
        XCTAssertGreaterThan(usage.promptTokens, 0)
        XCTAssertGreaterThan(usage.completionTokens, 0)
        XCTAssertEqual(cache.count, 30)
        XCTAssertLessThan(elapsed, 20)
        XCTAssertEqual(counter.calls, (1...30).map { [$0, 30] })

        // Second pass, new teacher, same cache: no request reaches the server.
        let again: Teacher = try OpenAITeacher(config: config(s), prompt: template, task: .svamp, cache: cache)
        let replayed = try await again.annotate(examples, in: DatasetSplits(train: examples, valid: [], test: []))
        XCTAssertEqual(replayed, annotations)
        let requestsAfter = try await s.requests()
        XCTAssertEqual(requestsAfter, 30 + faultCount)
        XCTAssertEqual((again as! OpenAITeacher).usage.httpRequests, 0)
        XCTAssertEqual((again as! OpenAITeacher).usage.cacheHits, 30)
    }

    func testRetryAfterIsHonoured() async throws {
        let s = try server()
        let teacher = try OpenAITeacher(config: config(s), prompt: PromptTemplate(text: "{input}"), task: .svamp, cache: nil)
        let start = Date()
        let r = try await teacher.complete("wait please [[429x1]]")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 1.0)   // Retry-After: 1
        XCTAssertTrue(r.text.hasSuffix("The answer is ( 21 + 1 )."), r.text)
        XCTAssertEqual(teacher.usage.retries, 1)
    }

    func testPermanentErrorsAndGivingUp() async throws {
        let s = try server()
        let teacher = try OpenAITeacher(config: config(s, maxRetries: 2), prompt: PromptTemplate(text: "{input}"), task: .svamp, cache: nil)
        do {
            _ = try await teacher.complete("bad [[400]]")
            XCTFail("expected an error")
        } catch let e as OpenAITeacherError {
            XCTAssertEqual(e.status, 400)
            XCTAssertEqual(e.attempts, 1)
        }
        do {
            _ = try await teacher.complete("always failing [[500x10]]")
            XCTFail("expected an error")
        } catch let e as OpenAITeacherError {
            XCTAssertEqual(e.status, 500)
            XCTAssertEqual(e.attempts, 3)
            XCTAssertTrue(e.description.contains("giving up"), e.description)
        }
        let requests = try await s.requests()
        XCTAssertEqual(requests, 4)
        // A failed example fails the batch, but the successes before it stay cached.
        let cache = InMemoryTeacherRequestCache()
        let t2 = try OpenAITeacher(config: config(s, concurrency: 1, maxRetries: 0), prompt: PromptTemplate(text: "{input}"), task: .svamp, cache: cache)
        let batch = [Example(id: "test-0", input: "fine", label: "1"), Example(id: "test-1", input: "x [[400]]", label: "1")]
        do {
            _ = try await t2.annotate(batch)
            XCTFail("expected an error")
        } catch is OpenAITeacherError {}
        XCTAssertEqual(cache.count, 1)
    }

    func testConcurrencyIsBounded() async throws {
        let s = try server(["--latency-ms", "60"])
        let teacher = try OpenAITeacher(config: config(s, concurrency: 4), prompt: PromptTemplate(text: "{input}"), task: .svamp, cache: nil)
        let prompts = (0..<24).map { "prompt \($0)" }
        let responses = try await teacher.complete(prompts)
        XCTAssertEqual(responses.map(\.text), prompts.map { "I read \($0.count) characters. The answer is ( \($0.count) + 1 )." })
        let maxInFlight = try await s.stats()["max_in_flight"] as! Int
        XCTAssertLessThanOrEqual(maxInFlight, 4)
        XCTAssertGreaterThanOrEqual(maxInFlight, 2)
    }

    func testCompletionsAPIAndKeyFromEnvironment() async throws {
        let s = try server(["--require-key", "sk-test-123"])
        var c = config(s, api: .completions)
        c.apiKeyEnv = "STEPWISE_FAKE_KEY"
        let teacher = try OpenAITeacher(config: c, prompt: PromptTemplate(text: "Q: {input}\nA:"), task: .svamp,
                                        cache: nil, environment: ["STEPWISE_FAKE_KEY": "sk-test-123"])
        let a = try await teacher.annotate([Example(id: "test-0", input: "hi", label: "( 1 )")])
        XCTAssertEqual(a[0].label, expectedLabel("Q: hi\nA:"))
        let byPath = try await s.stats()["by_path"] as! [String: Int]
        XCTAssertEqual(byPath, ["/v1/completions": 1])
        XCTAssertThrowsError(try OpenAITeacher(config: c, prompt: PromptTemplate(text: "{input}"), task: .svamp, cache: nil, environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("STEPWISE_FAKE_KEY"))
        }
        // A wrong key is a permanent 401.
        let wrong = try OpenAITeacher(config: c, prompt: PromptTemplate(text: "{input}"), task: .svamp, cache: nil,
                                      environment: ["STEPWISE_FAKE_KEY": "nope"])
        do { _ = try await wrong.complete("x"); XCTFail("expected 401") } catch let e as OpenAITeacherError { XCTAssertEqual(e.status, 401) }
    }

    func testCacheKey() throws {
        let a = OpenAITeacherConfig(baseURL: "http://a.example/v1", model: "m", temperature: 0)
        var b = a
        b.baseURL = "http://b.example:9000/v1"
        b.concurrency = 99
        b.apiKeyEnv = "X"
        let t = PromptTemplate(text: "{input}")
        let ka = try OpenAITeacher(config: a, prompt: t, task: .svamp, cache: nil).cacheKey(prompt: "p")
        let kb = try OpenAITeacher(config: b, prompt: t, task: .svamp, cache: nil, environment: ["X": "k"]).cacheKey(prompt: "p")
        XCTAssertEqual(ka, kb)                          // not keyed by host, concurrency or key
        XCTAssertFalse(ka.contains("example"))
        XCTAssertFalse(kb.contains("\"k\""))
        var c = a; c.temperature = 0.7
        var d = a; d.model = "m2"
        var e = a; e.api = .completions
        var f = a; f.stop = ["\n"]
        var g = a; g.maxTokens = 10
        let keys = try [c, d, e, f, g].map { try OpenAITeacher(config: $0, prompt: t, task: .svamp, cache: nil).cacheKey(prompt: "p") }
        XCTAssertEqual(Set(keys + [ka]).count, 6)
        let other = try OpenAITeacher(config: a, prompt: t, task: .svamp, cache: nil).cacheKey(prompt: "p2")
        XCTAssertNotEqual(ka, other)
        XCTAssertEqual(OpenAITeacher.retryAfterSeconds("3"), 3)
        XCTAssertNil(OpenAITeacher.retryAfterSeconds("soon"))
        XCTAssertEqual(OpenAITeacher.retryAfterSeconds("Wed, 21 Oct 2015 07:28:00 GMT"), 0)
    }

    func testCacheKeyIsWhatJSONEncoderWrites() throws {
        // Stores are keyed by this text: the shortcut must write exactly what JSONEncoder did.
        let controls = String((0..<32).map { Character(UnicodeScalar(UInt8($0))) })
        let prompts = ["", "plain", controls, "quote \" backslash \\ slash / tab\t", "é 🍎 \u{2028}\u{2029}\u{7f}\u{85}\u{feff}",
                       "Q: {input}\nA: \"prompt\":\"\"", String(repeating: "long ", count: 500)]
        let configs = [OpenAITeacherConfig(baseURL: "http://h/v1", model: "m"),
                       OpenAITeacherConfig(baseURL: "http://h/v1", model: "m/\"odd\" \"prompt\":\"\"", api: .completions,
                                           temperature: 0.7, maxTokens: 17, stop: ["\n\nQ:", "\"prompt\":\"\""]),
                       OpenAITeacherConfig(baseURL: "http://h/v1", model: "m", temperature: .nan)]
        for c in configs {
            let t = try OpenAITeacher(config: c, prompt: PromptTemplate(text: "{input}"), task: .svamp, cache: nil)
            for p in prompts { XCTAssertEqual(t.cacheKey(prompt: p), t.encodedCacheKey(prompt: p), p) }
        }
    }

    func testRequestBodyCarriesThePromptExactly() throws {
        let prompt = "Q: \"quotes\", \\, / \u{1}\u{8}\u{c}\u{1f} é 🍎\nA:"
        for api in OpenAITeacherConfig.API.allCases {
            let c = OpenAITeacherConfig(baseURL: "http://h/v1", model: "m \"x\"", api: api, temperature: 0.25, maxTokens: 9, stop: ["Q:"])
            let t = try OpenAITeacher(config: c, prompt: PromptTemplate(text: "{input}"), task: .svamp, cache: nil)
            let object = try JSONSerialization.jsonObject(with: t.body(prompt)) as! [String: Any]
            XCTAssertEqual(object["model"] as? String, "m \"x\"")
            XCTAssertEqual(object["temperature"] as? Double, 0.25)
            XCTAssertEqual(object["max_tokens"] as? Int, 9)
            XCTAssertEqual(object["stop"] as? [String], ["Q:"])
            switch api {
            case .chat:
                let messages = object["messages"] as! [[String: String]]
                XCTAssertEqual(messages, [["role": "user", "content": prompt]])
            case .completions:
                XCTAssertEqual(object["prompt"] as? String, prompt)
            }
        }
    }

    func testPartlyCachedBatchRequestsOnlyTheMisses() async throws {
        let s = try server()
        let cache = InMemoryTeacherRequestCache()
        let prompts = (0..<150).map { "prompt number \($0)" }
        let cached = prompts.enumerated().filter { $0.offset % 3 == 0 }.map(\.element)
        let first = try OpenAITeacher(config: config(s, concurrency: 5), prompt: PromptTemplate(text: "{input}"), task: .svamp, cache: cache)
        _ = try await first.complete(cached)
        XCTAssertEqual(cache.count, 50)

        let counter = ProgressCounter()
        let teacher = try OpenAITeacher(config: config(s, concurrency: 5), prompt: PromptTemplate(text: "{input}"), task: .svamp,
                                        cache: cache, progress: { counter.record($0, $1) })
        let responses = try await teacher.complete(prompts)
        XCTAssertEqual(responses.map(\.text), prompts.map { "I read \($0.count) characters. The answer is ( \($0.count) + 1 )." })
        XCTAssertEqual(teacher.usage.cacheHits, 50)
        XCTAssertEqual(teacher.usage.httpRequests, 100)
        XCTAssertEqual(counter.calls, (1...150).map { [$0, 150] })
        let requests = try await s.requests()
        XCTAssertEqual(requests, 150)
        XCTAssertEqual(cache.count, 150)
        let empty = try await teacher.complete([])
        XCTAssertEqual(empty, [])
    }
}
