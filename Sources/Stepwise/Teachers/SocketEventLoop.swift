#if canImport(Glibc)
import Foundation
import Glibc

/// The connections behind `SocketHTTPTransport` and the thread that serves them.
///
/// Who does what. A task that sends a request takes an idle keep-alive connection, if there is
/// one, and writes the request itself: in a burst of responses the next requests go out from the
/// tasks' own threads, in parallel, without waking this thread. Everything else is the loop
/// thread's: reading responses (it polls every connection), opening connections for requests that
/// found none idle, finishing writes that did not go out at once, deadlines, cancellation, and
/// resuming the tasks. A connection's `phase` says who owns it, and changes only under `lock`.
///
/// Reuse. A server may close a keep-alive connection while it sits idle (uvicorn, which serves
/// vLLM, does so after 5 s). Idle connections stay in the poll set, so such a close is seen and
/// the connection dropped, and a task looks (a non-blocking peek) before writing on one. In the
/// remaining race the server closes just as the request goes out: the write fails, the server's
/// kernel resets the connection because the request was never read, or the server's FIN arrives
/// without acknowledging the request. Then, once per request, the request is sent again on a
/// fresh connection without the caller noticing. A connection the
/// server closes after taking the request (its FIN acknowledges the request) is reported as
/// `connectionLost` and not resent here: the server may have done the (paid) work, so that is
/// for the caller's retry policy to decide, with its back-off.
final class SocketEventLoop: @unchecked Sendable {
    private enum Phase {
        /// Loop: waiting for a non-blocking connect.
        case connecting
        /// Loop: writing a request that did not go out at once.
        case loopWriting
        /// A sending task is writing its request.
        case callerWriting
        /// Loop: the request is out; reading the response.
        case reading
        /// In `idle`, ready for a request.
        case idle
        /// Found unusable by a task; the loop closes it.
        case dead
        case closed
    }

    private final class Connection {
        let fd: Int32
        /// Guarded by the loop's lock.
        var phase: Phase
        var job: SocketJob?
        // Owned by whoever owns the phase.
        var written = 0
        var parser = HTTPResponseParser()
        /// Responses completed on this connection; > 0 means it is being reused.
        var served = 0
        /// Which resolved address it connects to, and how many more to try if that fails.
        let address: Int
        let addressesLeft: Int

        init(fd: Int32, job: SocketJob, address: Int, addressesLeft: Int) {
            self.fd = fd
            self.phase = .connecting
            self.job = job
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

    private let lock = NSLock()
    // Guarded by `lock`.
    private var incoming: [SocketJob] = []
    private var cancellations: [SocketJob] = []
    private var idle: [Connection] = []
    private var started = false
    /// Shutdown was asked for; the loop tears down at its next turn.
    private var stopping = false
    /// The loop has torn down: a task still writing closes its own connection.
    private var stopped = false
    /// The loop is in (or about to enter) `poll` until `plannedWake` unless woken via the pipe.
    private var sleeping = false
    private var plannedWake = UInt64.max
    private var wakeRead: Int32 = -1
    private var wakeWrite: Int32 = -1
    private var stats = SocketHTTPStatistics()

    // Loop thread only.
    private var waiting: [SocketJob] = []
    private var connections: [Connection] = []
    /// Cancellations of requests a task was still writing: tried again next turn.
    private var deferredCancellations: [SocketJob] = []
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

    // MARK: - Sending tasks

    func submit(_ job: SocketJob, continuation: CheckedContinuation<HTTPResponse, Error>) {
        lock.lock()
        if stopping || (!started && !start()) {
            lock.unlock()
            continuation.resume(throwing: HTTPTransportError.cancelled)
            return
        }
        job.continuation = continuation
        while !job.cancelRequested, let c = idle.popLast() {
            c.phase = .callerWriting
            c.job = job
            job.startClock()
            lock.unlock()
            if Self.isOpen(c.fd) {
                write(job, on: c)
                return
            }
            lock.lock()
            c.phase = .dead   // the loop closes it
            c.job = nil
        }
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

    /// Whether an idle connection is still open: no end of stream, error or stray bytes waiting.
    private static func isOpen(_ fd: Int32) -> Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }

    /// A task writes its request on the idle connection it took, then hands the connection to the
    /// loop: to read the response, or to finish (or fail) the write.
    private func write(_ job: SocketJob, on c: Connection) {
        var written = 0
        let total = job.bytes.count
        while written < total {
            let n = job.bytes.withUnsafeBytes { Glibc.send(c.fd, $0.baseAddress! + written, total - written, Int32(MSG_NOSIGNAL)) }
            if n > 0 { written += n } else if n < 0 && errno == EINTR { continue } else { break }
        }
        lock.lock()
        if stopped {
            // The loop is gone: this task still owns the connection and the request.
            c.phase = .closed
            c.job = nil
            lock.unlock()
            close(c.fd)
            finish(job, .failure(HTTPTransportError.cancelled))
            return
        }
        c.written = written
        if written == total {
            c.phase = .reading
            stats.requestsWritten += 1
            // The loop already polls this socket (it was idle); only an earlier deadline than
            // the one it sleeps until needs it awake.
            if job.deadline < plannedWake { wakeLocked() }
        } else {
            // The socket is full or broken: the loop finishes the write or reports the failure.
            c.phase = .loopWriting
            wakeLocked()
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

    /// Makes the loop look at the shared state again soon. Called with the lock held.
    private func wakeLocked() {
        guard sleeping, !stopped else { return }
        sleeping = false
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWrite, &byte, 1)
    }

    /// Resumes the task waiting for `job`, once; by whoever owns the job at that moment.
    private func finish(_ job: SocketJob, _ result: Result<HTTPResponse, Error>) {
        guard let continuation = job.continuation else { return }
        job.continuation = nil
        continuation.resume(with: result)
    }

    private func setPhase(_ c: Connection, _ phase: Phase) {
        lock.lock()
        c.phase = phase
        lock.unlock()
    }

    private func phase(of c: Connection) -> Phase {
        lock.lock(); defer { lock.unlock() }
        return c.phase
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
            let cancelled = cancellations + deferredCancellations
            incoming.removeAll(keepingCapacity: true)
            cancellations.removeAll(keepingCapacity: true)
            let freshCancelled = fresh.map(\.cancelRequested)
            lock.unlock()
            deferredCancellations.removeAll()

            for job in cancelled { cancelJob(job) }
            for (job, isCancelled) in zip(fresh, freshCancelled) {
                if isCancelled { finish(job, .failure(HTTPTransportError.cancelled)) } else { waiting.append(job) }
            }
            expireDeadlines()
            assignWaitingJobs()

            // Close what tasks found dead; forget what is closed; watch the rest.
            pollSet.removeAll(keepingCapacity: true)
            polled.removeAll(keepingCapacity: true)
            pollSet.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
            var nextDeadline = UInt64.max
            for job in waiting { nextDeadline = min(nextDeadline, job.deadline) }
            var dead: [Int32] = []
            lock.lock()
            for c in connections {
                if c.phase == .dead {
                    c.phase = .closed
                    dead.append(c.fd)
                }
            }
            connections.removeAll { $0.phase == .closed }
            for c in connections {
                let events: Int32
                switch c.phase {
                case .connecting, .loopWriting: events = Int32(POLLOUT)
                // A task's connection is watched too, so that its response is seen without a wake.
                case .reading, .idle, .callerWriting: events = Int32(POLLIN)
                case .dead, .closed: continue
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
            if stopping || !incoming.isEmpty || !cancellations.isEmpty || !deferredCancellations.isEmpty {
                timeout = 0
            } else {
                sleeping = true
                plannedWake = nextDeadline
            }
            lock.unlock()
            for fd in dead { close(fd) }

            let n = poll(&pollSet, nfds_t(pollSet.count), timeout)
            if n < 0 { continue }   // EINTR
            if pollSet[0].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 64)
                while read(wakeRead, &drain, drain.count) > 0 {}
            }
            for (i, c) in polled.enumerated() where pollSet[i + 1].revents != 0 {
                switch phase(of: c) {
                case .connecting: connected(c)
                case .loopWriting: writeRequest(c)
                case .reading: readResponse(c)
                case .idle: idleReadable(c)
                case .callerWriting, .dead, .closed: break
                }
            }
        }
        tearDown()
    }

    private func tearDown() {
        var failing = waiting
        var closing: [Int32] = []
        waiting.removeAll()
        lock.lock()
        stopped = true
        sleeping = false
        failing += incoming
        incoming.removeAll()
        cancellations.removeAll()
        idle.removeAll()
        for c in connections {
            switch c.phase {
            case .callerWriting, .closed:
                continue   // a writing task closes its own
            default:
                if let job = c.job { failing.append(job) }
                c.job = nil
                c.phase = .closed
                closing.append(c.fd)
            }
        }
        connections.removeAll()
        close(wakeRead)
        close(wakeWrite)
        wakeRead = -1
        wakeWrite = -1
        lock.unlock()
        for fd in closing { close(fd) }
        for job in failing { finish(job, .failure(HTTPTransportError.cancelled)) }
    }

    private func cancelJob(_ job: SocketJob) {
        if let i = waiting.firstIndex(where: { $0 === job }) {
            waiting.remove(at: i)
            finish(job, .failure(HTTPTransportError.cancelled))
            return
        }
        lock.lock()
        guard let c = connections.first(where: { $0.job === job }) else {
            lock.unlock()
            return   // answered already, or still in `incoming` (then failed when taken)
        }
        if c.phase == .callerWriting {
            lock.unlock()
            deferredCancellations.append(job)   // its task is mid-write; next turn
            return
        }
        c.job = nil
        lock.unlock()
        drop(c)
        finish(job, .failure(HTTPTransportError.cancelled))
    }

    private func expireDeadlines() {
        let now = Monotonic.now()
        if waiting.contains(where: { $0.deadline <= now }) {
            let expired = waiting.filter { $0.deadline <= now }
            waiting.removeAll { $0.deadline <= now }
            for job in expired { finish(job, .failure(HTTPTransportError.timedOut)) }
        }
        var expired: [(Connection, SocketJob)] = []
        lock.lock()
        for c in connections {
            guard let job = c.job, job.deadline <= now else { continue }
            switch c.phase {
            case .connecting, .loopWriting, .reading:
                c.job = nil
                expired.append((c, job))
            default:
                continue
            }
        }
        lock.unlock()
        for (c, job) in expired {
            drop(c)
            finish(job, .failure(HTTPTransportError.timedOut))
        }
    }

    /// Requests that found no idle connection, in order: on an idle one if there is one now, else
    /// on a new connection while there is room. A request being resent always gets a new one.
    private func assignWaitingJobs() {
        lock.lock()
        var open = connections.lazy.filter { $0.phase != .closed && $0.phase != .dead }.count
        lock.unlock()
        var next = 0
        defer { waiting.removeFirst(next) }
        while next < waiting.count {
            let job = waiting[next]
            var reused: Connection?
            if !job.resent {
                lock.lock()
                reused = idle.popLast()
                if let c = reused {
                    c.phase = .loopWriting
                    c.job = job
                }
                lock.unlock()
            }
            if let c = reused {
                if !Self.isOpen(c.fd) {
                    c.job = nil
                    drop(c)
                    open -= 1
                    continue
                }
                next += 1
                c.written = 0
                job.startClock()
                writeRequest(c)
            } else if open < maxConnections {
                next += 1
                job.startClock()
                if connect(for: job) { open += 1 }
            } else if job.resent, let spare = takeIdle() {
                drop(spare)   // room for the fresh connection a resend needs
                open -= 1
            } else {
                return
            }
        }
    }

    // MARK: - Connections (loop thread)

    private func takeIdle() -> Connection? {
        lock.lock(); defer { lock.unlock() }
        guard let c = idle.popLast() else { return nil }
        c.phase = .loopWriting   // the loop's now
        return c
    }

    /// Closes a connection the loop owns (taking it out of `idle` if it is there).
    /// Closes a connection that failed, handing back the request it carried (if any) so the
    /// caller can retry it elsewhere or fail it.
    private func dropTakingJob(_ c: Connection) -> SocketJob? {
        lock.lock()
        let job = c.job
        c.job = nil
        lock.unlock()
        drop(c)
        return job
    }

    private func drop(_ c: Connection) {
        lock.lock()
        if c.phase == .closed { lock.unlock(); return }
        if c.phase == .idle, let i = idle.firstIndex(where: { $0 === c }) { idle.remove(at: i) }
        c.phase = .closed
        lock.unlock()
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
                    let c = Connection(fd: fd, job: job, address: index, addressesLeft: left)
                    lock.lock(); connections.append(c); lock.unlock()
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
            guard let job = dropTakingJob(c) else { return }
            if c.addressesLeft > 0 {
                connect(for: job, address: c.address + 1, tries: c.addressesLeft)
            } else {
                addresses = []
                finish(job, .failure(HTTPTransportError.cannotConnect("\(host):\(port): \(String(cString: strerror(error)))")))
            }
            return
        }
        preferredAddress = c.address
        c.written = 0
        setPhase(c, .loopWriting)
        writeRequest(c)
    }

    private func writeRequest(_ c: Connection) {
        lock.lock()
        let job = c.job
        lock.unlock()
        guard let job else { drop(c); return }
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
            if n < 0 && (e == EAGAIN || e == EWOULDBLOCK) { return }   // POLLOUT says when
            lost(c, serverRefused: true)
            return
        }
        lock.lock()
        c.phase = .reading
        stats.requestsWritten += 1
        lock.unlock()
    }

    private func readResponse(_ c: Connection) {
        lock.lock()
        let job = c.job
        lock.unlock()
        guard let job else { drop(c); return }
        while true {
            let n = scratch.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 {
                let response: HTTPResponse?
                do {
                    response = try scratch.withUnsafeBytes { try c.parser.feed(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
                } catch {
                    detach(c)
                    drop(c)
                    finish(job, .failure(HTTPTransportError.malformedResponse("\(error)")))
                    return
                }
                if let response {
                    if c.parser.keepAlive && !c.parser.hasUnconsumedBytes {
                        // Ready for the next request before anyone can take it.
                        c.served += 1
                        c.parser.reset()
                        lock.lock()
                        c.job = nil
                        c.phase = .idle
                        idle.append(c)
                        lock.unlock()
                    } else {
                        detach(c)
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
                // A reset (EPIPE once the server's FIN is in) before any byte of a response:
                // the server closed the socket with our request unread.
                lost(c, serverRefused: (e == ECONNRESET || e == EPIPE) && !c.parser.receivedAny)
                return
            }
            // End of stream: completes a response that runs until close, else the request is lost.
            if let response = try? c.parser.finish() {
                detach(c)
                drop(c)
                finish(job, .success(response))
            } else {
                lost(c, serverRefused: !c.parser.receivedAny && (!Self.acknowledged(c.fd) || Self.wasReset(c.fd)))
            }
            return
        }
    }

    /// Whether the peer's kernel acknowledged everything we sent. A server's FIN acknowledges
    /// all it received before closing; if our request is still unacknowledged when the FIN
    /// arrives, the server closed the (idle) connection before our request got there.
    /// Whether the peer answered our bytes with a reset: it had closed the socket before they
    /// arrived (its FIN and our request crossed), so it never read them. Needed beside
    /// `acknowledged`: once the reset is processed the kernel forgets the unacknowledged bytes,
    /// and the FIN that came first still reads as a plain end of stream. (Seen as a
    /// `connectionLost` in about 1 of 10 runs of testRequestsRacingTheServersIdleCloseAreResent.)
    private static func wasReset(_ fd: Int32) -> Bool {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else { return false }
        return error == ECONNRESET || error == EPIPE
    }

    private static func acknowledged(_ fd: Int32) -> Bool {
        var info = tcp_info()
        var length = socklen_t(MemoryLayout<tcp_info>.size)
        guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0 else { return true }
        return info.tcpi_unacked == 0
    }

    private func detach(_ c: Connection) {
        lock.lock()
        c.job = nil
        lock.unlock()
    }

    /// The connection broke before a response. `serverRefused`: the write failed or the server
    /// reset the connection before sending a byte, i.e. it did not take the request.
    private func lost(_ c: Connection, serverRefused: Bool) {
        guard let job = dropTakingJob(c) else { return }
        // A fresh connection counts too: if this process was descheduled between connecting and
        // writing for longer than the server's idle timeout (seen on a loaded 2-core machine),
        // the server closed it before the request arrived, exactly as with a reused one.
        if serverRefused && !job.resent {
            job.resent = true
            lock.lock(); stats.resends += 1; lock.unlock()
            waiting.insert(job, at: 0)   // assigned at the top of the next turn of the loop
        } else {
            finish(job, .failure(HTTPTransportError.connectionLost))
        }
    }

    /// An idle connection became readable: the server closed it (or sent something unasked).
    /// Unless a task has just taken it: then its response is on the way and the task owns it.
    private func idleReadable(_ c: Connection) {
        lock.lock()
        guard c.phase == .idle else { lock.unlock(); return }
        if let i = idle.firstIndex(where: { $0 === c }) { idle.remove(at: i) }
        c.phase = .closed
        lock.unlock()
        close(c.fd)
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
