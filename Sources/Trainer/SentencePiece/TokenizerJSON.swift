import Foundation

/// Reads a transformers fast-tokenizer file (`tokenizer.json`) whose model is Unigram — what
/// `T5TokenizerFast.save_pretrained` writes: the vocabulary with scores, `unk_id`,
/// `byte_fallback`, the normalizer (`Precompiled` with its base64 charsmap, `Replace`, `Strip`,
/// `Sequence`), the `WhitespaceSplit` / `Metaspace` pre-tokenizers and the added tokens. Anything else is refused with an error naming
/// the file and the field.
struct TokenizerJSON {
    var vocabulary: [(piece: String, score: Double)] = []
    var unkId: Int32 = 0
    var byteFallback = false
    var normalizers: [NormalizerStep] = []
    var preTokenizers: [PreTokenizerStep] = []
    var addedTokens: [AddedToken] = []

    init(data: Data, file: String) throws {
        func bad(_ message: String) -> TrainerError { .badFile("\(file): \(message)") }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw bad("not a JSON object (truncated, or not a tokenizer.json?)")
        }
        guard let model = root["model"] as? [String: Any] else { throw bad("no \"model\" object") }
        let type = model["type"] as? String ?? (model["merges"] != nil ? "BPE" : "unknown")
        guard type == "Unigram" else {
            throw TrainerError.unsupported("\(file): model.type is \(type); only Unigram (SentencePiece) tokenizer.json files can be read")
        }
        // The scores go through JSONDecoder: Foundation's JSONSerialization on Linux rounds some
        // doubles in the last bit, and a last-bit change flips Viterbi ties.
        guard model["vocab"] is [[Any]] else { throw bad("model.vocab is not a list of [piece, score]") }
        do {
            vocabulary = try JSONDecoder().decode(VocabularyFile.self, from: data).model.vocab.map { ($0.piece, $0.score) }
        } catch {
            throw bad("model.vocab is not a list of [piece, score] (\(error))")
        }
        guard let unk = model["unk_id"] as? Int else { throw bad("model.unk_id is missing (a Unigram model needs an unknown id)") }
        guard unk >= 0 && unk < vocabulary.count else { throw bad("model.unk_id \(unk) is outside the vocabulary of \(vocabulary.count)") }
        unkId = Int32(unk)
        byteFallback = model["byte_fallback"] as? Bool ?? false

        if let normalizer = root["normalizer"] as? [String: Any] {
            try readNormalizer(normalizer, path: "normalizer", file: file)
        }
        if let pre = root["pre_tokenizer"] as? [String: Any] {
            try readPreTokenizer(pre, path: "pre_tokenizer", file: file)
        }
        var pieceIds: [String: Int32] = [:]
        for (i, v) in vocabulary.enumerated() { pieceIds[v.piece] = Int32(i) }
        for (i, t) in ((root["added_tokens"] as? [[String: Any]]) ?? []).enumerated() {
            guard let content = t["content"] as? String, let id = t["id"] as? Int, !content.isEmpty else {
                throw bad("added_tokens[\(i)] needs a content and an id")
            }
            // `tokenizers` gives an added token that is also a piece of the model the piece's id.
            addedTokens.append(AddedToken(content: content, id: pieceIds[content] ?? Int32(id),
                                          singleWord: t["single_word"] as? Bool ?? false,
                                          lstrip: t["lstrip"] as? Bool ?? false, rstrip: t["rstrip"] as? Bool ?? false,
                                          normalized: t["normalized"] as? Bool ?? false, special: t["special"] as? Bool ?? false))
        }
    }

    private mutating func readNormalizer(_ n: [String: Any], path: String, file: String) throws {
        switch n["type"] as? String {
        case "Precompiled":
            guard let base64 = n["precompiled_charsmap"] as? String else { return }   // null: no rules
            guard let blob = Data(base64Encoded: base64) else {
                throw TrainerError.badFile("\(file): \(path).precompiled_charsmap is not base64")
            }
            normalizers.append(.precompiled(try PrecompiledCharsMap(blob: [UInt8](blob), file: "\(file) (\(path))")))
        case "Replace":
            let content = n["content"] as? String ?? ""
            if let literal = (n["pattern"] as? [String: Any])?["String"] as? String {
                normalizers.append(.replaceString(literal, content: content))
            } else if let pattern = (n["pattern"] as? [String: Any])?["Regex"] as? String {
                do {
                    normalizers.append(.replaceRegex(try NSRegularExpression(pattern: pattern), content: content))
                } catch {
                    throw TrainerError.unsupported("\(file): \(path).pattern regex \(pattern) (\(error))")
                }
            } else {
                throw TrainerError.badFile("\(file): \(path).pattern needs a String or a Regex")
            }
        case "Strip":
            normalizers.append(.strip(left: n["strip_left"] as? Bool ?? false, right: n["strip_right"] as? Bool ?? false))
        case "Sequence":
            for (i, inner) in ((n["normalizers"] as? [[String: Any]]) ?? []).enumerated() {
                try readNormalizer(inner, path: "\(path).normalizers[\(i)]", file: file)
            }
        case let other:
            throw TrainerError.unsupported("\(file): \(path) of type \(other ?? "?") (only Precompiled, Replace, Strip and Sequence are supported)")
        }
    }

    private mutating func readPreTokenizer(_ p: [String: Any], path: String, file: String) throws {
        switch p["type"] as? String {
        case "WhitespaceSplit":
            preTokenizers.append(.whitespaceSplit)
        case "Metaspace":
            let replacement = p["replacement"] as? String ?? "\u{2581}"
            var scheme = PreTokenizerStep.PrependScheme.always
            if let s = p["prepend_scheme"] as? String {
                guard let parsed = PreTokenizerStep.PrependScheme(rawValue: s) else {
                    throw TrainerError.unsupported("\(file): \(path).prepend_scheme \(s)")
                }
                scheme = parsed
            } else if let add = p["add_prefix_space"] as? Bool {
                scheme = add ? .always : .never
            }
            preTokenizers.append(.metaspace(replacement: Array(replacement.utf8), prepend: scheme, split: p["split"] as? Bool ?? true))
        case "Sequence":
            for (i, inner) in ((p["pretokenizers"] as? [[String: Any]]) ?? []).enumerated() {
                try readPreTokenizer(inner, path: "\(path).pretokenizers[\(i)]", file: file)
            }
        case let other:
            throw TrainerError.unsupported("\(file): \(path) of type \(other ?? "?") (only WhitespaceSplit and Metaspace are supported)")
        }
    }
}

/// `{"model": {"vocab": [[piece, score], …]}}`, decoded with exact doubles.
private struct VocabularyFile: Decodable {
    struct Model: Decodable { var vocab: [Entry] }
    struct Entry: Decodable {
        var piece: String
        var score: Double
        init(from decoder: Decoder) throws {
            var c = try decoder.unkeyedContainer()
            piece = try c.decode(String.self)
            score = try c.decode(Double.self)
        }
    }
    var model: Model
}

