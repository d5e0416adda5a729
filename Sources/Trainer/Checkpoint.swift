import Foundation

/// A checkpoint folder: model.safetensors + config.json (+ tokenizer.json), openable by
/// `T5ForConditionalGeneration.from_pretrained(folder)`.
extension T5Model {
    /// Writes every parameter: `shared.weight` and, for an untied head, `lm_head.weight` (not the
    /// encoder/decoder.embed_tokens aliases: transformers re-ties those to `shared`, and keeps an
    /// untied `lm_head` separate because its values differ). A tied head is not written: the
    /// config says `tie_word_embeddings: true` and transformers ties it to `shared`.
    public func save(to folder: URL, tokenizer: Tokenizer? = nil) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Safetensors.write(store.infos.map { (name: $0.name, shape: $0.shape, values: UnsafePointer(store.values.p + $0.offset)) },
                              to: folder.appendingPathComponent("model.safetensors"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(config).write(to: folder.appendingPathComponent("config.json"))
        try tokenizer?.save(to: folder.appendingPathComponent("tokenizer.json"))
    }

    /// A model with the checkpoint's architecture and weights (converted to float32); `dropoutRate`
    /// replaces the config's for fine-tuning (nil: the config's `dropout_rate`).
    public convenience init(checkpoint: T5Checkpoint, dropoutRate: Float? = nil) {
        var config = checkpoint.config
        if let dropoutRate { config.dropoutRate = dropoutRate }
        self.init(allocating: config)
        // T5Checkpoint.open has checked that every parameter is present with its shape.
        for info in store.infos { checkpoint.tensors[info.name]!.copy(into: store.values.p + info.offset) }
    }

    /// Loads a folder written by `save` or by transformers' `save_pretrained`, in any format
    /// `T5Checkpoint.open` reads, and our `tokenizer.json` if the folder has one (a transformers
    /// `tokenizer.json` is not ours: the tokenizer is then nil).
    public static func load(from folder: URL) throws -> (T5Model, Tokenizer?) {
        let model = T5Model(checkpoint: try T5Checkpoint.open(folder: folder))
        let tokURL = folder.appendingPathComponent("tokenizer.json")
        let tokenizer = try isStepwiseTokenizer(tokURL) ? Tokenizer.load(from: tokURL) : nil
        return (model, tokenizer)
    }

    private static func isStepwiseTokenizer(_ url: URL) throws -> Bool {
        guard FileManager.default.fileExists(atPath: url.path) else { return false }
        let json = (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any]
        return json?["format"] as? String == "stepwise-tokenizer"
    }
}
