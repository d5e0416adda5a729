#if canImport(Glibc)
import XCTest
@testable import Stepwise

/// SocketHTTPTransport against the real fake server (Fixtures/fake_openai_server.py): keep-alive
/// reuse, chunked bodies, Connection: close, connections the server closes, timeouts, drops,
/// cancellation, the bound on connections.
final class TeacherSocketTransportTests: FakeServerTestCase {

    func request(_ s: FakeOpenAIServer, _ prompt: String, timeout: Double = 5) throws -> HTTPRequest {
        let body = try JSONSerialization.data(withJSONObject: ["model": "m", "messages": [["role": "user", "content": prompt]]])
        return HTTPRequest(url: URL(string: "http://127.0.0.1:\(s.port)/v1/chat/completions")!,
                           headers: [("Content-Type", "application/json")], body: body, timeout: timeout)
    }

    /// Sends every prompt at once (one task each) and returns the completion texts in order.
    func sendAtOnce(_ prompts: [String], through t: SocketHTTPTransport, to s: FakeOpenAIServer,
                    timeout: Double = 5) async throws -> [String?] {
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

    func testKeepAliveReusesOneConnection() async throws {
        let s = try server()
        let t = SocketHTTPTransport(host: "127.0.0.1", port: s.port, maxConnections: 4)
        for i in 0..<20 {
            let r = try await t.send(request(s, "prompt \(i)"))
            XCTAssertEqual(text(r), answer("prompt \(i)"))
        }
        XCTAssertEqual(t.statistics, SocketHTTPStatistics(connectionsOpened: 1, requestsWritten: 20, resends: 0))
        let stats = try await s.stats()
        XCTAssertEqual(stats["requests"] as? Int, 20)
        XCTAssertEqual(stats["connections"] as? Int, 2)   // ours and the one asking for stats
    }

    func testChunkedResponses() async throws {
        let s = try server(["--chunked"])
        let t = SocketHTTPTransport(host: "127.0.0.1", port: s.port, maxConnections: 2)
        for i in 0..<5 {
            let r = try await t.send(request(s, "chunk me é 🍎 \(i)"))
            XCTAssertEqual(text(r), answer("chunk me é 🍎 \(i)"))
        }
        let retry = try await t.send(request(s, "later [[429x1]]"))
        XCTAssertEqual(retry.status, 429)
        XCTAssertEqual(retry.value(forHeader: "retry-after"), "1")
        XCTAssertEqual(t.statistics.connectionsOpened, 1)

        // The whole teacher over chunked bodies, faults included.
        let teacher = try OpenAITeacher(config: OpenAITeacherConfig(baseURL: s.baseURL, model: "m", concurrency: 3, timeout: 2,
                                                                    maxRetries: 3, initialBackoff: 0.01, maxBackoff: 0.1),
                                        prompt: PromptTemplate(text: "{input}"), task: .svamp, cache: nil)
        let prompts = ["a [[500x1]]", "b [[badjsonx1]]", "c", "d [[dropx1]]"]
        let responses = try await teacher.complete(prompts)
        XCTAssertEqual(responses.map(\.text), prompts.map(answer))
        XCTAssertEqual(teacher.usage.retries, 3)
    }

    func testConnectionCloseOpensAConnectionPerRequest() async throws {
        let s = try server(["--close"])
        let t = SocketHTTPTransport(host: "127.0.0.1", port: s.port, maxConnections: 2)
        for i in 0..<5 {
            let r = try await t.send(request(s, "one-off \(i)"))
            XCTAssertEqual(text(r), answer("one-off \(i)"))
            XCTAssertEqual(r.value(forHeader: "Connection"), "close")
        }
        XCTAssertEqual(t.statistics, SocketHTTPStatistics(connectionsOpened: 5, requestsWritten: 5, resends: 0))
    }

    func testIdleConnectionClosedByTheServerIsReplacedTransparently() async throws {
        let s = try server(["--idle-timeout", "0.2"])
        let t = SocketHTTPTransport(host: "127.0.0.1", port: s.port, maxConnections: 1)
        for i in 0..<3 {
            let r = try await t.send(request(s, "after a pause \(i)"))
            XCTAssertEqual(text(r), answer("after a pause \(i)"))
            try await Task.sleep(nanoseconds: 500_000_000)   // the server closes the idle connection
        }
        XCTAssertEqual(t.statistics.connectionsOpened, 3)
        XCTAssertEqual(t.statistics.requestsWritten, 3)
        let requests = try await s.requests()
        XCTAssertEqual(requests, 3)
    }

    /// Requests timed to meet the server's idle close (30 ms) head on: whichever side of the
    /// race each lands on, none may fail (the server never took them).
    func testRequestsRacingTheServersIdleCloseAreResent() async throws {
        let s = try server(["--idle-timeout", "0.03"])
        let t = SocketHTTPTransport(host: "127.0.0.1", port: s.port, maxConnections: 2)
        let r = try request(s, "race")
        let failures = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<3 {
                group.addTask {
                    var failures: [String] = []
                    for _ in 0..<100 {
                        try await Task.sleep(nanoseconds: UInt64.random(in: 28_000_000...32_000_000))
                        do { _ = try await t.send(r) } catch { failures.append("\(error)") }
                    }
                    return failures
                }
            }
            return try await group.reduce([], +)
        }
        XCTAssertEqual(failures, [])
        XCTAssertEqual(t.statistics.requestsWritten, 300 + t.statistics.resends)
    }

    func testHangTimesOutAndTheNextAttemptSucceeds() async throws {
        let s = try server(["--hang-seconds", "3"])
        let t = SocketHTTPTransport(host: "127.0.0.1", port: s.port, maxConnections: 2)
        let start = Date()
        do {
            _ = try await t.send(request(s, "slow [[hangx1]]", timeout: 0.4))
            XCTFail("expected a timeout")
        } catch let e as HTTPTransportError {
            XCTAssertEqual(e, .timedOut)
        }
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertGreaterThanOrEqual(elapsed, 0.35)
        XCTAssertLessThan(elapsed, 2)
        let r = try await t.send(request(s, "slow [[hangx1]]", timeout: 2))
        XCTAssertEqual(text(r), answer("slow [[hangx1]]"))
    }

    func testDroppedConnectionIsReportedNotResent() async throws {
        let s = try server()
        let t = SocketHTTPTransport(host: "127.0.0.1", port: s.port, maxConnections: 1)
        _ = try await t.send(request(s, "warm up"))   // the drop below happens on a reused connection
        do {
            _ = try await t.send(request(s, "gone [[dropx1]]"))
            XCTFail("expected connectionLost")
        } catch let e as HTTPTransportError {
            XCTAssertEqual(e, .connectionLost)
        }
        XCTAssertEqual(t.statistics.resends, 0)   // the server took the request: not ours to resend
        let r = try await t.send(request(s, "gone [[dropx1]]"))
        XCTAssertEqual(text(r), answer("gone [[dropx1]]"))
        let requests = try await s.requests()
        XCTAssertEqual(requests, 3)
    }

    func testCancellationAndShutdown() async throws {
        let s = try server(["--hang-seconds", "5"])
        let t = SocketHTTPTransport(host: "127.0.0.1", port: s.port, maxConnections: 2)
        let hanging = try request(s, "wait [[hangx9]]", timeout: 10)
        let task = Task { try await t.send(hanging) }
        try await Task.sleep(nanoseconds: 200_000_000)
        let start = Date()
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("expected cancellation")
        } catch let e as HTTPTransportError {
            XCTAssertEqual(e, .cancelled)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)

        let second = Task { try await t.send(hanging) }
        try await Task.sleep(nanoseconds: 200_000_000)
        t.shutdown()
        do {
            _ = try await second.value
            XCTFail("expected cancellation")
        } catch let e as HTTPTransportError {
            XCTAssertEqual(e, .cancelled)
        }
        do {
            _ = try await t.send(request(s, "after shutdown"))
            XCTFail("expected cancellation")
        } catch let e as HTTPTransportError {
            XCTAssertEqual(e, .cancelled)
        }
    }

    func testNobodyListening() async throws {
        let s = try server()
        let port = s.port
        s.stop()
        let t = SocketHTTPTransport(host: "localhost", port: port, maxConnections: 1)
        do {
            _ = try await t.send(HTTPRequest(url: URL(string: "http://localhost:\(port)/v1/completions")!, body: Data("{}".utf8), timeout: 2))
            XCTFail("expected cannotConnect")
        } catch let e as HTTPTransportError {
            guard case .cannotConnect(let why) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(why.contains("localhost:\(port)"), why)
            XCTAssertTrue(e.isRetryable)
        }
    }

    /// A request queued behind others (all connections busy) gets its whole timeout once it is
    /// on a connection: six 150 ms requests through one connection take 0.9 s, and each one's
    /// 0.5 s timeout still holds.
    func testTimeoutStartsWhenTheRequestGetsAConnection() async throws {
        let s = try server(["--latency-ms", "150"])
        let t = SocketHTTPTransport(host: "127.0.0.1", port: s.port, maxConnections: 1)
        let prompts = (0..<6).map { "queued \($0)" }
        let texts = try await sendAtOnce(prompts, through: t, to: s, timeout: 0.5)
        XCTAssertEqual(texts, prompts.map(answer))
        XCTAssertEqual(t.statistics.connectionsOpened, 1)
    }

    func testRequestsInFlightAreBoundedByConnections() async throws {
        let s = try server(["--latency-ms", "100"])
        let t = SocketHTTPTransport(host: "127.0.0.1", port: s.port, maxConnections: 3)
        let prompts = (0..<9).map { "parallel \($0)" }
        let texts = try await sendAtOnce(prompts, through: t, to: s)
        XCTAssertEqual(texts, prompts.map(answer))
        XCTAssertEqual(t.statistics.connectionsOpened, 3)
        let maxInFlight = try await s.stats()["max_in_flight"] as! Int
        XCTAssertEqual(maxInFlight, 3)
    }

    func testHeadersAreValidatedAndFramed() throws {
        let t = SocketHTTPTransport(host: "::1", port: 8080, maxConnections: 1)
        let bytes = try t.serialize(HTTPRequest(url: URL(string: "http://[::1]:8080/v1/chat/completions?x=a%20b")!,
                                                headers: [("Authorization", "Bearer k"), ("Content-Length", "999")],
                                                body: Data("{}".utf8), timeout: 1))
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self),
                       "POST /v1/chat/completions?x=a%20b HTTP/1.1\r\nHost: [::1]:8080\r\nAuthorization: Bearer k\r\n"
                       + "User-Agent: stepwise\r\nContent-Length: 2\r\n\r\n{}")
        XCTAssertThrowsError(try t.serialize(HTTPRequest(url: URL(string: "http://[::1]:8080/")!,
                                                         headers: [("Authorization", "Bearer k\r\nX-Evil: 1")],
                                                         body: Data(), timeout: 1)))
    }
}
#endif
