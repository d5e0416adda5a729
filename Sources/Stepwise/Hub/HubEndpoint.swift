import Foundation

/// Where the hub is and who the user is, from the environment as huggingface_hub reads it:
/// `HF_ENDPOINT` (default https://huggingface.co); the token from `HF_TOKEN` (or its older name
/// `HUGGING_FACE_HUB_TOKEN`), else the file `huggingface-cli login` writes (`HF_TOKEN_PATH`,
/// else `HF_HOME/token`, else `~/.cache/huggingface/token`).
struct HubEndpoint {
    let url: URL
    let token: String?
    /// Where the token came from, for messages ("HF_TOKEN", a file path), or nil.
    let tokenSource: String?

    init(environment: [String: String]) throws {
        func value(_ name: String) -> String? {
            guard let v = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty else { return nil }
            return v
        }
        let text = value("HF_ENDPOINT").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? "https://huggingface.co"
        guard let u = URL(string: text), let scheme = u.scheme?.lowercased(), ["http", "https"].contains(scheme), u.host != nil else {
            throw StepwiseError("HF_ENDPOINT=\(text) is not an http(s) URL (expected e.g. https://huggingface.co)")
        }
        url = u
        if let t = value("HF_TOKEN") {
            (token, tokenSource) = (t, "HF_TOKEN")
        } else if let t = value("HUGGING_FACE_HUB_TOKEN") {
            (token, tokenSource) = (t, "HUGGING_FACE_HUB_TOKEN")
        } else {
            let home = value("HOME") ?? NSHomeDirectory()
            let hfHome = value("HF_HOME") ?? (value("XDG_CACHE_HOME") ?? home + "/.cache") + "/huggingface"
            let path = value("HF_TOKEN_PATH") ?? hfHome + "/token"
            let t = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            (token, tokenSource) = t.map { $0.isEmpty ? (nil, nil) : ($0, path) } ?? (nil, nil)
        }
    }

    /// `{endpoint}/api/models/{repo}/revision/{revision}`: the commit and file list.
    func modelInfoURL(_ id: HubModelID) -> URL {
        URL(string: url.absoluteString + "/api/models/\(Self.encode(id.repo, keepSlash: true))/revision/\(Self.encode(id.revision, keepSlash: false))")!
    }

    /// `{endpoint}/{repo}/resolve/{commit}/{file}`: one file at a commit.
    func resolveURL(repo: String, commit: String, file: String) -> URL {
        URL(string: url.absoluteString + "/\(Self.encode(repo, keepSlash: true))/resolve/\(Self.encode(commit, keepSlash: false))/\(Self.encode(file, keepSlash: true))")!
    }

    /// Percent-encoding for a URL path: a revision such as `refs/pr/1` is one segment
    /// (`refs%2Fpr%2F1`), as huggingface_hub sends it; a repo id or a file path keeps its `/`.
    static func encode(_ text: String, keepSlash: Bool) -> String {
        var allowed = CharacterSet.urlPathAllowed
        if !keepSlash { allowed.remove("/") }
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// Whether a request to `other` may carry the token: only the hub itself gets it, not the
    /// CDN it redirects large files to (whose signed URL needs none).
    func isHub(_ other: URL) -> Bool {
        other.host?.lowercased() == url.host?.lowercased() && other.port == url.port && other.scheme == url.scheme
    }
}
