import XCTest
@testable import Stepwise

/// The retry rules (`RetryPolicy`) and what the environment says about proxies and trust
/// (`TransportEnvironment`), without a server.
final class TeacherRetryAndEnvironmentTests: XCTestCase {

    func response(_ status: Int, _ headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers.map { (name: $0.0, value: $0.1) }, body: Data())
    }

    func testWhichAnswersAreRetried() {
        for status in [408, 409, 429, 500, 502, 503, 599] {
            XCTAssertTrue(RetryPolicy.shouldRetry(response(status)), "\(status)")
        }
        for status in [400, 401, 403, 404, 422, 301] {
            XCTAssertFalse(RetryPolicy.shouldRetry(response(status)), "\(status)")
        }
        // The server's word wins either way, as in the OpenAI Python client.
        XCTAssertTrue(RetryPolicy.shouldRetry(response(400, [("X-Should-Retry", "true")])))
        XCTAssertFalse(RetryPolicy.shouldRetry(response(503, [("x-should-retry", "false")])))
    }

    func testServerDelay() {
        XCTAssertEqual(RetryPolicy.serverDelay(response(429, [("Retry-After", "3")])), 3)
        XCTAssertEqual(RetryPolicy.serverDelay(response(429, [("retry-after-ms", "250"), ("Retry-After", "3")])), 0.25)
        XCTAssertNil(RetryPolicy.serverDelay(response(429)))
        XCTAssertEqual(RetryPolicy.retryAfterSeconds("3"), 3)
        XCTAssertNil(RetryPolicy.retryAfterSeconds("soon"))
        XCTAssertNil(RetryPolicy.retryAfterSeconds("-1"))
        XCTAssertEqual(RetryPolicy.retryAfterSeconds("Wed, 21 Oct 2015 07:28:00 GMT"), 0)
    }

    func testBackoff() {
        let p = RetryPolicy(maxRetries: 5, initialBackoff: 0.5, maxBackoff: 8)
        // Equal jitter: between half and all of 0.5 · 2^(attempt-1), capped.
        XCTAssertEqual(p.delay(afterAttempt: 1, serverDelay: nil, random: 0), 0.25)
        XCTAssertEqual(p.delay(afterAttempt: 3, serverDelay: nil, random: 0.999), 2 * (0.5 + 0.5 * 0.999), accuracy: 1e-12)
        XCTAssertEqual(p.delay(afterAttempt: 10, serverDelay: nil, random: 1), 8)
        // The server's delay, capped at maxBackoff, plus at most 5 %.
        XCTAssertEqual(p.delay(afterAttempt: 1, serverDelay: 2, random: 0), 2)
        XCTAssertEqual(p.delay(afterAttempt: 1, serverDelay: 2, random: 1), 2.1, accuracy: 1e-12)
        XCTAssertEqual(p.delay(afterAttempt: 1, serverDelay: 100, random: 0), 8)
    }

    func env(_ url: String, _ variables: [String: String]) throws -> TransportEnvironment {
        try TransportEnvironment(for: URL(string: url)!, environment: variables)
    }

    func testProxyVariables() throws {
        let http = TransportEnvironment.Proxy(kind: .http, host: "proxy.corp", port: 3128)
        XCTAssertEqual(try env("http://h:8000/v1", ["HTTP_PROXY": "http://proxy.corp:3128"]).proxy, http)
        XCTAssertEqual(try env("http://h:8000/v1", ["http_proxy": "proxy.corp:3128"]).proxy, http)   // bare host:port
        XCTAssertNil(try env("https://h/v1", ["HTTP_PROXY": "http://proxy.corp:3128"]).proxy)   // the other scheme's
        XCTAssertEqual(try env("https://h/v1", ["HTTPS_PROXY": "http://proxy.corp:3128"]).proxy, http)
        XCTAssertEqual(try env("https://h/v1", ["ALL_PROXY": "http://proxy.corp:3128"]).proxy, http)
        // Lower case wins; an empty lower-case value means no proxy.
        XCTAssertEqual(try env("http://h/v1", ["http_proxy": "http://proxy.corp:3128", "HTTP_PROXY": "http://other:1"]).proxy, http)
        XCTAssertNil(try env("http://h/v1", ["http_proxy": "", "HTTP_PROXY": "http://other:1"]).proxy)
        XCTAssertEqual(try env("http://h/v1", ["HTTP_PROXY": "http://u%40x:p%3As@proxy.corp"]).proxy,
                       TransportEnvironment.Proxy(kind: .http, host: "proxy.corp", port: 80, username: "u@x", password: "p:s"))
        XCTAssertEqual(try env("http://h/v1", ["HTTP_PROXY": "socks5://127.0.0.1"]).proxy,
                       TransportEnvironment.Proxy(kind: .socks5, host: "127.0.0.1", port: 1080))
        XCTAssertThrowsError(try env("http://h/v1", ["HTTP_PROXY": "https://proxy.corp:443"])) { error in
            XCTAssertTrue("\(error)".contains("HTTP_PROXY"), "\(error)")
        }
    }

    func testNoProxy() throws {
        let proxy = ["HTTP_PROXY": "http://proxy.corp:3128"]
        func bypassed(_ url: String, _ noProxy: String) throws -> Bool {
            try env(url, proxy.merging(["NO_PROXY": noProxy]) { _, b in b }).proxy == nil
        }
        XCTAssertTrue(try bypassed("http://api.internal/v1", "localhost,api.internal"))
        XCTAssertTrue(try bypassed("http://gpu1.cluster.local/v1", ".cluster.local"))
        XCTAssertTrue(try bypassed("http://gpu1.cluster.local/v1", "cluster.local"))
        XCTAssertFalse(try bypassed("http://notcluster.local/v1", "cluster.local"))
        XCTAssertTrue(try bypassed("http://10.0.0.5:8000/v1", "10.0.0.5:8000"))
        XCTAssertFalse(try bypassed("http://10.0.0.5:9000/v1", "10.0.0.5:8000"))
        XCTAssertTrue(try bypassed("http://[::1]:8000/v1", "[::1]"))
        XCTAssertTrue(try bypassed("http://anything/v1", "*"))
        XCTAssertFalse(try bypassed("http://h/v1", ""))
        XCTAssertNil(try env("http://h/v1", proxy.merging(["no_proxy": "h"]) { _, b in b }).proxy)
    }
}
