import Foundation

extension SentencePieceTokenizer {
    /// Writes the tokenizer into a checkpoint folder so that transformers'
    /// `AutoTokenizer.from_pretrained(folder)` opens it as a T5 tokenizer and gives the ids of our
    /// `.transformers` reference: the original `spiece.model` bytes and the `tokenizer.json` read
    /// (or, for a `spiece.model`, the one transformers' T5 conversion makes of it), and the
    /// folder's `tokenizer_config.json` / `special_tokens_map.json` as they were read, or T5's.
    public func save(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if let model = files.spieceModel { try model.write(to: folder.appendingPathComponent("spiece.model")) }
        if let json = try files.tokenizerJSON ?? files.conversion?.data() {
            try json.write(to: folder.appendingPathComponent("tokenizer.json"))
        }
        let sentinels = (0..<files.extraIds).map { "<extra_id_\($0)>" }
        let eos = pieces[Int(eosId)], pad = pieces[Int(padId)], unk = pieces[Int(unkId)]
        let specialTokens: [String: Any] = ["eos_token": eos, "pad_token": pad, "unk_token": unk,
                                            "additional_special_tokens": sentinels]
        var config = specialTokens
        config["tokenizer_class"] = "T5Tokenizer"
        config["extra_ids"] = files.extraIds
        try (files.tokenizerConfig ?? Self.json(config)).write(to: folder.appendingPathComponent("tokenizer_config.json"))
        try (files.specialTokensMap ?? Self.json(specialTokens)).write(to: folder.appendingPathComponent("special_tokens_map.json"))
    }

    private static func json(_ object: [String: Any]) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }
}
