import Foundation
import Trainer

/// The files of a pretrained checkpoint folder that a student reads, shared by planning (which
/// puts their identity in the train key) and the train stage (which checks it before reading).
enum PretrainedFolder {
    /// The tokenizer files `SentencePieceTokenizer` reads (the model, and the settings that
    /// change its ids: sentinels in `tokenizer_config.json`, the special tokens).
    static let tokenizerFiles = ["spiece.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]

    /// config.json, the weight files the checkpoint reads (and a shard index), the tokenizer files present.
    static func files(of checkpoint: T5Checkpoint) -> [URL] {
        let folder = checkpoint.folder
        var files = [folder.appendingPathComponent("config.json")] + checkpoint.files
        switch checkpoint.format {
        case .shardedSafetensors: files.append(folder.appendingPathComponent("model.safetensors.index.json"))
        case .shardedPytorch: files.append(folder.appendingPathComponent("pytorch_model.bin.index.json"))
        case .safetensors, .pytorch: break
        }
        files += tokenizerFiles.map { folder.appendingPathComponent($0) }.filter { FileManager.default.fileExists(atPath: $0.path) }
        return files
    }

    /// The checkpoint's tokenizer as transformers' `AutoTokenizer` reads it (the paper's
    /// tokenizer, and what a user of the trained folder gets): `tokenizer.json` when the folder has
    /// one, else transformers' conversion of `spiece.model`.
    static func tokenizer(in folder: URL) throws -> SentencePieceTokenizer {
        let fm = FileManager.default
        guard ["spiece.model", "tokenizer.json"].contains(where: { fm.fileExists(atPath: folder.appendingPathComponent($0).path) }) else {
            throw StepwiseError("\(folder.path): no tokenizer (looked for spiece.model and tokenizer.json)")
        }
        return try SentencePieceTokenizer.load(from: folder, reference: .transformers)
    }
}
