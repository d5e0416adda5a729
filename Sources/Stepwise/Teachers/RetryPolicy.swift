import Foundation

/// When the OpenAI-compatible teacher tries a request again, and after how long. The rules are
/// the OpenAI Python client's, where ours say nothing else:
///
/// - retried: 408, 409, 429 and 5xx answers, timeouts, connection failures and dropped
///   connections, and (ours) 2xx bodies that are not an OpenAI response; a server's
///   `x-should-retry: true|false` overrides the status either way.
/// - not retried: other 4xx, TLS failures, cancellation.
/// - delay: the server's `retry-after-ms` or `Retry-After` (seconds or an HTTP date), capped at
///   `maxBackoff`, plus up to 5 % jitter; without one, `initialBackoff · 2^(attempt-1)` capped at
///   `maxBackoff`, with "equal jitter" (between half and all of it).
struct RetryPolicy {
    var maxRetries: Int
    var initialBackoff: Double
    var maxBackoff: Double

    /// Whether an answer with this status (and headers) is worth another attempt.
    static func shouldRetry(_ response: HTTPResponse) -> Bool {
        switch response.value(forHeader: "x-should-retry")?.lowercased() {
        case "true": return true
        case "false": return false
        default: return [408, 409, 429].contains(response.status) || (500...599).contains(response.status)
        }
    }

    /// The wait the server asks for: `retry-after-ms`, else `Retry-After`.
    static func serverDelay(_ response: HTTPResponse) -> Double? {
        if let ms = response.value(forHeader: "retry-after-ms").flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }),
           ms >= 0, ms.isFinite {
            return ms / 1000
        }
        return retryAfterSeconds(response.value(forHeader: "Retry-After"))
    }

    /// `Retry-After` as seconds: a non-negative number, or an HTTP date (delay from now).
    static func retryAfterSeconds(_ value: String?) -> Double? {
        guard let v = value?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        if let s = Double(v), s >= 0, s.isFinite { return s }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        if let date = f.date(from: v) { return max(0, date.timeIntervalSinceNow) }
        return nil
    }

    /// Seconds to wait before attempt `attempt + 1`; `random` in [0, 1).
    func delay(afterAttempt attempt: Int, serverDelay: Double?, random: Double) -> Double {
        if let serverDelay {
            return min(serverDelay, maxBackoff) + random * 0.05 * max(serverDelay, 0.1)
        }
        let exp = min(initialBackoff * pow(2, Double(attempt - 1)), maxBackoff)
        return exp * (0.5 + 0.5 * random)
    }
}
