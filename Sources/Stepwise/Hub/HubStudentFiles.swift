import Foundation

/// Which files of a model repository a T5 student needs, chosen from the names the repository
/// (or a cached snapshot) has:
///
/// - `config.json`;
/// - weights: `model.safetensors`, else `model.safetensors.index.json` and every shard it names,
///   else `pytorch_model.bin`, else `pytorch_model.bin.index.json` and its shards;
/// - tokenizer: `spiece.model` and/or `tokenizer.json` (at least one);
/// - when present: `tokenizer_config.json`, `special_tokens_map.json`, `generation_config.json`.
///
/// Sharded weights need the index's contents to name the shards, so the choice is made in two
/// steps: `choose(from:)` names the index, and `shards(inIndex:)` reads it.
enum HubStudentFiles {
    static let config = "config.json"
    static let tokenizers = ["spiece.model", "tokenizer.json"]
    static let optional = ["tokenizer_config.json", "special_tokens_map.json", "generation_config.json"]
    /// Single-file weights and sharded indexes, most preferred first.
    static let weightChoices: [(single: String, index: String)] = [
        ("model.safetensors", "model.safetensors.index.json"),
        ("pytorch_model.bin", "pytorch_model.bin.index.json"),
    ]

    struct Choice: Equatable {
        /// Files to fetch, shards not included.
        var files: [String]
        /// The sharded weights' index among `files`, whose shards must be fetched too.
        var weightIndex: String?
    }

    /// The files to fetch from a repository that has `available`; throws when it has no usable
    /// weights, no config or no tokenizer, naming what it has. `repo` is for the message.
    static func choose(from available: Set<String>, repo: String) throws -> Choice {
        var missing: [String] = []
        if !available.contains(config) { missing.append("config.json") }
        var weights: String?
        var index: String?
        for w in weightChoices {
            if available.contains(w.single) { weights = w.single; break }
            if available.contains(w.index) { weights = w.index; index = w.index; break }
        }
        if weights == nil {
            missing.append("weights (model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json)")
        }
        let tokenizer = tokenizers.filter(available.contains)
        if tokenizer.isEmpty { missing.append("a tokenizer (spiece.model or tokenizer.json)") }
        guard missing.isEmpty, let weights else {
            throw StepwiseError("""
                \(repo) lacks \(missing.joined(separator: "; ")) — a T5 student needs config.json, weights and a \
                tokenizer; it has: \(describe(available))
                """)
        }
        return Choice(files: [config, weights] + tokenizer + optional.filter(available.contains), weightIndex: index)
    }

    /// The shard file names a sharded-weights index (`*.index.json`) names in its `weight_map`,
    /// sorted; throws naming `source` when it is not such an index.
    static func shards(inIndex data: Data, source: String) throws -> [String] {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let map = object["weight_map"] as? [String: Any] else {
            throw StepwiseError("\(source): not a sharded-weights index (expected a JSON object with a \"weight_map\")")
        }
        var names = Set<String>()
        for (tensor, file) in map {
            guard let f = file as? String, isSafeRelativePath(f) else {
                throw StepwiseError("\(source): weight_map[\"\(tensor)\"] is not a file name in the repository")
            }
            names.insert(f)
        }
        guard !names.isEmpty else { throw StepwiseError("\(source): weight_map names no shard") }
        return names.sorted()
    }

    /// A repository-relative file name that stays inside the snapshot folder.
    static func isSafeRelativePath(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix("/") && !name.split(separator: "/", omittingEmptySubsequences: false)
            .contains { $0.isEmpty || $0 == "." || $0 == ".." }
    }

    /// Up to 20 names, for messages.
    static func describe(_ names: Set<String>) -> String {
        guard !names.isEmpty else { return "no files" }
        let sorted = names.sorted()
        return sorted.prefix(20).joined(separator: ", ") + (sorted.count > 20 ? ", … (\(sorted.count) files)" : "")
    }
}
