import Foundation

/// A checkpoint folder: model.safetensors + config.json (+ tokenizer.json), openable by
/// `T5ForConditionalGeneration.from_pretrained(folder)`.
extension T5Model {
    /// Writes `shared.weight` and `lm_head.weight` (not the encoder/decoder.embed_tokens aliases:
    /// transformers re-ties those to `shared`, and keeps `lm_head` separate because its values differ).
    public func save(to folder: URL, tokenizer: Tokenizer? = nil) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let tensors = store.infos.map { info in
            (name: info.name, tensor: Safetensors.Tensor(shape: info.shape, values: Array(
                UnsafeBufferPointer(start: store.values.p + info.offset, count: info.count))))
        }
        try Safetensors.write(tensors, to: folder.appendingPathComponent("model.safetensors"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(config).write(to: folder.appendingPathComponent("config.json"))
        try tokenizer?.save(to: folder.appendingPathComponent("tokenizer.json"))
    }

    /// Loads a folder written by `save` or by transformers' `save_pretrained`. Missing
    /// `shared.weight` falls back to `encoder.embed_tokens.weight`; a missing `lm_head.weight`
    /// (tied checkpoint) is a copy of the shared embedding.
    public static func load(from folder: URL) throws -> (T5Model, Tokenizer?) {
        let config = try JSONDecoder().decode(T5Config.self, from: Data(contentsOf: folder.appendingPathComponent("config.json")))
        let model = T5Model(config: config, seed: 0)
        var tensors = try Safetensors.read(folder.appendingPathComponent("model.safetensors"))
        if tensors["shared.weight"] == nil {
            tensors["shared.weight"] = tensors["encoder.embed_tokens.weight"] ?? tensors["decoder.embed_tokens.weight"]
        }
        if tensors["lm_head.weight"] == nil { tensors["lm_head.weight"] = tensors["shared.weight"] }
        for info in model.store.infos {
            guard let t = tensors[info.name] else { throw TrainerError.missingTensor(info.name) }
            guard t.shape == info.shape else { throw TrainerError.badFile("\(info.name): shape \(t.shape), want \(info.shape)") }
            try model.setParameter(named: info.name, t.values)
        }
        return (model, try stepwiseTokenizer(in: folder))
    }

    /// The folder's `tokenizer.json` when it is Stepwise's own; nil when there is none or it is a
    /// transformers fast-tokenizer file (a pretrained checkpoint's, read with
    /// `SentencePieceTokenizer.load(from:)`).
    static func stepwiseTokenizer(in folder: URL) throws -> Tokenizer? {
        let url = folder.appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        if let object = (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any],
           object["format"] == nil, object["model"] != nil {
            return nil
        }
        return try Tokenizer.load(from: url)
    }
}
