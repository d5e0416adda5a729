import Foundation

/// The requests a download makes: to the hub (with the token) and to the CDN it redirects
/// large files to. Each origin gets its own `AsyncHTTPTransport`, with the proxy and trust roots
/// the environment gives for it (`TransportEnvironment`: `https_proxy`, `no_proxy`,
/// `SSL_CERT_FILE`). Connection failures, timeouts, dropped connections, 408, 429 and 5xx are
/// retried with `RetryPolicy`'s back-off; anything else is an answer for the caller.
final class HubHTTPClient: @unchecked Sendable {
    let endpoint: HubEndpoint
    private let environment: [String: String]
    private var transports: [String: AsyncHTTPTransport] = [:]
    private let lock = NSLock()
    let retry = RetryPolicy(maxRetries: 5, initialBackoff: 1, maxBackoff: 30)
    /// Seconds for a response head to arrive, and the longest silence within a body.
    static let timeout = 60.0

    init(endpoint: HubEndpoint, environment: [String: String]) {
        self.endpoint = endpoint
        self.environment = environment
    }

    func shutdown() {
        lock.lock(); defer { lock.unlock() }
        for t in transports.values { t.shutdown() }
        transports = [:]
    }

    func transport(for url: URL) throws -> AsyncHTTPTransport {
        let key = "\(url.scheme ?? "")://\(url.host ?? ""):\(url.port ?? -1)"
        lock.lock(); defer { lock.unlock() }
        if let t = transports[key] { return t }
        let settings: TransportEnvironment
        do {
            settings = try TransportEnvironment(for: url, environment: environment)
        } catch let e as TransportEnvironment.Invalid {
            throw StepwiseError(e.description)
        }
        let t = AsyncHTTPTransport(for: url, maxConnections: 2, timeout: Self.timeout, environment: settings)
        transports[key] = t
        return t
    }

    /// A body-less request; the token goes only to the hub itself.
    func request(_ method: String, _ url: URL, headers: [(name: String, value: String)] = []) -> HTTPRequest {
        var h = headers
        if let token = endpoint.token, endpoint.isHub(url) { h.append(("Authorization", "Bearer \(token)")) }
        return HTTPRequest(method: method, url: url, headers: h, body: Data(), timeout: Self.timeout)
    }

    /// An answer worth asking again for (408, 429, 5xx).
    struct ServerBusy: Error, CustomStringConvertible {
        let response: HTTPResponse
        let url: URL
        var description: String { "\(url.absoluteString) answered \(response.status)" }
    }

    /// Throws `ServerBusy` for an answer to retry.
    static func checkBusy(_ response: HTTPResponse, url: URL) throws {
        if [408, 429].contains(response.status) || (500...599).contains(response.status) {
            throw ServerBusy(response: response, url: url)
        }
    }

    /// Runs `attempt` again after transient failures (`ServerBusy`, retryable transport errors)
    /// with back-off, at most `retry.maxRetries` times; `what` names the work in the final error.
    func withRetries<T>(_ what: String, note: ((String) -> Void)? = nil,
                        _ attempt: () async throws -> T) async throws -> T {
        var failures = 0
        while true {
            do {
                return try await attempt()
            } catch {
                let serverDelay: Double?
                switch error {
                case let busy as ServerBusy: serverDelay = RetryPolicy.serverDelay(busy.response)
                case let t as HTTPTransportError where t.isRetryable: serverDelay = nil
                default: throw error
                }
                failures += 1
                guard failures <= retry.maxRetries else {
                    throw StepwiseError("\(what): \(error) (gave up after \(failures) attempts)")
                }
                let wait = retry.delay(afterAttempt: failures, serverDelay: serverDelay, random: Double.random(in: 0..<1))
                note?("\(what): \(error); retrying in \(String(format: "%.1f", wait)) s")
                try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
            }
        }
    }
}
