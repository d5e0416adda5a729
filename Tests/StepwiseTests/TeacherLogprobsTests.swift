import XCTest
@testable import Stepwise

/// Token log-probabilities (`logprobs: true`, `top_logprobs: k`): requested, parsed, cached, in
/// the cache key only when asked for; a server without them is a clear error and caches nothing.
final class TeacherLogprobsTests: FakeServerTestCase {

    func teacher(_ s: FakeOpenAIServer, api: OpenAITeacherConfig.API = .chat, logprobs: Bool = true, top: Int? = 3,
                 concurrency: Int = 2, cache: TeacherRequestCache? = nil) throws -> OpenAITeacher {
        try OpenAITeacher(config: OpenAITeacherConfig(baseURL: s.baseURL, model: "m", api: api, concurrency: concurrency,
                                                      timeout: 5, maxRetries: 2, initialBackoff: 0.01, logprobs: logprobs, topLogprobs: top),
                          prompt: PromptTemplate(text: "{input}"), task: .svamp, cache: cache)
    }

    /// What the fake server sends for a completion (see its module doc).
    func expected(_ text: String, top k: Int) -> [TokenLogprob] {
        let words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        let tokens = [words[0]] + words.dropFirst().map { " " + $0 }
        return tokens.enumerated().map { i, t in
            let lp = -0.25 * Double(i + 1) / Double(tokens.count + 1)
            var top: [TokenLogprob.Alternative] = []
            for j in 0..<k {
                let token: String = j == 0 ? t : "\(t)~\(j)"
                let logprob: Double = j == 0 ? lp : -Double(j + 1)
                top.append(TokenLogprob.Alternative(token: token, logprob: logprob))
            }
            return TokenLogprob(token: t, logprob: lp, top: top)
        }
    }

    func testChatAndCompletionsLogprobsAreParsedAndCached() async throws {
        let s = try server()
        for api in OpenAITeacherConfig.API.allCases {
            let cache = InMemoryTeacherRequestCache()
            let t = try teacher(s, api: api, cache: cache)
            let responses = try await t.complete(["two plus two", "three"])
            for r in responses {
                assertClose(r.logprobs, expected(r.text, top: 3), "\(api)")
            }
            let cached = try cache.cachedResponse(forKey: t.cacheKey(prompt: "three"))
            XCTAssertEqual(cached?.logprobs, responses[1].logprobs)
        }
        // Without top_logprobs: one log-probability per token, no alternatives.
        let plain = try await teacher(s, top: nil).complete("no alternatives")
        assertClose(plain.logprobs, expected(plain.text, top: 0), "no top")
    }

    /// Same tokens, log-probabilities equal to the last bits (Foundation's JSON number parsing
    /// on Linux may differ from Python's shortest repr in the last place).
    func assertClose(_ a: [TokenLogprob]?, _ b: [TokenLogprob], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let a else { return XCTFail("\(what): no logprobs", file: file, line: line) }
        XCTAssertEqual(a.map(\.token), b.map(\.token), what, file: file, line: line)
        XCTAssertEqual(a.map { $0.top.map(\.token) }, b.map { $0.top.map(\.token) }, what, file: file, line: line)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.logprob, y.logprob, accuracy: 1e-15, what, file: file, line: line)
            for (u, v) in zip(x.top, y.top) { XCTAssertEqual(u.logprob, v.logprob, accuracy: 1e-15, what, file: file, line: line) }
        }
    }

    func testLogprobsSurviveTheStore() async throws {
        let s = try server()
        let project = try TempProject()
        defer { project.remove() }
        let store = try Store(url: project.storeURL)
        let t = try teacher(s, cache: StoreTeacherCache(store: store, model: "m", api: "chat"))
        let r = try await t.complete("keep them")
        let reread = try StoreTeacherCache(store: try Store(url: project.storeURL), model: "m", api: "chat")
            .cachedResponse(forKey: t.cacheKey(prompt: "keep them"))
        XCTAssertEqual(reread, r)
        XCTAssertEqual(reread?.logprobs?.first?.top.count, 3)
    }

    func testKeyAndBodyCarryLogprobsOnlyWhenAsked() throws {
        let s = try server()
        let without = try teacher(s, logprobs: false, top: nil)
        let with = try teacher(s, logprobs: true, top: 3)
        let withoutTop = try teacher(s, logprobs: true, top: nil)
        XCTAssertFalse(without.cacheKey(prompt: "p").contains("logprobs"))
        XCTAssertTrue(with.cacheKey(prompt: "p").contains("\"logprobs\":true"))
        XCTAssertTrue(with.cacheKey(prompt: "p").contains("\"top_logprobs\":3"))
        XCTAssertEqual(Set([without, with, withoutTop].map { $0.cacheKey(prompt: "p") }).count, 3)
        for t in [without, with, withoutTop] { XCTAssertEqual(t.cacheKey(prompt: "p"), t.encodedCacheKey(prompt: "p")) }

        func body(_ t: OpenAITeacher) throws -> [String: Any] { try JSONSerialization.jsonObject(with: t.body("p")) as! [String: Any] }
        XCTAssertNil(try body(without)["logprobs"])
        XCTAssertEqual(try body(with)["logprobs"] as? Bool, true)
        XCTAssertEqual(try body(with)["top_logprobs"] as? Int, 3)
        XCTAssertNil(try body(withoutTop)["top_logprobs"])
        // The completions API takes the number of alternatives in `logprobs`.
        XCTAssertEqual(try body(teacher(s, api: .completions))["logprobs"] as? Int, 3)
        XCTAssertThrowsError(try teacher(s, logprobs: false, top: 2))
    }

    func testAServerWithoutLogprobsFailsOnTheFirstResponseAndCachesNothing() async throws {
        let s = try server(["--no-logprobs"])
        let cache = InMemoryTeacherRequestCache()
        let t = try teacher(s, concurrency: 1, cache: cache)
        do {
            _ = try await t.annotate((0..<5).map { Example(id: "test-\($0)", input: "q \($0)", label: "1") })
            XCTFail("expected an error")
        } catch let e as OpenAITeacherError {
            XCTAssertTrue(e.message.contains("log-probabilities"), e.description)
            XCTAssertTrue(e.message.contains("teacher.logprobs"), e.description)
            XCTAssertEqual(e.attempts, 1, "not retried")
        }
        XCTAssertEqual(cache.count, 0)
        let requests = try await s.requests()
        XCTAssertEqual(requests, 1)
    }

    func testSpecFields() throws {
        let project = try TempProject()
        defer { project.remove() }
        try "Q: {input}\nA:".write(to: project.root.appendingPathComponent("p.txt"), atomically: true, encoding: .utf8)
        func spec(_ extra: String) -> String {
            """
            name: lp
            dataset: {kind: synthetic-arith, train_size: 8, valid_size: 4, test_size: 4}
            teacher:
              kind: openai
              base_url: http://127.0.0.1:1/v1
              model: m
              prompt: p.txt
            \(extra)
            methods:
              few_shot_cot: {}
            """
        }
        let plain = try project.experiment(spec(""))
        XCTAssertNil(plain.teacher.logprobs)
        XCTAssertNil(plain.teacher.topLogprobs)
        XCTAssertEqual(try project.experiment(spec("  logprobs: false")).teacher.keyFields, plain.teacher.keyFields)
        let asked = try project.experiment(spec("  logprobs: true\n  top_logprobs: 5"))
        XCTAssertEqual(asked.teacher.logprobs, true)
        XCTAssertEqual(asked.teacher.topLogprobs, 5)
        XCTAssertNotEqual(asked.teacher.keyFields, plain.teacher.keyFields)

        for (extra, path, text, line) in [("  top_logprobs: 2", "teacher.top_logprobs", "logprobs: true", 8),
                                          ("  logprobs: true\n  top_logprobs: 21", "teacher.top_logprobs", "at most 20", 9),
                                          ("  logprobs: maybe", "teacher.logprobs", "true or false", 8)] {
            do {
                _ = try project.experiment(spec(extra))
                XCTFail("expected \(extra) to be rejected")
            } catch let e as SpecError {
                XCTAssertEqual(e.issues.count, 1, "\(e.issues)")
                XCTAssertEqual(e.issues.first?.path, path)
                XCTAssertEqual(e.issues.first?.line, line)
                XCTAssertTrue(e.issues.first?.message.contains(text) == true, "\(e.issues)")
            }
        }
    }
}
