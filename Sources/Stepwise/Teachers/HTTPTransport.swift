import Foundation

/// One HTTP request as the OpenAI-compatible teacher sends it.
struct HTTPRequest: Sendable {
    var method = "POST"
    var url: URL
    /// Header names as written; `Host` and `Content-Length` are added by the transport.
    var headers: [(name: String, value: String)] = []
    var body: Data
    /// Seconds until the response head must have arrived (waiting for a connection, connecting,
    /// sending, the server's work); past it the request fails with `HTTPTransportError.timedOut`.
    /// The body may then be silent for at most this long between bytes.
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
    /// Bytes arrived that are not an HTTP response.
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

/// Sends requests to one server and hands back whole responses. The product's implementation is
/// `AsyncHTTPTransport` (AsyncHTTPClient on SwiftNIO: `http://` and `https://`, proxies, HTTP/2);
/// tests may put another behind the teacher.
protocol HTTPTransport: AnyObject, Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
    /// Fails what is in flight with `cancelled` and releases connections; later sends fail.
    func shutdown()
}
