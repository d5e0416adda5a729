import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `HTTPTransport` over URLSession: TLS (`https://`, e.g. OpenAI itself), proxies, and every
/// platform. On Linux URLSession runs on libcurl, whose per-request CPU cost is what made us
/// write `SocketHTTPTransport` for plain `http://`.
final class URLSessionTransport: HTTPTransport, @unchecked Sendable {
    private let session: URLSession

    init(maxConnections: Int, timeout: Double) {
        let sc = URLSessionConfiguration.ephemeral
        sc.timeoutIntervalForRequest = timeout
        sc.timeoutIntervalForResource = timeout
        sc.httpMaximumConnectionsPerHost = maxConnections
        sc.urlCache = nil
        sc.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: sc)
    }

    deinit {
        session.invalidateAndCancel()
    }

    func shutdown() {
        session.invalidateAndCancel()
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var r = URLRequest(url: request.url)
        r.httpMethod = request.method
        r.timeoutInterval = request.timeout
        for h in request.headers { r.setValue(h.value, forHTTPHeaderField: h.name) }
        r.httpBody = request.body
        let data: Data, response: URLResponse
        do {
            (data, response) = try await session.data(for: r)
        } catch let error as URLError {
            throw Self.translate(error)
        } catch is CancellationError {
            throw HTTPTransportError.cancelled
        } catch {
            throw HTTPTransportError.failed("request failed: \(error)", retryable: true)
        }
        guard let http = response as? HTTPURLResponse else {
            throw HTTPTransportError.malformedResponse("not an HTTP response")
        }
        let headers = http.allHeaderFields.compactMap { k, v -> (name: String, value: String)? in
            guard let k = k as? String else { return nil }
            return (k, "\(v)")
        }
        return HTTPResponse(status: http.statusCode, headers: headers, body: data)
    }

    static func translate(_ error: URLError) -> HTTPTransportError {
        switch error.code {
        case .cancelled, .badURL, .unsupportedURL, .userAuthenticationRequired:
            return .failed("request failed: \(error.localizedDescription)", retryable: false)
        case .timedOut: return .timedOut
        case .networkConnectionLost: return .connectionLost
        case .cannotConnectToHost: return .cannotConnect("")
        default: return .failed("connection error (\(error.code.rawValue))", retryable: true)
        }
    }
}
