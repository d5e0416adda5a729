import Foundation

/// A checkpoint folder in transformers' layout: `config.json` and the weights as
/// `model.safetensors`, sharded safetensors (`model.safetensors.index.json`), `pytorch_model.bin`,
/// or sharded `pytorch_model.bin` (`pytorch_model.bin.index.json`), looked for in that order.
/// Opening reads the config and the files' headers and maps the weight files; the values are
/// converted to float32 only when copied into a model (`T5Model(checkpoint:)`).
public struct T5Checkpoint {
    public enum Format: String, Sendable {
        case safetensors, shardedSafetensors = "sharded safetensors", pytorch = "pytorch_model.bin",
             shardedPytorch = "sharded pytorch_model.bin"
    }

    public let folder: URL
    /// The architecture, with `tieWordEmbeddings` settled by the weights (see `open`).
    public let config: T5Config
    public let format: Format
    /// The weight files read (one, or the shards).
    public let files: [URL]
    let tensors: [String: StoredTensor]

    /// Tensor names in the files.
    public var tensorNames: [String] { tensors.keys.sorted() }
    /// A tensor's shape, nil if the files have no tensor of that name.
    public func shape(of name: String) -> [Int]? { tensors[name]?.shape }
    /// A tensor's values as float32.
    public func values(of name: String) -> [Float]? {
        guard let t = tensors[name] else { return nil }
        var out = [Float](repeating: 0, count: t.count)
        out.withUnsafeMutableBufferPointer { t.copy(into: $0.baseAddress!) }
        return out
    }

    /// Reads `config.json` and indexes the weights. Every problem — no config, an unsupported
    /// architecture, no weight files, a truncated or malformed file, a shard the index names but
    /// the folder lacks, a tensor missing or of the wrong shape — is an error naming the file.
    public static func open(folder: URL) throws -> T5Checkpoint {
        let configURL = folder.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw TrainerError.badFile("\(configURL.path): no config.json in the checkpoint folder")
        }
        var config = try T5Config.read(from: configURL)
        let (format, files) = try weightFiles(in: folder)
        var tensors: [String: StoredTensor] = [:]
        for url in files {
            let mapped = try MappedFile(url)
            let found = format == .safetensors || format == .shardedSafetensors
                ? try Safetensors.index(mapped) : try TorchCheckpoint.index(mapped)
            tensors.merge(found) { a, _ in a }
        }
        // The shared embedding is saved under any of its aliases.
        if tensors["shared.weight"] == nil {
            tensors["shared.weight"] = tensors["encoder.embed_tokens.weight"] ?? tensors["decoder.embed_tokens.weight"]
        }
        // A head saved with values of its own stays separate even when the config says tied
        // (transformers 5.x writes tie_word_embeddings: true for T5 v1.1, and its loader keeps
        // such a head untied too).
        if config.tieWordEmbeddings, let head = tensors["lm_head.weight"], let shared = tensors["shared.weight"],
           !sameValues(head, shared) {
            config.tieWordEmbeddings = false
        }
        if !config.tieWordEmbeddings, tensors["lm_head.weight"] == nil {
            throw TrainerError.missingTensor("lm_head.weight: config.json has tie_word_embeddings: false but \(files.map(\.lastPathComponent).joined(separator: ", ")) has no head (\(folder.path))")
        }
        let checkpoint = T5Checkpoint(folder: folder, config: config, format: format, files: files, tensors: tensors)
        try checkpoint.checkShapes()
        return checkpoint
    }

    /// Every parameter the config implies is present with its shape.
    private func checkShapes() throws {
        let layout = ParameterStore()
        _ = T5Layout(config: config, store: layout)
        let where_ = files.count == 1 ? files[0].path : "\(folder.path) (\(files.count) shards)"
        for info in layout.infos {
            guard let t = tensors[info.name] else {
                throw TrainerError.missingTensor("\(info.name) is not in \(where_), which config.json's architecture needs")
            }
            guard t.shape == info.shape else {
                throw TrainerError.badFile("\(where_): \(info.name) has shape \(t.shape) but config.json implies \(info.shape)")
            }
        }
    }

    /// The weight files of the folder's first format present.
    static func weightFiles(in folder: URL) throws -> (Format, [URL]) {
        let fm = FileManager.default
        let candidates: [(Format, String)] = [(.safetensors, "model.safetensors"),
                                              (.shardedSafetensors, "model.safetensors.index.json"),
                                              (.pytorch, "pytorch_model.bin"),
                                              (.shardedPytorch, "pytorch_model.bin.index.json")]
        for (format, name) in candidates {
            let url = folder.appendingPathComponent(name)
            guard fm.fileExists(atPath: url.path) else { continue }
            if format == .safetensors || format == .pytorch { return (format, [url]) }
            return (format, try shards(listedIn: url))
        }
        throw TrainerError.badFile("\(folder.path): no weights (looked for \(candidates.map(\.1).joined(separator: ", ")))")
    }

    /// The shard files an index names (`weight_map`: tensor → file), each checked to exist.
    static func shards(listedIn index: URL) throws -> [URL] {
        let json = (try? JSONSerialization.jsonObject(with: Data(contentsOf: index))) as? [String: Any]
        guard let map = json?["weight_map"] as? [String: String] else {
            throw TrainerError.badFile("\(index.path): no \"weight_map\" object of tensor name → file")
        }
        let folder = index.deletingLastPathComponent()
        var files: [URL] = []
        for name in Set(map.values).sorted() {
            guard !name.contains("/"), !name.hasPrefix(".") else {
                throw TrainerError.badFile("\(index.path): shard name \"\(name)\" is not a file in the folder")
            }
            let url = folder.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw TrainerError.badFile("\(index.path): names shard \(name), which is not in \(folder.path)")
            }
            files.append(url)
        }
        return files
    }

    private static func sameValues(_ a: StoredTensor, _ b: StoredTensor) -> Bool {
        guard a.shape == b.shape else { return false }
        if a.file === b.file, a.offset == b.offset, a.strides == b.strides, a.dtype == b.dtype { return true }
        var x = [Float](repeating: 0, count: a.count), y = x
        x.withUnsafeMutableBufferPointer { a.copy(into: $0.baseAddress!) }
        y.withUnsafeMutableBufferPointer { b.copy(into: $0.baseAddress!) }
        return x == y
    }
}
