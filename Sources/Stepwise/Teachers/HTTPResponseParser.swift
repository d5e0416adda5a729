import Foundation

extension Substring {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    fileprivate func trimmingASCIISpaces() -> String {
        let u = utf8
        var lo = u.startIndex, hi = u.endIndex
        func space(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        while lo < hi, space(u[lo]) { lo = u.index(after: lo) }
        while hi > lo, space(u[u.index(before: hi)]) { hi = u.index(before: hi) }
        return String(decoding: u[lo..<hi], as: UTF8.self)
    }
}

/// Reads one HTTP/1.x response from the bytes of a connection as they arrive, for
/// `SocketHTTPTransport`. Kept apart from the socket code so that framing (Content-Length,
/// chunked transfer coding, read-until-close) can be tested on byte strings.
///
/// Feed bytes with `feed`; it returns the response once the last byte of it is in. At end of
/// stream call `finish`, which completes a response whose body runs until the connection closes.
/// Interim 1xx responses are skipped.
struct HTTPResponseParser {
    enum Failure: Error, Equatable {
        case malformed(String)
    }

    /// How the body of the current response is delimited (RFC 9112 §6.3).
    private enum Framing {
        case length(Int)
        case chunked
        case untilClose
    }

    private enum State {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
    }

    /// Limits against a runaway peer: a head larger than this is not an inference server's.
    static let maxHeadBytes = 64 * 1024
    static let maxBodyBytes = 256 * 1024 * 1024

    private var buffer: [UInt8] = []
    /// Bytes of `buffer` already consumed.
    private var cursor = 0
    /// Where to resume looking for the end of the head, so a head arriving in pieces is scanned once.
    private var headScan = 0
    private var state = State.head
    private var status = 0
    private var headers: [(name: String, value: String)] = []
    private var body: [UInt8] = []
    private var http11 = true
    private var closeAfter = false

    /// Whether any byte of a response has arrived since the parser was made or last reset.
    private(set) var receivedAny = false
    /// After a complete response: whether the connection may carry another request.
    private(set) var keepAlive = false

    /// Ready for the next response on the same connection. Bytes the server sent beyond the
    /// previous response (none, from a server that waits for the next request) are kept;
    /// `feed([])` parses them.
    mutating func reset() {
        buffer.removeFirst(cursor)
        cursor = 0
        headScan = 0
        state = .head
        status = 0
        headers = []
        body = []
        http11 = true
        closeAfter = false
        receivedAny = !buffer.isEmpty
        keepAlive = false
    }

    /// Whether bytes beyond the last complete response are waiting.
    var hasUnconsumedBytes: Bool { cursor < buffer.count }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) throws -> HTTPResponse? {
        if !bytes.isEmpty { receivedAny = true }
        buffer.append(contentsOf: bytes)
        return try advance()
    }

    mutating func feed(_ bytes: [UInt8]) throws -> HTTPResponse? {
        try bytes.withUnsafeBytes { try feed($0) }
    }

    /// End of stream: the response if the connection closing completes it, else nil when
    /// nothing of a response arrived; throws when a response was cut short.
    mutating func finish() throws -> HTTPResponse? {
        if case .untilClose = state {
            body.append(contentsOf: buffer[cursor...])
            cursor = buffer.count
            keepAlive = false
            return complete()
        }
        if !receivedAny { return nil }
        throw Failure.malformed("connection closed in the middle of a response")
    }

    // MARK: - Steps

    private mutating func advance() throws -> HTTPResponse? {
        while true {
            switch state {
            case .head:
                guard let end = try headEnd() else { return nil }
                try parseHead(upTo: end)
                cursor = end
                if (100...199).contains(status) && status != 101 {
                    // An interim response (e.g. 100 Continue): the real one follows.
                    headers = []
                    headScan = cursor
                    continue
                }
                switch try framing() {
                case .length(let n): state = .fixed(remaining: n)
                case .chunked: state = .chunkSize
                case .untilClose: state = .untilClose
                }
            case .fixed(let remaining):
                let left = takeBody(remaining)
                if left > 0 {
                    state = .fixed(remaining: left)
                    return nil
                }
                return complete()
            case .chunkSize:
                guard let line = nextLine() else { return try pending(lineLimit: 1024) }
                // chunk-size [; extensions]
                let digits = line.prefix { $0 != UInt8(ascii: ";") }.filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
                guard !digits.isEmpty, digits.count <= 15,
                      let size = Int(String(decoding: digits, as: UTF8.self), radix: 16) else {
                    throw Failure.malformed("bad chunk size")
                }
                guard body.count + size <= Self.maxBodyBytes else { throw Failure.malformed("body too large") }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let left = takeBody(remaining)
                if left > 0 {
                    state = .chunkData(remaining: left)
                    return nil
                }
                state = .chunkDataEnd
            case .chunkDataEnd:
                guard let line = nextLine() else { return try pending(lineLimit: 2) }
                guard line.isEmpty else { throw Failure.malformed("chunk not followed by CRLF") }
                state = .chunkSize
            case .trailers:
                // Trailer fields are read and dropped: nothing we use is sent there.
                guard let line = nextLine() else { return try pending(lineLimit: Self.maxHeadBytes) }
                if line.isEmpty { return complete() }
            case .untilClose:
                body.append(contentsOf: buffer[cursor...])
                cursor = buffer.count
                guard body.count <= Self.maxBodyBytes else { throw Failure.malformed("body too large") }
                return nil
            }
        }
    }

    /// Waiting for the rest of a line; fails if the partial line is already longer than any
    /// legitimate one.
    private func pending(lineLimit: Int) throws -> HTTPResponse? {
        if buffer.count - cursor > lineLimit + 2 { throw Failure.malformed("line too long") }
        return nil
    }

    /// The next line (without CRLF or bare LF) if it is complete; advances past it.
    /// Moves up to `remaining` buffered bytes into the body; returns how many are still to come.
    private mutating func takeBody(_ remaining: Int) -> Int {
        let take = min(remaining, buffer.count - cursor)
        body.append(contentsOf: buffer[cursor..<cursor + take])
        cursor += take
        return remaining - take
    }

    private mutating func nextLine() -> ArraySlice<UInt8>? {
        guard let lf = buffer[cursor...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        var line = buffer[cursor..<lf]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        cursor = lf + 1
        return line
    }

    /// The index just past the blank line that ends the head, once it has arrived.
    private mutating func headEnd() throws -> Int? {
        var i = max(headScan, cursor)
        while let lf = buffer[i...].firstIndex(of: UInt8(ascii: "\n")) {
            // A blank line: LF right after the previous LF, or CR LF right after it.
            let next = lf + 1
            if next < buffer.count {
                if buffer[next] == UInt8(ascii: "\n") { return next + 1 }
                if buffer[next] == UInt8(ascii: "\r") {
                    if next + 1 < buffer.count {
                        if buffer[next + 1] == UInt8(ascii: "\n") { return next + 2 }
                    } else {
                        headScan = lf
                        return nil
                    }
                }
            } else {
                headScan = lf
                return nil
            }
            i = next
        }
        headScan = buffer.count
        if buffer.count - cursor > Self.maxHeadBytes { throw Failure.malformed("response head too large") }
        return nil
    }

    /// Status line and header fields. Byte-level, because Foundation's string trimming and
    /// case-insensitive comparison were most of the parser's time at a thousand responses a second.
    private mutating func parseHead(upTo end: Int) throws {
        var lines: [ArraySlice<UInt8>] = []
        var start = cursor
        for i in cursor..<end where buffer[i] == UInt8(ascii: "\n") {
            var line = buffer[start..<i]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            lines.append(line)
            start = i + 1
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let statusLine = lines.first else { throw Failure.malformed("empty response head") }
        // HTTP/1.1 200 OK
        let parts = statusLine.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].starts(with: Array("HTTP/1.".utf8)), parts[1].count == 3,
              parts[1].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw Failure.malformed("bad status line \"\(String(decoding: statusLine.prefix(80), as: UTF8.self))\"")
        }
        status = parts[1].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        http11 = !parts[0].elementsEqual(Array("HTTP/1.0".utf8))
        headers = []
        for line in lines.dropFirst() {
            if let first = line.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
                // Obsolete line folding: continues the previous value.
                guard !headers.isEmpty else { throw Failure.malformed("folded first header") }
                headers[headers.count - 1].value += " " + String(decoding: Self.trimmed(line), as: UTF8.self)
                continue
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw Failure.malformed("header line without a colon")
            }
            headers.append((String(decoding: line[line.startIndex..<colon], as: UTF8.self),
                            String(decoding: Self.trimmed(line[(colon + 1)...]), as: UTF8.self)))
        }
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = bytes
        while let f = s.first, f == UInt8(ascii: " ") || f == UInt8(ascii: "\t") { s = s.dropFirst() }
        while let l = s.last, l == UInt8(ascii: " ") || l == UInt8(ascii: "\t") { s = s.dropLast() }
        return s
    }

    /// The values of a header, `name` given in lower case.
    private func values(_ name: String) -> [Substring] {
        headers.filter { HTTPResponse.equalIgnoringASCIICase($0.name, name) }.map { Substring($0.value) }
    }

    /// The comma-separated tokens of a header's values, in lower case.
    private func tokens(_ name: String) -> [String] {
        values(name).flatMap { $0.split(separator: ",") }.map { $0.trimmingASCIISpaces().lowercased() }
    }

    private mutating func framing() throws -> Framing {
        let connection = tokens("connection")
        closeAfter = http11 ? connection.contains("close") : !connection.contains("keep-alive")
        if status == 204 || status == 304 { return .length(0) }
        let codings = tokens("transfer-encoding")
        if !codings.isEmpty {
            // Chunked must come last; any other final coding runs until the connection closes.
            return codings.last == "chunked" ? .chunked : .untilClose
        }
        let lengths = Set(values("content-length").flatMap { $0.split(separator: ",") }.map { $0.trimmingASCIISpaces() })
        if lengths.isEmpty { return .untilClose }
        guard lengths.count == 1, let n = Int(lengths.first!), n >= 0 else {
            throw Failure.malformed("bad Content-Length")
        }
        guard n <= Self.maxBodyBytes else { throw Failure.malformed("body too large") }
        return .length(n)
    }

    private mutating func complete() -> HTTPResponse {
        if case .untilClose = state { keepAlive = false } else { keepAlive = !closeAfter }
        let response = HTTPResponse(status: status, headers: headers, body: Data(body))
        state = .head
        return response
    }
}
