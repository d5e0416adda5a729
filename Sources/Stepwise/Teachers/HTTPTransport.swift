import Foundation

/// One HTTP request as the OpenAI-compatible teacher sends it.
struct HTTPRequest: Sendable {
    var method = "POST"
    var url: URL
    /// Header names as written; `Host` and `Content-Length` are added by the transport.
    var headers: [(name: String, value: String)] = []
    var body: Data
    /// Seconds for the whole exchange (connecting, sending, waiting, reading); past it the
    /// request fails with `HTTPTransportError.timedOut`. The socket transport starts the clock
    /// when the request gets a connection, not while it waits for one.
    var timeout: Double
}

/// A complete HTTP response.
struct HTTPResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: Data

    /// The first value of a header, its name compared case-insensitively.
    func value(forHeader name: String) -> String? {
        headers.first { Self.equalIgnoringASCIICase($0.name, name) }?.value
    }

    /// Header names are ASCII and compared without regard to case.
    static func equalIgnoringASCIICase(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { x, y in
            x == y || (x | 0x20 == y | 0x20 && (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(x | 0x20))
        }
    }
}

/// Why an exchange produced no response. The teacher retries all of these but `cancelled` and
/// `failed(retryable: false)`, so a transport only has to say what happened, not what to do.
enum HTTPTransportError: Error, Equatable, CustomStringConvertible, Sendable {
    case timedOut
    /// The connection was closed or reset before a complete response arrived.
    case connectionLost
    case cannotConnect(String)
    /// Bytes arrived that are not an HTTP/1.x response.
    case malformedResponse(String)
    case cancelled
    case failed(String, retryable: Bool)

    var description: String {
        switch self {
        case .timedOut: return "timed out"
        case .connectionLost: return "connection lost"
        case .cannotConnect(let why): return "cannot connect" + (why.isEmpty ? "" : ": \(why)")
        case .malformedResponse(let why): return "malformed HTTP response: \(why)"
        case .cancelled: return "cancelled"
        case .failed(let why, _): return why
        }
    }

    var isRetryable: Bool {
        switch self {
        case .cancelled: return false
        case .failed(_, let retryable): return retryable
        default: return true
        }
    }
}

/// Sends requests to one server and hands back whole responses. Two implementations:
/// `SocketHTTPTransport` (plain `http://` on Linux: our own keep-alive HTTP/1.1 client, because
/// URLSession over libcurl cost the client about half a millisecond of CPU per request, which
/// capped a 2-core machine well below the rate a local inference server can answer at) and
/// `URLSessionTransport` (everything else, notably `https://`, which needs TLS).
protocol HTTPTransport: AnyObject, Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
    /// Fails what is in flight with `cancelled` and releases connections; later sends fail.
    func shutdown()
    /// How many requests a caller should keep handed over at once to keep `connections` busy.
    func requestsInHand(connections: Int) -> Int
}

extension HTTPTransport {
    func requestsInHand(connections: Int) -> Int { connections }
}

enum HTTPTransports {
    /// The transport for requests to `url`'s server, with at most `maxConnections` open at once.
    static func make(for url: URL, maxConnections: Int, timeout: Double) -> HTTPTransport {
        #if canImport(Glibc)
        if url.scheme?.lowercased() == "http", let host = url.host, !host.isEmpty {
            return SocketHTTPTransport(host: host, port: url.port ?? 80, maxConnections: maxConnections)
        }
        #endif
        return URLSessionTransport(maxConnections: maxConnections, timeout: timeout)
    }
}
