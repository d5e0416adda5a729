import Foundation

/// Where the Hugging Face cache is, read from the environment as huggingface_hub reads it:
/// `HF_HUB_CACHE` (or its older name `HUGGINGFACE_HUB_CACHE`), else `HF_HOME/hub`, else
/// `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`; `~` is expanded.
public struct HubCacheLocation: Sendable, Equatable {
    /// The hub cache folder (holding `models--org--name/`).
    public let root: URL
    /// How `root` was chosen, for messages: e.g. "HF_HUB_CACHE", "HF_HOME/hub", "default".
    public let source: String

    public init(environment: [String: String]) {
        func value(_ name: String) -> String? {
            guard let v = environment[name], !v.isEmpty else { return nil }
            return v
        }
        let home = value("HOME") ?? NSHomeDirectory()
        func expand(_ path: String) -> URL {
            var p = path
            if p == "~" { p = home } else if p.hasPrefix("~/") { p = home + p.dropFirst(1) }
            return URL(fileURLWithPath: p).standardizedFileURL
        }
        if let v = value("HF_HUB_CACHE") {
            (root, source) = (expand(v), "HF_HUB_CACHE")
        } else if let v = value("HUGGINGFACE_HUB_CACHE") {
            (root, source) = (expand(v), "HUGGINGFACE_HUB_CACHE")
        } else if let v = value("HF_HOME") {
            (root, source) = (expand(v).appendingPathComponent("hub"), "HF_HOME/hub")
        } else if let v = value("XDG_CACHE_HOME") {
            (root, source) = (expand(v).appendingPathComponent("huggingface/hub"), "XDG_CACHE_HOME/huggingface/hub")
        } else {
            (root, source) = (expand("~/.cache/huggingface/hub"), "default ~/.cache/huggingface/hub")
        }
    }

    /// `models--org--name/` for `id`.
    public func repoFolder(_ id: HubModelID) -> URL {
        root.appendingPathComponent(id.cacheFolderName, isDirectory: true)
    }
}

extension HubModelID {
    /// Whether the environment asks for no network: huggingface_hub's `HF_HUB_OFFLINE` or
    /// transformers' `TRANSFORMERS_OFFLINE`, true when "1", "ON", "YES" or "TRUE" (any case).
    public static func offline(in environment: [String: String]) -> Bool {
        ["HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"].contains { name in
            environment[name].map { ["1", "ON", "YES", "TRUE"].contains($0.trimmingCharacters(in: .whitespaces).uppercased()) } ?? false
        }
    }
}
