import XCTest
@testable import Stepwise

/// `AsyncHTTPTransport` against the real fake server (Fixtures/fake_openai_server.py) and the
/// fixture proxy (Fixtures/forward_proxy.py): keep-alive reuse, body framings, connections the
/// server closes, timeouts, drops, cancellation, the bound on connections, TLS with a
/// self-signed certificate, proxies. The same faults through the whole teacher, on every route,
/// are in `TeacherOpenAITests.testFaultsAreRetriedAndSecondPassIsServedFromCache`.
final class TeacherTransportTests: FakeServerTestCase {

    func transport(_ s: FakeOpenAIServer, connections: Int = 2, environment: [String: String] = [:]) throws -> AsyncHTTPTransport {
        let url = URL(string: s.baseURL)!
        let t = AsyncHTTPTransport(for: url, maxConnections: connections, timeout: 5,
                                   environment: try TransportEnvironment(for: url, environment: s.trustEnvironment.merging(environment) { _, b in b }))
        addTeardownBlock { t.shutdown() }
        return t
    }

    func request(_ s: FakeOpenAIServer, _ prompt: String, timeout: Double = 5) throws -> HTTPRequest {
        let body = try JSONSerialization.data(withJSONObject: ["model": "m", "messages": [["role": "user", "content": prompt]]])
        return HTTPRequest(url: URL(string: s.baseURL + "/chat/completions")!,
                           headers: [("Content-Type", "application/json")], body: body, timeout: timeout)
    }

    /// Sends every prompt at once (one task each) and returns the completion texts in order.
    func sendAtOnce(_ prompts: [String], through t: HTTPTransport, to s: FakeOpenAIServer, timeout: Double = 5) async throws -> [String?] {
        try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for (i, p) in prompts.enumerated() {
                let r = try request(s, p, timeout: timeout)
                group.addTask { (i, self.text(try await t.send(r))) }
            }
            var out = [String?](repeating: nil, count: prompts.count)
            for try await (i, text) in group { out[i] = text }
            return out
        }
    }

    /// The completion text of a 200 response.
    func text(_ r: HTTPResponse) -> String? {
        r.status == 200 ? OpenAITeacher.parseBody(r.body, api: .chat)?.text : nil
    }

    func answer(_ prompt: String) -> String {
        "I read \(prompt.count) characters. The answer is ( \(prompt.count) + 1 )."
    }

    func expectError(_ expected: (HTTPTransportError) -> Bool, _ work: () async throws -> Void,
                     file: StaticString = #filePath, line: UInt = #line) async {
        do {
            try await work()
            XCTFail("expected an error", file: file, line: line)
        } catch let e as HTTPTransportError {
            XCTAssertTrue(expected(e), "\(e)", file: file, line: line)
        } catch {
            XCTFail("not an HTTPTransportError: \(error)", file: file, line: line)
        }
    }

    func testKeepAliveReusesOneConnection() async throws {
        let s = try server()
        let t = try transport(s, connections: 4)
        for i in 0..<20 {
            let r = try await t.send(request(s, "prompt \(i)"))
            XCTAssertEqual(text(r), answer("prompt \(i)"))
        }
        let stats = try await s.stats()
        XCTAssertEqual(stats["requests"] as? Int, 20)
        XCTAssertEqual(stats["connections"] as? Int, 2)   // ours and the one asking for stats
    }

    func testBodyFramings() async throws {
        for framing in [["--chunked"], ["--close"], ["--close-delimited"]] {
            let s = try server(framing)
            let t = try transport(s)
            for i in 0..<4 {
                let r = try await t.send(request(s, "frame me é 🍎 \(i)"))
                XCTAssertEqual(text(r), answer("frame me é 🍎 \(i)"), "\(framing)")
            }
            let retry = try await t.send(request(s, "later [[429x1]]"))
            XCTAssertEqual(retry.status, 429)
            XCTAssertEqual(retry.value(forHeader: "retry-after"), "1")
            let connections = try await s.stats()["connections"] as! Int
            // Chunked bodies keep the connection; the others end it with each response.
            XCTAssertEqual(connections, framing == ["--chunked"] ? 2 : 6, "\(framing)")
        }
    }

    func testIdleConnectionClosedByTheServerIsReplacedTransparently() async throws {
        let s = try server(["--idle-timeout", "0.2"])
        let t = try transport(s, connections: 1)
        for i in 0..<3 {
            let r = try await t.send(request(s, "after a pause \(i)"))
            XCTAssertEqual(text(r), answer("after a pause \(i)"))
            try await Task.sleep(nanoseconds: 500_000_000)   // the server closes the idle connection
        }
        let stats = try await s.stats()
        XCTAssertEqual(stats["requests"] as? Int, 3)
        XCTAssertEqual(stats["connections"] as? Int, 4)
    }

    /// Requests timed to meet the server's idle close (30 ms) head on. A request that loses the
    /// race fails as `connectionLost` (retryable: the teacher sends it again), never otherwise;
    /// and through the teacher none fails.
    func testRequestsRacingTheServersIdleClose() async throws {
        let s = try server(["--idle-timeout", "0.03"])
        let t = try transport(s, connections: 2)
        let r = try request(s, "race")
        let failures = try await withThrowingTaskGroup(of: [HTTPTransportError].self) { group in
            for _ in 0..<3 {
                group.addTask {
                    var failures: [HTTPTransportError] = []
                    for _ in 0..<60 {
                        try await Task.sleep(nanoseconds: UInt64.random(in: 28_000_000...32_000_000))
                        do { _ = try await t.send(r) } catch let e as HTTPTransportError { failures.append(e) }
                    }
                    return failures
                }
            }
            return try await group.reduce([], +)
        }
        XCTAssertTrue(failures.allSatisfy { $0 == .connectionLost }, "\(failures)")

        let teacher = try OpenAITeacher(config: OpenAITeacherConfig(baseURL: s.baseURL, model: "m", concurrency: 2, timeout: 2,
                                                                    maxRetries: 5, initialBackoff: 0.01, maxBackoff: 0.05),
                                        prompt: PromptTemplate(text: "{input}"), task: .svamp, cache: nil)
        for round in 0..<20 {
            try await Task.sleep(nanoseconds: UInt64.random(in: 28_000_000...32_000_000))
            let prompts = ["race a \(round)", "race b \(round)"]
            let texts = try await teacher.complete(prompts).map(\.text)
            XCTAssertEqual(texts, prompts.map(answer))
        }
    }

    func testHangTimesOutAndTheNextAttemptSucceeds() async throws {
        let s = try server(["--hang-seconds", "3"])
        let t = try transport(s)
        let start = Date()
        await expectError({ $0 == .timedOut }) { _ = try await t.send(self.request(s, "slow [[hangx1]]", timeout: 0.4)) }
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertGreaterThanOrEqual(elapsed, 0.35)
        XCTAssertLessThan(elapsed, 2)
        let r = try await t.send(request(s, "slow [[hangx1]]", timeout: 2))
        XCTAssertEqual(text(r), answer("slow [[hangx1]]"))
    }

    func testDroppedConnectionIsReportedNotResent() async throws {
        let s = try server()
        let t = try transport(s, connections: 1)
        _ = try await t.send(request(s, "warm up"))   // the drop below happens on a reused connection
        await expectError({ $0 == .connectionLost && $0.isRetryable }) { _ = try await t.send(self.request(s, "gone [[dropx1]]")) }
        let r = try await t.send(request(s, "gone [[dropx1]]"))
        XCTAssertEqual(text(r), answer("gone [[dropx1]]"))
        let requests = try await s.requests()
        XCTAssertEqual(requests, 3, "the transport never resends on its own")
    }

    func testCancellationAndShutdown() async throws {
        let s = try server(["--hang-seconds", "5"])
        let t = try transport(s)
        let hanging = try request(s, "wait [[hangx9]]", timeout: 10)
        let task = Task { try await t.send(hanging) }
        try await Task.sleep(nanoseconds: 200_000_000)
        let start = Date()
        task.cancel()
        await expectError({ $0 == .cancelled && !$0.isRetryable }) { _ = try await task.value }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)

        let second = Task { try await t.send(hanging) }
        try await Task.sleep(nanoseconds: 200_000_000)
        t.shutdown()
        await expectError({ $0 == .cancelled }) { _ = try await second.value }
        await expectError({ $0 == .cancelled }) { _ = try await t.send(self.request(s, "after shutdown")) }
    }

    /// A cancelled annotation stops at once with `CancellationError`, retrying nothing.
    func testTeacherCancellation() async throws {
        let s = try server(["--hang-seconds", "5"])
        let teacher = try OpenAITeacher(config: OpenAITeacherConfig(baseURL: s.baseURL, model: "m", concurrency: 2, timeout: 10),
                                        prompt: PromptTemplate(text: "{input}"), task: .svamp, cache: nil)
        let task = Task { try await teacher.complete(["a [[hangx9]]", "b [[hangx9]]", "c [[hangx9]]"]) }
        try await Task.sleep(nanoseconds: 300_000_000)
        let start = Date()
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("expected cancellation")
        } catch is CancellationError {
        } catch {
            XCTFail("expected CancellationError, got \(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        XCTAssertEqual(teacher.usage.retries, 0)
        XCTAssertEqual(teacher.usage.httpRequests, 2)
    }

    func testNobodyListening() async throws {
        let s = try server()
        s.stop()
        let t = try transport(s, connections: 1)
        let start = Date()
        await expectError({ e in
            guard case .cannotConnect(let why) = e else { return false }
            return why.contains("127.0.0.1:\(s.port)") && e.isRetryable
        }) { _ = try await t.send(self.request(s, "anyone?", timeout: 4)) }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2, "fails at once, not at the deadline")
    }

    func testRequestsInFlightAreBoundedByConnections() async throws {
        let s = try server(["--latency-ms", "100"])
        let t = try transport(s, connections: 3)
        let prompts = (0..<9).map { "parallel \($0)" }
        let texts = try await sendAtOnce(prompts, through: t, to: s)
        XCTAssertEqual(texts, prompts.map(answer))
        let stats = try await s.stats()
        XCTAssertEqual(stats["max_in_flight"] as? Int, 3)
        XCTAssertEqual(stats["connections"] as? Int, 4)   // three, and the one asking for stats
    }

    func testHeadersThatWouldSplitTheRequestAreRefused() async throws {
        let s = try server()
        let t = try transport(s)
        var r = try request(s, "x")
        r.headers.append(("Authorization", "Bearer k\r\nX-Evil: 1"))
        await expectError({ !$0.isRetryable }) { _ = try await t.send(r) }
        let requests = try await s.requests()
        XCTAssertEqual(requests, 0)
    }

    // MARK: - TLS

    func testHTTPSWithTheSelfSignedCertificateTrusted() async throws {
        let s = try server(tls: true)
        let t = try transport(s)
        let texts = try await sendAtOnce(["secure 1", "secure 2", "secure 3"], through: t, to: s)
        XCTAssertEqual(texts, ["secure 1", "secure 2", "secure 3"].map(answer))
    }

    func testHTTPSWithAnUntrustedCertificateFailsClearlyAndIsNotRetried() async throws {
        let s = try server(tls: true)
        // The system's trust store does not know the test's certificate.
        let url = URL(string: s.baseURL)!
        let t = AsyncHTTPTransport(for: url, maxConnections: 1, timeout: 5, environment: TransportEnvironment())
        defer { t.shutdown() }
        await expectError({ e in
            guard case .failed(let why, let retryable) = e else { return false }
            return !retryable && why.contains("TLS") && why.contains("SSL_CERT_FILE")
        }) { _ = try await t.send(self.request(s, "who are you")) }
        XCTAssertThrowsError(try TransportEnvironment(for: url, environment: ["SSL_CERT_FILE": "/no/such/ca.pem"])) { error in
            XCTAssertTrue("\(error)".contains("/no/such/ca.pem"), "\(error)")
        }
    }

    // MARK: - Proxies

    func testProxyFromTheEnvironmentAndNoProxy() async throws {
        let s = try server()
        let p = try proxy()
        let through = try transport(s, environment: ["HTTP_PROXY": p.url])
        let r = try await through.send(request(s, "via proxy"))
        XCTAssertEqual(text(r), answer("via proxy"))
        let tunnels = try await p.tunnels()
        XCTAssertEqual(tunnels, 1)

        let direct = try transport(s, environment: ["HTTP_PROXY": p.url, "NO_PROXY": "example.com, 127.0.0.1"])
        let r2 = try await direct.send(request(s, "around the proxy"))
        XCTAssertEqual(text(r2), answer("around the proxy"))
        let tunnelsAfter = try await p.tunnels()
        XCTAssertEqual(tunnelsAfter, 1, "NO_PROXY sends 127.0.0.1 directly")
    }

    func testProxyCredentialsFromTheURL() async throws {
        let s = try server()
        let p = try proxy(["--require-auth", "user:pa ss"])
        let ok = try transport(s, environment: ["http_proxy": "http://user:pa%20ss@127.0.0.1:\(p.port)"])
        let r = try await ok.send(request(s, "with credentials"))
        XCTAssertEqual(text(r), answer("with credentials"))
        let refused = try transport(s, environment: ["http_proxy": p.url])
        await expectError({ e in
            guard case .failed(let why, let retryable) = e else { return false }
            return !retryable && why.contains("407")
        }) { _ = try await refused.send(self.request(s, "without")) }
    }
}
