#if canImport(Glibc)
import Foundation
import Glibc

/// Counters for tests and diagnostics.
struct SocketHTTPStatistics: Equatable, Sendable {
    /// TCP connections opened (successfully or not).
    var connectionsOpened = 0
    /// Requests written out in full, resends included.
    var requestsWritten = 0
    /// Requests sent again on a fresh connection because a reused one turned out to be dead
    /// before the server took the request (see `SocketEventLoop`).
    var resends = 0
}

/// A plain-HTTP/1.1 keep-alive client over POSIX sockets for one server (`http://host:port`).
///
/// Why not URLSession: on Linux it runs on libcurl through FoundationNetworking, and at a
/// thousand requests a second its dispatch sources, timers and callbacks cost more CPU than
/// everything else in annotation; on a 2-core machine that shares the CPU with a local server
/// it held the teacher benchmark near 65 % of what the server's latency allows. Local inference
/// servers (vLLM, llama.cpp, Ollama) speak plain HTTP/1.1, so a small client is enough for
/// them; `https://` stays on URLSession.
///
/// `send` formats the request and writes it on an idle keep-alive connection itself when there
/// is one; one thread (`SocketEventLoop`) reads every response, opens connections, enforces
/// deadlines and resumes the waiting tasks. Requests in flight at most: `maxConnections` (one per
/// connection, no pipelining); the rest wait in order.
final class SocketHTTPTransport: HTTPTransport, @unchecked Sendable {
    let host: String
    let port: Int
    private let hostHeader: String
    private let loop: SocketEventLoop

    init(host: String, port: Int, maxConnections: Int) {
        // URL.host may keep the brackets of an IPv6 literal; getaddrinfo wants it bare.
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.host = bare
        self.port = port
        hostHeader = (bare.contains(":") ? "[\(bare)]" : bare) + (port == 80 ? "" : ":\(port)")
        loop = SocketEventLoop(host: bare, port: port, maxConnections: max(1, maxConnections))
    }

    deinit {
        loop.shutdown()
    }

    func shutdown() {
        loop.shutdown()
    }

    var statistics: SocketHTTPStatistics { loop.statistics }

    /// Twice the connections: the loop starts a queued request on a connection the moment its
    /// previous response is read, on its own thread, so the next request goes out without
    /// waiting for the caller's task to be scheduled, parse the response and build the next one
    /// (on 2 cores that turnaround was most of what kept the teacher benchmark from the
    /// server's latency bound). A queued request's timeout starts when it gets a connection.
    func requestsInHand(connections: Int) -> Int { 2 * connections }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let job = SocketJob(bytes: try serialize(request), timeout: Monotonic.nanoseconds(request.timeout))
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                loop.submit(job, continuation: continuation)
            }
        } onCancel: {
            loop.cancel(job)
        }
    }

    /// The request's bytes: request line, headers, body. `Host` and `Content-Length` are ours.
    func serialize(_ request: HTTPRequest) throws -> [UInt8] {
        guard let components = URLComponents(url: request.url, resolvingAgainstBaseURL: false) else {
            throw HTTPTransportError.failed("request failed: bad URL \(request.url)", retryable: false)
        }
        var target = components.percentEncodedPath
        if target.isEmpty { target = "/" }
        if let query = components.percentEncodedQuery { target += "?" + query }
        var head = "\(request.method) \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\n"
        var userAgent = false
        for h in request.headers {
            // A CR or LF in a header would let a value (say, an API key with a stray newline)
            // forge headers or split the request.
            guard !h.name.isEmpty, !h.name.utf8.contains(where: { $0 <= 32 || $0 == UInt8(ascii: ":") || $0 >= 127 }),
                  !h.value.utf8.contains(where: { $0 == 10 || $0 == 13 || $0 == 0 }) else {
                throw HTTPTransportError.failed("request failed: invalid header \(h.name)", retryable: false)
            }
            let lower = h.name.lowercased()
            if lower == "host" || lower == "content-length" { continue }
            if lower == "user-agent" { userAgent = true }
            head += "\(h.name): \(h.value)\r\n"
        }
        if !userAgent { head += "User-Agent: stepwise\r\n" }
        head += "Content-Length: \(request.body.count)\r\n\r\n"
        var bytes = [UInt8]()
        bytes.reserveCapacity(head.utf8.count + request.body.count)
        bytes.append(contentsOf: head.utf8)
        bytes.append(contentsOf: request.body)
        return bytes
    }
}

/// One request waiting for, or travelling on, a connection.
final class SocketJob: @unchecked Sendable {
    let bytes: [UInt8]
    /// `Monotonic.now()` time past which the request fails with `timedOut`.
    /// Nanoseconds the exchange may take once it has a connection.
    let timeout: UInt64
    /// `Monotonic.now()` time past which the request fails with `timedOut`: `.max` while it waits
    /// for a connection (waiting is bounded by the requests ahead of it, which time out
    /// themselves), set when it gets one and kept when it is resent. Set by whoever puts the job
    /// on a connection: the submitting task under the loop's lock, or the loop, which owns
    /// waiting jobs.
    var deadline = UInt64.max
    /// Set by `cancel` under the loop's lock.
    var cancelRequested = false
    /// Set by `submit` under the loop's lock; from then on the fields below belong to whoever
    /// owns the request (the loop thread, or the task while it writes the request itself), so
    /// the continuation is resumed exactly once.
    var continuation: CheckedContinuation<HTTPResponse, Error>?
    var resent = false

    init(bytes: [UInt8], timeout: UInt64) {
        self.bytes = bytes
        self.timeout = timeout
    }

    /// Starts the clock when the request gets a connection (first time only).
    func startClock() {
        if deadline == .max { deadline = Monotonic.now() &+ timeout }
    }
}

enum Monotonic {
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Seconds as nanoseconds, saturating (a timeout of a year is as good as forever).
    static func nanoseconds(_ seconds: Double) -> UInt64 {
        guard seconds > 0 else { return 0 }
        return seconds >= 1e9 ? 1_000_000_000 * 1_000_000_000 : UInt64(seconds * 1e9)
    }
}

#endif
