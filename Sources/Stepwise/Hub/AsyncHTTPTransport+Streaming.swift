import AsyncHTTPClient
import Foundation
import NIOCore

extension AsyncHTTPTransport {
    /// Sends `request`; when `wantsBody` accepts the response head, hands the body to `consume`
    /// piece by piece as it arrives (a model's weights are far too large for `send`'s in-memory
    /// body). Any other body is collected, up to 1 MiB, into the returned response for messages.
    ///
    /// Transport failures are translated as `send` translates them (`HTTPTransportError`), also
    /// while the body streams; what `consume` throws (a full disk) propagates unchanged.
    func stream(_ request: HTTPRequest, wantsBody: (HTTPResponse) -> Bool,
                consume: (ByteBuffer) throws -> Void) async throws -> HTTPResponse {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(clientRequest(request),
                                                deadline: .now() + .nanoseconds(Self.nanoseconds(request.timeout)))
        } catch {
            throw translate(error)
        }
        var head = HTTPResponse(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                                body: Data())
        guard wantsBody(head) else {
            do {
                head.body = Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)
            } catch {
                // A long error page is cut, not an error in itself.
                if !(error is NIOTooManyBytesError) { throw translate(error) }
            }
            return head
        }
        var pieces = response.body.makeAsyncIterator()
        while true {
            let piece: ByteBuffer?
            do { piece = try await pieces.next() } catch { throw translate(error) }
            guard let piece else { return head }
            try consume(piece)
        }
    }
}
