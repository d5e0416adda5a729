import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import Stepwise

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

    /// Every fault the fake server makes, through each way of reaching it (see `Route`): plain
    /// keep-alive HTTP/1.1, chunked, close-delimited and `Connection: close` bodies, HTTPS with a
    /// self-signed certificate trusted explicitly, and a CONNECT proxy for http:// and https://.
    func testFaultsAreRetriedAndSecondPassIsServedFromCache() async throws {
        for route in Route.allCases {
            try await faultsAreRetriedAndSecondPassIsServedFromCache(route)
        }
    }

    /// How the teacher reaches the fake server in the conformance runs.
    enum Route: CaseIterable {
        // The TLS routes last: without Python's `cryptography` they are skipped, after the others ran.
        case plain, chunked, closeDelimited, connectionClose, proxy, tls, tlsThroughProxy

        var serverArguments: [String] {
            switch self {
            case .chunked: return ["--chunked"]
            case .closeDelimited: return ["--close-delimited"]
            case .connectionClose: return ["--close"]
            default: return []
            }
        }
        var tls: Bool { self == .tls || self == .tlsThroughProxy }
        var proxied: Bool { self == .proxy || self == .tlsThroughProxy }
    }

    func faultsAreRetriedAndSecondPassIsServedFromCache(_ route: Route) async throws {
        let s = try server(["--hang-seconds", "3"] + route.serverArguments, tls: route.tls)
        var environment = s.trustEnvironment
        let forwarder = route.proxied ? try proxy() : nil
        if let forwarder { environment[route.tls ? "HTTPS_PROXY" : "http_proxy"] = forwarder.url }
        let markers = ["", "", "[[429x1]]", "[[500x2]]", "[[badjsonx1]]", "[[dropx1]]", "[[hangx1]]", "", "[[500x1]] [[429x2]]", "é 🍎"]
        let examples = (0..<30).map { i in
            Example(id: "train-\(i)", input: "Problem \(i) \(markers[i % markers.count])", label: "( 1 + 1 )")
        }
        let template = PromptTemplate(text: "Q: A worked example. The answer is ( 2 ).\n\nQ: {input}\nA:")
        let cache = InMemoryTeacherRequestCache()
        let counter = ProgressCounter()
        let c = config(s)
        let teacher = try OpenAITeacher(config: c, prompt: template, task: .svamp, parseMode: .paper, cache: cache,
                                        environment: environment, progress: { done, total in counter.record(done, total) })
        let start = Date()
        let annotations = try await teacher.annotate(examples)
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(annotations.map(\.id), examples.map(\.id))
        for (e, a) in zip(examples, annotations) {
            XCTAssertTrue(a.parsed, "\(route): \(a.raw)")
            XCTAssertEqual(a.label, expectedLabel(template.render(input: e.input)), "\(route): \(a.raw)")
        }
        let stats = try await s.stats()
        let faults = stats["faults"] as! [String: Int]
        let faultCount = faults.values.reduce(0, +)
        // 3 × (429 + 500×2 + badjson + drop + hang + 500 then 429) = 3 × 8 = 24 faulty attempts.
        XCTAssertEqual(faultCount, 24, "\(route): \(faults)")
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
        if let forwarder {
            let tunnels = try await forwarder.tunnels()
            XCTAssertGreaterThanOrEqual(tunnels, 1, "\(route): the requests went through the proxy")
        }

        // Second pass, new teacher, same cache: no request reaches the server.
        let again: Teacher = try OpenAITeacher(config: config(s), prompt: template, task: .svamp, cache: cache, environment: environment)
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
        XCTAssertEqual(RetryPolicy.retryAfterSeconds("3"), 3)
        XCTAssertNil(RetryPolicy.retryAfterSeconds("soon"))
        XCTAssertEqual(RetryPolicy.retryAfterSeconds("Wed, 21 Oct 2015 07:28:00 GMT"), 0)
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

    /// A response counts as answered only once committed: when `store` returns, another
    /// connection to the store already sees the row (a deferred commit would fail this).
    func testStoreCacheCommitsBeforeStoreReturns() async throws {
        let project = try TempProject()
        defer { project.remove() }
        let store = try Store(url: project.storeURL)
        let cache = StoreTeacherCache(store: store, model: "m", api: "chat")
        let reader = try Store(url: project.storeURL)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<20 {
                group.addTask {
                    try await cache.store(CachedTeacherResponse(text: "answer \(i)"), forKey: "key \(i)")
                    XCTAssertEqual(try reader.teacherResponse(key: Hashing.sha256Hex("key \(i)"))?.request, "key \(i)")
                }
            }
            try await group.waitForAll()
        }
        XCTAssertEqual(try reader.teacherRequestCount(), 20)
    }

    /// Keys computed by main's code before the transport changed (a `stepwise run` against the
    /// fake server; the store's `key` and `request` columns): the cache of existing stores must
    /// keep answering, so the key text and its hash are pinned byte for byte.
    func testCacheKeysArePinned() throws {
        let chat = OpenAITeacherConfig(baseURL: "http://127.0.0.1:1/v1", model: "gpt-x")
        let completions = OpenAITeacherConfig(baseURL: "http://127.0.0.1:1/v1", model: #"m/"odd""#, api: .completions,
                                              temperature: 0.7, maxTokens: 17, stop: ["\n\nQ:", #""x""#])
        let pinned: [(hash: String, request: String)] = [
            ("7fe8d5fc8d9261202f92f58c4f507aec3b39da8e9065e26e1461f19d5b27a9f9",
             #"{"api":"chat","max_tokens":256,"model":"gpt-x","prompt":"Q: é 🍎 \"quoted\" \\ back/slash\t64 stickers were shared equally by 8 children at the school. Zoe was one of the children. Later Zoe lost 3 of the stickers. How many stickers does Zoe have?\nA:","stop":[],"temperature":0,"v":1}"#),
            ("9f13887acba75b4dc1ed74b5a4b6a5997e8cce9d522722a7e8fc0d2e74474eb8",
             #"{"api":"chat","max_tokens":256,"model":"gpt-x","prompt":"Q: é 🍎 \"quoted\" \\ back/slash\tLuke got 6 apples at the orchard and found 8 more at home. How many apples does Luke have?\nA:","stop":[],"temperature":0,"v":1}"#),
            ("5a53cdbb2b7a20beeabb3c579cc0ed5076494d13fceb14aaeaf4688543c89377",
             #"{"api":"completions","max_tokens":17,"model":"m/\"odd\"","prompt":"Luke got 6 apples at the orchard and found 8 more at home. How many apples does Luke have?","stop":["\n\nQ:","\"x\""],"temperature":0.7,"v":1}"#),
            ("7bd165893a145bc61bc2f3e04ea1aa185ea6445040162c4acd03d7665fcecdd8",
             #"{"api":"completions","max_tokens":17,"model":"m/\"odd\"","prompt":"Sara has 2 plums at home. Mia collected 8 apples every day for 10 days. Then Mia gave 42 apples to Hana. How many apples does Mia have in all?","stop":["\n\nQ:","\"x\""],"temperature":0.7,"v":1}"#),
        ]
        for (i, p) in pinned.enumerated() {
            let fields = try JSONSerialization.jsonObject(with: Data(p.request.utf8)) as! [String: Any]
            let prompt = fields["prompt"] as! String
            let teacher = try OpenAITeacher(config: i < 2 ? chat : completions, prompt: PromptTemplate(text: "{input}"),
                                            task: .svamp, cache: nil)
            XCTAssertEqual(teacher.cacheKey(prompt: prompt), p.request)
            XCTAssertEqual(teacher.encodedCacheKey(prompt: prompt), p.request)
            XCTAssertEqual(Hashing.sha256Hex(teacher.cacheKey(prompt: prompt)), p.hash)
        }
    }
}
