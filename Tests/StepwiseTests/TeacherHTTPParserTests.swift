import XCTest
@testable import Stepwise

/// HTTPResponseParser on byte strings: every framing, fed whole and one byte at a time.
final class TeacherHTTPParserTests: XCTestCase {
    /// Feeds `text` in pieces of `step` bytes; returns the responses completed, in order.
    func parse(_ text: String, step: Int, parser: inout HTTPResponseParser, finish: Bool = false) throws -> [HTTPResponse] {
        let bytes = Array(text.utf8)
        var out: [HTTPResponse] = []
        var i = 0
        while i < bytes.count {
            let piece = Array(bytes[i..<min(bytes.count, i + step)])
            i += step
            var r = try parser.feed(piece)
            while let done = r {
                out.append(done)
                guard parser.keepAlive else { break }
                parser.reset()
                r = try parser.feed([])   // a response already buffered behind the last one
            }
        }
        if finish, let r = try parser.finish() { out.append(r) }
        return out
    }

    func parseAll(_ text: String, finish: Bool = false) throws -> [[HTTPResponse]] {
        try [text.utf8.count, 1, 7].map { step in
            var p = HTTPResponseParser()
            return try parse(text, step: step, parser: &p, finish: finish)
        }
    }

    func testContentLength() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length:  11 \r\n\r\n{\"a\": \"b\"}\n"
        for rs in try parseAll(text) {
            XCTAssertEqual(rs.count, 1)
            XCTAssertEqual(rs[0].status, 200)
            XCTAssertEqual(String(decoding: rs[0].body, as: UTF8.self), "{\"a\": \"b\"}\n")
            XCTAssertEqual(rs[0].value(forHeader: "CONTENT-TYPE"), "application/json")
            XCTAssertEqual(rs[0].value(forHeader: "Content-Length"), "11")
        }
        var p = HTTPResponseParser()
        _ = try p.feed(Array(text.utf8))
        XCTAssertTrue(p.keepAlive)
    }

    func testChunkedWithExtensionsAndTrailers() throws {
        let text = "HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: gzip, chunked\r\nRetry-After: 2\r\n\r\n"
            + "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n"
        for rs in try parseAll(text) {
            XCTAssertEqual(rs.count, 1)
            XCTAssertEqual(rs[0].status, 429)
            XCTAssertEqual(String(decoding: rs[0].body, as: UTF8.self), "hello 0123456789")
            XCTAssertEqual(rs[0].value(forHeader: "retry-after"), "2")
        }
    }

    func testTwoResponsesOnOneConnection() throws {
        let one = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
        let two = "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
        for rs in try parseAll(one + two) {
            XCTAssertEqual(rs.map(\.status), [200, 500])
            XCTAssertEqual(rs.map { String(decoding: $0.body, as: UTF8.self) }, ["one", "two"])
        }
    }

    func testBodyUntilCloseAndConnectionClose() throws {
        // No length, no chunking: the body runs until the server closes.
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it"
        for rs in try parseAll(text, finish: true) {
            XCTAssertEqual(rs.count, 1)
            XCTAssertEqual(String(decoding: rs[0].body, as: UTF8.self), "all of it")
        }
        var p = HTTPResponseParser()
        XCTAssertNil(try p.feed(Array(text.utf8)))
        XCTAssertNotNil(try p.finish())
        XCTAssertFalse(p.keepAlive)

        var q = HTTPResponseParser()
        XCTAssertNotNil(try q.feed(Array("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n".utf8)))
        XCTAssertFalse(q.keepAlive)
        var r = HTTPResponseParser()
        XCTAssertNotNil(try r.feed(Array("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)))
        XCTAssertFalse(r.keepAlive)   // HTTP/1.0 closes unless it says keep-alive
        var s = HTTPResponseParser()
        XCTAssertNotNil(try s.feed(Array("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n".utf8)))
        XCTAssertTrue(s.keepAlive)
    }

    func testInterimResponsesNoBodyStatusesAndBareLineFeeds() throws {
        let text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n"
            + "HTTP/1.1 200 OK\nContent-Length: 2\n\nok"
        for rs in try parseAll(text) {
            XCTAssertEqual(rs.map(\.status), [204, 200])
            XCTAssertEqual(rs.map(\.body.count), [0, 2])
        }
    }

    func testTruncatedAndMalformedResponses() throws {
        var p = HTTPResponseParser()
        XCTAssertNil(try p.finish())   // nothing arrived: not a response, not malformed either
        XCTAssertFalse(p.receivedAny)
        XCTAssertNil(try p.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8)))
        XCTAssertTrue(p.receivedAny)
        XCTAssertThrowsError(try p.finish())   // cut short

        for bad in ["SMTP/1.1 200 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
                    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
                    "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n"] {
            var q = HTTPResponseParser()
            XCTAssertThrowsError(try q.feed(Array(bad.utf8)), bad)
        }
        var huge = HTTPResponseParser()
        XCTAssertThrowsError(try huge.feed(Array(("HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 70_000)).utf8)))
    }
}
