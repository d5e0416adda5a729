import Foundation

/// The `tokenizer.json` transformers makes of a T5 `spiece.model` (its T5 conversion), written by
/// `save(to:)` so that `AutoTokenizer` loads exactly the pipeline our `.transformers` reference runs
/// — instead of converting the model itself, which transformers does differently depending on
/// which files sit next to it. Scores are written as the exact doubles of the model's floats.
struct FastTokenizerFile: Encodable {
    var pieces: [(piece: String, score: Float)]
    var unkId: Int32
    var charsMap: [UInt8]
    var addedTokens: [AddedToken]
    var eos: (piece: String, id: Int32)

    private enum Key: String, CodingKey {
        case version, truncation, padding, added_tokens, normalizer, pre_tokenizer, post_processor, decoder, model
        case type, content, id, single_word, lstrip, rstrip, normalized, special
        case precompiled_charsmap, pretokenizers, replacement, prepend_scheme, split
        case single, pair, special_tokens, ids, tokens, type_id, unk_id, vocab, byte_fallback
    }

    private struct Metaspace: Encodable {
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode("Metaspace", forKey: .type)
            try c.encode("\u{2581}", forKey: .replacement)
            try c.encode("always", forKey: .prepend_scheme)
            try c.encode(true, forKey: .split)
        }
    }

    private struct Entry: Encodable {
        var piece: String, score: Float
        func encode(to encoder: Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(piece)
            try c.encode(Double(score))
        }
    }

    /// TemplateProcessing's `{"Sequence": {"id": "A", "type_id": 0}}` / `{"SpecialToken": …}`.
    private struct TemplateItem: Encodable {
        var kind: String, id: String
        func encode(to encoder: Encoder) throws {
            var outer = encoder.container(keyedBy: AnyKey.self)
            var inner = outer.nestedContainer(keyedBy: Key.self, forKey: AnyKey(kind))
            try inner.encode(id, forKey: .id)
            try inner.encode(0, forKey: .type_id)
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode("1.0", forKey: .version)
        try c.encodeNil(forKey: .truncation)
        try c.encodeNil(forKey: .padding)
        var added = c.nestedUnkeyedContainer(forKey: .added_tokens)
        for t in addedTokens {
            var a = added.nestedContainer(keyedBy: Key.self)
            try a.encode(t.id, forKey: .id); try a.encode(t.content, forKey: .content)
            try a.encode(t.singleWord, forKey: .single_word); try a.encode(t.lstrip, forKey: .lstrip)
            try a.encode(t.rstrip, forKey: .rstrip); try a.encode(t.normalized, forKey: .normalized)
            try a.encode(t.special, forKey: .special)
        }
        if charsMap.isEmpty {
            try c.encodeNil(forKey: .normalizer)
        } else {
            var n = c.nestedContainer(keyedBy: Key.self, forKey: .normalizer)
            try n.encode("Precompiled", forKey: .type)
            try n.encode(Data(charsMap).base64EncodedString(), forKey: .precompiled_charsmap)
        }
        var pre = c.nestedContainer(keyedBy: Key.self, forKey: .pre_tokenizer)
        try pre.encode("Sequence", forKey: .type)
        var steps = pre.nestedUnkeyedContainer(forKey: .pretokenizers)
        var split = steps.nestedContainer(keyedBy: Key.self)
        try split.encode("WhitespaceSplit", forKey: .type)
        try steps.encode(Metaspace())
        var post = c.nestedContainer(keyedBy: Key.self, forKey: .post_processor)
        try post.encode("TemplateProcessing", forKey: .type)
        try post.encode([TemplateItem(kind: "Sequence", id: "A"), TemplateItem(kind: "SpecialToken", id: eos.piece)], forKey: .single)
        try post.encode([TemplateItem(kind: "Sequence", id: "A"), TemplateItem(kind: "SpecialToken", id: eos.piece),
                         TemplateItem(kind: "Sequence", id: "B"), TemplateItem(kind: "SpecialToken", id: eos.piece)], forKey: .pair)
        var specials = post.nestedContainer(keyedBy: AnyKey.self, forKey: .special_tokens)
        var eosEntry = specials.nestedContainer(keyedBy: Key.self, forKey: AnyKey(eos.piece))
        try eosEntry.encode(eos.piece, forKey: .id)
        try eosEntry.encode([eos.id], forKey: .ids)
        try eosEntry.encode([eos.piece], forKey: .tokens)
        try c.encode(Metaspace(), forKey: .decoder)
        var model = c.nestedContainer(keyedBy: Key.self, forKey: .model)
        try model.encode("Unigram", forKey: .type)
        try model.encode(unkId, forKey: .unk_id)
        try model.encode(pieces.map { Entry(piece: $0.piece, score: $0.score) }, forKey: .vocab)
        try model.encode(false, forKey: .byte_fallback)
    }

    func data() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
