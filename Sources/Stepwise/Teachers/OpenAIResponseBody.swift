import Foundation

/// One generated token's log-probability and, when `top_logprobs: k` was asked, the k most
/// likely tokens at its position (most likely first).
public struct TokenLogprob: Codable, Hashable, Sendable {
    public struct Alternative: Codable, Hashable, Sendable {
        public var token: String
        public var logprob: Double

        public init(token: String, logprob: Double) {
            self.token = token
            self.logprob = logprob
        }
    }

    public var token: String
    public var logprob: Double
    public var top: [Alternative]

    public init(token: String, logprob: Double, top: [Alternative] = []) {
        self.token = token
        self.logprob = logprob
        self.top = top
    }
}

/// Reading an OpenAI-style response body (`/chat/completions` or `/completions`).
enum OpenAIResponseBody {
    enum Parsed {
        case response(CachedTeacherResponse)
        /// Not an OpenAI response (truncated, not JSON, no choice…): worth another attempt.
        case malformed
        /// Log-probabilities were asked for and the server sent none: asking again will not help.
        case missingLogprobs
    }

    /// The text, usage and (when `logprobs`) the token log-probabilities of a response body.
    static func parse(_ data: Data, api: OpenAITeacherConfig.API, logprobs: Bool) -> Parsed {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let choices = object["choices"] as? [[String: Any]], let first = choices.first else { return .malformed }
        // A choice whose text is null (e.g. stopped by a content filter) is an empty completion,
        // which parses to no label; a choice without the field at all is a malformed body.
        let text: String
        switch api {
        case .chat:
            guard let message = first["message"] as? [String: Any], message.keys.contains("content") else { return .malformed }
            text = message["content"] as? String ?? ""
        case .completions:
            guard first.keys.contains("text") else { return .malformed }
            text = first["text"] as? String ?? ""
        }
        var tokens: [TokenLogprob]?
        if logprobs {
            tokens = api == .chat ? chatLogprobs(first["logprobs"]) : completionLogprobs(first["logprobs"])
            if tokens == nil { return .missingLogprobs }
        }
        let usage = object["usage"] as? [String: Any]
        return .response(CachedTeacherResponse(text: text,
                                               promptTokens: (usage?["prompt_tokens"] as? NSNumber)?.intValue,
                                               completionTokens: (usage?["completion_tokens"] as? NSNumber)?.intValue,
                                               finishReason: first["finish_reason"] as? String,
                                               model: object["model"] as? String,
                                               logprobs: tokens))
    }

    /// Chat: `{"content": [{"token", "logprob", "top_logprobs": [{"token", "logprob"}]}]}`.
    static func chatLogprobs(_ value: Any?) -> [TokenLogprob]? {
        guard let object = value as? [String: Any], let content = object["content"] as? [[String: Any]] else { return nil }
        var out: [TokenLogprob] = []
        out.reserveCapacity(content.count)
        for entry in content {
            guard let token = entry["token"] as? String, let logprob = (entry["logprob"] as? NSNumber)?.doubleValue else { return nil }
            var top: [TokenLogprob.Alternative] = []
            for alt in entry["top_logprobs"] as? [[String: Any]] ?? [] {
                guard let t = alt["token"] as? String, let l = (alt["logprob"] as? NSNumber)?.doubleValue else { return nil }
                top.append(.init(token: t, logprob: l))
            }
            out.append(TokenLogprob(token: token, logprob: logprob, top: top))
        }
        return out
    }

    /// Completions: `{"tokens": [..], "token_logprobs": [..], "top_logprobs": [{token: logprob}, ..]}`;
    /// each position's alternatives come as an object, so they are ordered here, most likely first.
    static func completionLogprobs(_ value: Any?) -> [TokenLogprob]? {
        guard let object = value as? [String: Any], let tokens = object["tokens"] as? [String],
              let logprobs = object["token_logprobs"] as? [Any], logprobs.count == tokens.count else { return nil }
        let tops = object["top_logprobs"] as? [Any] ?? []
        var out: [TokenLogprob] = []
        out.reserveCapacity(tokens.count)
        for (i, token) in tokens.enumerated() {
            guard let logprob = (logprobs[i] as? NSNumber)?.doubleValue else { return nil }
            var top: [TokenLogprob.Alternative] = []
            if i < tops.count, let alternatives = tops[i] as? [String: Any] {
                for (t, l) in alternatives {
                    guard let l = (l as? NSNumber)?.doubleValue else { return nil }
                    top.append(.init(token: t, logprob: l))
                }
                top.sort { ($0.logprob, $1.token) > ($1.logprob, $0.token) }
            }
            out.append(TokenLogprob(token: token, logprob: logprob, top: top))
        }
        return out
    }
}
