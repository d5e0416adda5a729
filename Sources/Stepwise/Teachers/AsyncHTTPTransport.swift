import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// `HTTPTransport` on AsyncHTTPClient (SwiftNIO) for one server, `http://` or `https://`:
/// a keep-alive connection pool of `maxConnections` HTTP/1.1 connections (or HTTP/2 when the
/// server offers it over TLS), a deadline per request, the proxy and trust roots the
/// environment names (`TransportEnvironment`), TLS with the system's trust store otherwise.
///
/// It sends each request once and says what happened; retrying is the teacher's decision.
/// Redirects are not followed (a POST should not silently move), as the OpenAI Python client
/// does not follow them either. A connection that cannot be opened fails at once
/// (`cannotConnect`) instead of being retried inside the pool until the deadline, so that the
/// teacher's back-off and attempt count apply to it as to every other failure.
final class AsyncHTTPTransport: HTTPTransport {
    /// Internal (not private) for the hub downloader's streaming extension.
    let client: HTTPClient
    /// For error messages: where requests go first (the proxy, if any).
    private let destination: String

    /// Larger bodies fail the request: a completion is a few kilobytes, with log-probabilities a
    /// few hundred.
    static let maxBodyBytes = 64 << 20

    /// `timeout` (seconds) bounds connecting and reading silences; each request's own deadline
    /// comes with the request.
    init(for url: URL, maxConnections: Int, timeout: Double, environment: TransportEnvironment) {
        var c = HTTPClient.Configuration()
        c.redirectConfiguration = .disallow
        let silence = TimeAmount.nanoseconds(Self.nanoseconds(timeout))
        c.timeout = .init(connect: min(silence, .seconds(10)), read: silence)
        c.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(1, maxConnections)
        c.connectionPool.retryConnectionEstablishment = false
        if let p = environment.proxy {
            switch p.kind {
            case .http:
                c.proxy = .server(host: p.host, port: p.port,
                                  authorization: p.username.map { .basic(username: $0, password: p.password ?? "") })
            case .socks5:
                c.proxy = .socksServer(host: p.host, port: p.port)
            }
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let file = environment.trustRootsFile { tls.trustRoots = .file(file) }
        c.tlsConfiguration = tls
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
        destination = environment.proxy.map { "proxy \($0.host):\($0.port)" }
            ?? "\(url.host ?? "?"):\(url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80))"
    }

    deinit {
        shutdown()
    }

    /// Idempotent; AsyncHTTPClient fails what is in flight, and later requests, with `cancelled`.
    func shutdown() {
        client.shutdown { _ in }
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let r = clientRequest(request)
        do {
            let response = try await client.execute(r, deadline: .now() + .nanoseconds(Self.nanoseconds(request.timeout)))
            let body = try await response.body.collect(upTo: Self.maxBodyBytes)
            return HTTPResponse(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                                body: Data(body.readableBytesView))
        } catch {
            throw translate(error)
        }
    }

    /// `request` as AsyncHTTPClient takes it.
    func clientRequest(_ request: HTTPRequest) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: request.url.absoluteString)
        r.method = HTTPMethod(rawValue: request.method)
        for h in request.headers {
            let lower = h.name.lowercased()
            if lower == "host" || lower == "content-length" { continue }
            r.headers.add(name: h.name, value: h.value)
        }
        if !r.headers.contains(name: "User-Agent") { r.headers.add(name: "User-Agent", value: "stepwise") }
        if !request.body.isEmpty || request.method != "GET" && request.method != "HEAD" { r.body = .bytes(request.body) }
        return r
    }

    /// Seconds as nanoseconds, saturating at a day per step (a longer wait is as good as forever).
    static func nanoseconds(_ seconds: Double) -> Int64 {
        guard seconds > 0 else { return 0 }
        return Int64(min(seconds, 86_400) * 1e9)
    }

    /// What the transport's error means for the teacher (see `HTTPTransportError`).
    func translate(_ error: Error) -> HTTPTransportError {
        if let e = error as? HTTPTransportError { return e }
        if error is CancellationError { return .cancelled }
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout,
                 .httpProxyHandshakeTimeout, .socksHandshakeTimeout, .getConnectionFromPoolTimeout:
                return .timedOut
            case .remoteConnectionClosed, .uncleanShutdown:
                return .connectionLost
            case .cancelled, .alreadyShutdown:
                return .cancelled
            case .proxyAuthenticationRequired:
                return .failed("the proxy \(destination) asks for credentials (407); put them in the proxy URL", retryable: false)
            case .invalidProxyResponse:
                return .cannotConnect("\(destination) refused to open a tunnel")
            case .invalidURL, .emptyHost, .emptyScheme, .traceRequestWithBody, .invalidRedirectConfiguration,
                 .invalidHTTPVersionConfiguration, .invalidProxyConfiguration:
                return .failed("request failed: \(e.shortDescription)", retryable: false)
            default:
                if e.description.contains("unsupportedScheme") || e.description.contains("invalidHeaderField") {
                    return .failed("request failed: \(e.shortDescription)", retryable: false)
                }
                return .failed("request failed: \(e.shortDescription)", retryable: true)
            }
        }
        if let e = error as? NIOSSLError {
            if case .uncleanShutdown = e { return .connectionLost }
            // A certificate the trust roots do not vouch for stays so on the next attempt.
            return .failed("TLS with \(destination) failed: \(e); a private or self-signed CA is trusted through SSL_CERT_FILE",
                           retryable: false)
        }
        if error is NIOSSLExtraError {
            return .failed("TLS with \(destination) failed: \(error)", retryable: false)
        }
        if error is NIOConnectionError { return .cannotConnect(destination) }
        if let e = error as? IOError {
            switch e.errnoCode {
            case ECONNRESET, EPIPE: return .connectionLost
            default: return .cannotConnect("\(destination): \(e)")
            }
        }
        if error is HTTPParserError { return .malformedResponse("\(error)") }
        if let e = error as? ChannelError, e == .eof || e == .ioOnClosedChannel || e == .outputClosed {
            return .connectionLost
        }
        if error is NIOTooManyBytesError {
            return .failed("response body over \(Self.maxBodyBytes >> 20) MiB", retryable: false)
        }
        return .failed("request failed: \(error)", retryable: true)
    }
}
