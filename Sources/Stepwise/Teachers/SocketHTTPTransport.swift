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
/// All sockets are served by one thread (`SocketEventLoop`) that waits in `poll` and resumes
/// the waiting tasks; `send` only formats the request and queues it. Requests in flight at
/// most: `maxConnections` (one per connection, no pipelining); the rest wait in order.
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

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let job = SocketJob(bytes: try serialize(request),
                            deadline: Monotonic.now() &+ Monotonic.nanoseconds(request.timeout))
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
    let deadline: UInt64
    /// Set by `cancel` under the loop's lock.
    var cancelRequested = false
    /// Set by `submit` under the loop's lock; from then on only the loop thread touches the
    /// fields below, so the continuation is resumed exactly once, by that thread.
    var continuation: CheckedContinuation<HTTPResponse, Error>?
    var resent = false

    init(bytes: [UInt8], deadline: UInt64) {
        self.bytes = bytes
        self.deadline = deadline
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

/// The thread behind `SocketHTTPTransport`: owns the connections, writes requests, reads
/// responses, enforces deadlines and cancellation, and resumes each request's continuation.
///
/// Connection reuse. A server may close a keep-alive connection while it sits idle (uvicorn,
/// which serves vLLM, does so after 5 s). Idle connections stay in the poll set, so such a close
/// is seen and the connection dropped before it is used again. In the remaining race (the server
/// closes just as a request goes out) the write fails, or the server's kernel answers with a
/// reset because the request was never read: then, once per request and only on a reused
/// connection, the request is sent again on a fresh connection without the caller noticing. A
/// connection that the server closes cleanly after taking the request is reported as
/// `connectionLost` and not resent here: the server may have done the (paid) work, so that is
/// for the caller's retry policy to decide, with its back-off.
final class SocketEventLoop: @unchecked Sendable {
    private enum State {
        case connecting, writing, reading, idle
    }

    private final class Connection {
        let fd: Int32
        var state: State
        var job: SocketJob?
        var written = 0
        var parser = HTTPResponseParser()
        /// Responses completed on this connection; > 0 means it is being reused.
        var served = 0
        /// Which resolved address it connects to, and how many more to try if that fails.
        var address: Int
        var addressesLeft: Int
        var closed = false

        init(fd: Int32, state: State, address: Int, addressesLeft: Int) {
            self.fd = fd
            self.state = state
            self.address = address
            self.addressesLeft = addressesLeft
        }
    }

    private struct Address {
        var storage: sockaddr_storage
        var length: socklen_t
        var family: Int32
    }

    private let host: String
    private let port: Int
    private let maxConnections: Int

    // Guarded by `lock`: what other threads hand over.
    private let lock = NSLock()
    private var incoming: [SocketJob] = []
    private var cancellations: [SocketJob] = []
    private var stopping = false
    private var started = false
    /// The loop is in (or about to enter) `poll` and must be woken through the pipe.
    private var sleeping = false
    private var wakeRead: Int32 = -1
    private var wakeWrite: Int32 = -1
    private var stats = SocketHTTPStatistics()

    // Loop thread only.
    private var waiting: [SocketJob] = []
    private var connections: [Connection] = []
    private var addresses: [Address] = []
    private var preferredAddress = 0
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)

    init(host: String, port: Int, maxConnections: Int) {
        self.host = host
        self.port = port
        self.maxConnections = maxConnections
    }

    var statistics: SocketHTTPStatistics {
        lock.lock(); defer { lock.unlock() }
        return stats
    }

    // MARK: - Other threads

    func submit(_ job: SocketJob, continuation: CheckedContinuation<HTTPResponse, Error>) {
        lock.lock()
        if stopping || (!started && !start()) {
            lock.unlock()
            continuation.resume(throwing: HTTPTransportError.cancelled)
            return
        }
        job.continuation = continuation
        incoming.append(job)
        wakeLocked()
        lock.unlock()
    }

    func cancel(_ job: SocketJob) {
        lock.lock()
        job.cancelRequested = true
        if started && !stopping {
            cancellations.append(job)
            wakeLocked()
        }
        lock.unlock()
    }

    func shutdown() {
        lock.lock()
        if !stopping {
            stopping = true
            if started { wakeLocked() }
        }
        lock.unlock()
    }

    /// Starts the thread on first use (a teacher that only answers from the cache never needs
    /// one). Called with the lock held; false if the wake pipe cannot be made.
    private func start() -> Bool {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return false }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        started = true
        let thread = Thread { [self] in run() }
        thread.name = "stepwise-http \(host):\(port)"
        thread.start()
        return true
    }

    private func wakeLocked() {
        guard sleeping else { return }
        sleeping = false
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    // MARK: - The loop

    private func run() {
        var pollSet: [pollfd] = []
        var polled: [Connection] = []
        while true {
            lock.lock()
            sleeping = false
            if stopping { lock.unlock(); break }
            let fresh = incoming
            let cancelled = cancellations
            incoming.removeAll(keepingCapacity: true)
            cancellations.removeAll(keepingCapacity: true)
            let freshCancelled = fresh.map(\.cancelRequested)
            lock.unlock()

            for job in cancelled { cancelJob(job) }
            for (job, isCancelled) in zip(fresh, freshCancelled) {
                if isCancelled { finish(job, .failure(HTTPTransportError.cancelled)) } else { waiting.append(job) }
            }
            expireDeadlines()
            assignWaitingJobs()
            connections.removeAll { $0.closed }

            pollSet.removeAll(keepingCapacity: true)
            polled.removeAll(keepingCapacity: true)
            pollSet.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
            var nextDeadline = UInt64.max
            for job in waiting { nextDeadline = min(nextDeadline, job.deadline) }
            for c in connections {
                let events: Int32
                switch c.state {
                case .connecting, .writing: events = Int32(POLLOUT)
                case .reading, .idle: events = Int32(POLLIN)
                }
                pollSet.append(pollfd(fd: c.fd, events: Int16(events), revents: 0))
                polled.append(c)
                if let job = c.job { nextDeadline = min(nextDeadline, job.deadline) }
            }
            var timeout: Int32 = -1
            if nextDeadline != .max {
                let now = Monotonic.now()
                let ms = nextDeadline > now ? (nextDeadline - now + 999_999) / 1_000_000 : 0
                timeout = Int32(min(ms, 60_000))
            }
            lock.lock()
            if stopping || !incoming.isEmpty || !cancellations.isEmpty { timeout = 0 } else { sleeping = true }
            lock.unlock()

            let n = poll(&pollSet, nfds_t(pollSet.count), timeout)
            if n < 0 { continue }   // EINTR
            if pollSet[0].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 64)
                while read(wakeRead, &drain, drain.count) > 0 {}
            }
            for (i, c) in polled.enumerated() {
                let revents = Int32(pollSet[i + 1].revents)
                guard revents != 0, !c.closed else { continue }
                switch c.state {
                case .connecting: connected(c)
                case .writing: writeRequest(c)
                case .reading: readResponse(c)
                case .idle: idleReadable(c)
                }
            }
        }
        tearDown()
    }

    private func tearDown() {
        lock.lock()
        let fresh = incoming
        incoming.removeAll()
        cancellations.removeAll()
        lock.unlock()
        for job in waiting + fresh { finish(job, .failure(HTTPTransportError.cancelled)) }
        waiting.removeAll()
        for c in connections {
            if let job = c.job { finish(job, .failure(HTTPTransportError.cancelled)) }
            close(c.fd)
        }
        connections.removeAll()
        lock.lock()
        close(wakeRead)
        close(wakeWrite)
        wakeRead = -1
        wakeWrite = -1
        lock.unlock()
    }

    private func finish(_ job: SocketJob, _ result: Result<HTTPResponse, Error>) {
        guard let continuation = job.continuation else { return }
        job.continuation = nil
        continuation.resume(with: result)
    }

    private func cancelJob(_ job: SocketJob) {
        guard job.continuation != nil else { return }   // already answered
        if let i = waiting.firstIndex(where: { $0 === job }) {
            waiting.remove(at: i)
        } else if let c = connections.first(where: { $0.job === job }) {
            c.job = nil
            drop(c)
        }
        finish(job, .failure(HTTPTransportError.cancelled))
    }

    private func expireDeadlines() {
        let now = Monotonic.now()
        if waiting.contains(where: { $0.deadline <= now }) {
            let expired = waiting.filter { $0.deadline <= now }
            waiting.removeAll { $0.deadline <= now }
            for job in expired { finish(job, .failure(HTTPTransportError.timedOut)) }
        }
        for c in connections where !c.closed {
            if let job = c.job, job.deadline <= now {
                c.job = nil
                drop(c)
                finish(job, .failure(HTTPTransportError.timedOut))
            }
        }
    }

    private func assignWaitingJobs() {
        var next = 0
        defer { waiting.removeFirst(next) }
        for c in connections where !c.closed && c.state == .idle {
            guard next < waiting.count else { return }
            let job = waiting[next]
            next += 1
            begin(job, on: c)
        }
        var open = connections.lazy.filter { !$0.closed }.count
        while next < waiting.count && open < maxConnections {
            let job = waiting[next]
            next += 1
            if connect(for: job) { open += 1 }
        }
    }

    // MARK: - Connections

    private func begin(_ job: SocketJob, on c: Connection) {
        c.job = job
        c.written = 0
        c.parser.reset()
        c.state = .writing
        writeRequest(c)
    }

    private func drop(_ c: Connection) {
        guard !c.closed else { return }
        c.closed = true
        close(c.fd)
    }

    /// Opens a connection for `job` (resolving the host on first use); false, with the job
    /// failed, when no socket could be started.
    @discardableResult
    private func connect(for job: SocketJob, address start: Int? = nil, tries: Int? = nil) -> Bool {
        if addresses.isEmpty {
            switch resolve() {
            case .success(let list): addresses = list
            case .failure(let error):
                finish(job, .failure(error))
                return false
            }
        }
        var index = (start ?? preferredAddress) % addresses.count
        var left = tries ?? addresses.count
        var lastError: Int32 = 0
        while left > 0 {
            left -= 1
            var a = addresses[index]
            lock.lock(); stats.connectionsOpened += 1; lock.unlock()
            let fd = socket(a.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd >= 0 {
                var one: Int32 = 1
                _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                let rc = withUnsafePointer(to: &a.storage) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, a.length) }
                }
                if rc == 0 || errno == EINPROGRESS {
                    let c = Connection(fd: fd, state: .connecting, address: index, addressesLeft: left)
                    c.job = job
                    connections.append(c)
                    if rc == 0 { connected(c) }
                    return true
                }
                lastError = errno
                close(fd)
            } else {
                lastError = errno
            }
            index = (index + 1) % addresses.count
        }
        addresses = []   // resolve again next time: the server may have moved
        finish(job, .failure(HTTPTransportError.cannotConnect("\(host):\(port): \(String(cString: strerror(lastError)))")))
        return false
    }

    private func connected(_ c: Connection) {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 { error = errno }
        guard error == 0 else {
            // Refused or unreachable: the next address, if the host has another.
            drop(c)
            guard let job = c.job else { return }
            c.job = nil
            if c.addressesLeft > 0 {
                connect(for: job, address: c.address + 1, tries: c.addressesLeft)
            } else {
                addresses = []
                finish(job, .failure(HTTPTransportError.cannotConnect("\(host):\(port): \(String(cString: strerror(error)))")))
            }
            return
        }
        preferredAddress = c.address
        c.state = .writing
        writeRequest(c)
    }

    private func writeRequest(_ c: Connection) {
        guard let job = c.job else { return }
        let total = job.bytes.count
        while c.written < total {
            let n = job.bytes.withUnsafeBytes { buf in
                Glibc.send(c.fd, buf.baseAddress! + c.written, total - c.written, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                c.written += n
                continue
            }
            let e = errno
            if n < 0 && e == EINTR { continue }
            if n < 0 && (e == EAGAIN || e == EWOULDBLOCK) {
                c.state = .writing
                return
            }
            lost(c, serverRefused: true)
            return
        }
        lock.lock(); stats.requestsWritten += 1; lock.unlock()
        c.state = .reading
    }

    private func readResponse(_ c: Connection) {
        guard let job = c.job else { drop(c); return }
        while true {
            let n = scratch.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 {
                let response: HTTPResponse?
                do {
                    response = try scratch.withUnsafeBytes { try c.parser.feed(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
                } catch {
                    c.job = nil
                    drop(c)
                    finish(job, .failure(HTTPTransportError.malformedResponse("\(error)")))
                    return
                }
                if let response {
                    c.job = nil
                    if c.parser.keepAlive && !c.parser.hasUnconsumedBytes {
                        c.served += 1
                        c.state = .idle
                    } else {
                        drop(c)
                    }
                    finish(job, .success(response))
                    return
                }
                // A short read means the socket is drained; poll says when more arrives.
                if n < scratch.count { return }
                continue
            }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                if e == EAGAIN || e == EWOULDBLOCK { return }
                lost(c, serverRefused: e == ECONNRESET && !c.parser.receivedAny)
                return
            }
            // End of stream: completes a response that runs until close, else the request is lost.
            c.job = nil
            drop(c)
            if let response = try? c.parser.finish() {
                finish(job, .success(response))
            } else {
                finish(job, .failure(HTTPTransportError.connectionLost))
            }
            return
        }
    }

    /// The connection broke before a response. `serverRefused`: the write failed or the server
    /// reset the connection before sending a byte, i.e. it did not take the request.
    private func lost(_ c: Connection, serverRefused: Bool) {
        guard let job = c.job else { drop(c); return }
        c.job = nil
        drop(c)
        if serverRefused && c.served > 0 && !job.resent {
            job.resent = true
            lock.lock(); stats.resends += 1; lock.unlock()
            waiting.insert(job, at: 0)   // assigned at the top of the next turn of the loop
        } else {
            finish(job, .failure(HTTPTransportError.connectionLost))
        }
    }

    /// An idle connection became readable: the server closed it (or sent something unasked).
    private func idleReadable(_ c: Connection) {
        drop(c)
    }

    private func resolve() -> Result<[Address], HTTPTransportError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            return .failure(.cannotConnect("cannot resolve \(host): \(String(cString: gai_strerror(rc)))"))
        }
        defer { freeaddrinfo(first) }
        var out: [Address] = []
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let info = p {
            if let addr = info.pointee.ai_addr, info.pointee.ai_addrlen <= socklen_t(MemoryLayout<sockaddr_storage>.size) {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { dst in
                    dst.copyMemory(from: UnsafeRawBufferPointer(start: addr, count: Int(info.pointee.ai_addrlen)))
                }
                out.append(Address(storage: storage, length: info.pointee.ai_addrlen, family: info.pointee.ai_family))
            }
            p = info.pointee.ai_next
        }
        guard !out.isEmpty else { return .failure(.cannotConnect("cannot resolve \(host)")) }
        preferredAddress = 0
        return .success(out)
    }
}
#endif
