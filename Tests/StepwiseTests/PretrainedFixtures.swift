import Foundation
import XCTest
@testable import Stepwise
import Trainer

/// Checkpoint folders for pretrained-student tests, made without Python: a random T5 v1.1 saved
/// by the trainer and a hand-written Unigram `tokenizer.json` (transformers' layout), so
/// planning, keys and spec errors are tested everywhere. The end-to-end test against
/// transformers makes its checkpoint with `Fixtures/pretrained/pretrained_t5.py` instead.
enum TinyCheckpoint {
    /// Pieces: T5's specials, then "▁" + words, then single characters (so any ASCII text encodes).
    static func pieces(words: [String]) -> [(String, Double)] {
        var out: [(String, Double)] = [("<pad>", 0), ("</s>", 0), ("<unk>", 0), ("\u{2581}", -2)]
        for (i, w) in words.enumerated() { out.append(("\u{2581}" + w, -3 - Double(i) * 0.01)) }
        let characters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;?!()+-*/=<>[]'\"_"
        for c in characters { out.append((String(c), -6)) }
        return out
    }

    static let words = ["the", "how", "many", "has", "and", "predict:", "explain:", "So", "answer", "is"]

    /// Writes config.json, model.safetensors and tokenizer.json into `folder`; `embeddingRows`
    /// defaults to the tokenizer's ids + 4 (nil) — give fewer to make a mismatched checkpoint.
    @discardableResult
    static func write(to folder: URL, seed: UInt64 = 1, embeddingRows: Int? = nil) throws -> Int {
        let vocab = pieces(words: words)
        let ids = vocab.count + 100   // + T5's <extra_id_N> sentinels
        let config = T5Config(dModel: 16, dKv: 4, dFF: 24, numLayers: 1, numDecoderLayers: 1, numHeads: 2,
                              vocabSize: embeddingRows ?? ids + 4, dropoutRate: 0.05)
        try T5Model(config: config, seed: seed).save(to: folder)
        var added: [[String: Any]] = [0, 1, 2].map { ["id": $0, "content": vocab[$0].0, "special": true] }
        for k in 0..<100 { added.append(["id": vocab.count + 99 - k, "content": "<extra_id_\(k)>", "special": true]) }
        let json: [String: Any] = [
            "version": "1.0", "added_tokens": added, "normalizer": NSNull(),
            "pre_tokenizer": ["type": "Sequence", "pretokenizers": [["type": "WhitespaceSplit"],
                                                                     ["type": "Metaspace", "replacement": "\u{2581}", "prepend_scheme": "always", "split": true]]],
            "model": ["type": "Unigram", "unk_id": 2, "byte_fallback": false, "vocab": vocab.map { [$0.0, $0.1] }],
        ]
        try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]).write(to: folder.appendingPathComponent("tokenizer.json"))
        return ids
    }
}

/// A Hugging Face hub cache (`HF_HUB_CACHE`) holding one repository in transformers' layout:
/// `models--org--name/{blobs/<sha256>, snapshots/<commit>/<file> → ../../blobs/<sha256>, refs/main}`.
enum FakeHubCache {
    @discardableResult
    static func add(_ id: String, from folder: URL, to cache: URL, commit: String = String(repeating: "ab12", count: 10)) throws -> URL {
        let fm = FileManager.default
        let repo = cache.appendingPathComponent("models--" + id.replacingOccurrences(of: "/", with: "--"))
        let snapshot = repo.appendingPathComponent("snapshots/\(commit)")
        try fm.createDirectory(at: repo.appendingPathComponent("blobs"), withIntermediateDirectories: true)
        try fm.createDirectory(at: snapshot, withIntermediateDirectories: true)
        try fm.createDirectory(at: repo.appendingPathComponent("refs"), withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: folder.path).sorted() {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            let blob = Hashing.sha256Hex(data)
            try data.write(to: repo.appendingPathComponent("blobs/\(blob)"))
            try fm.createSymbolicLink(atPath: snapshot.appendingPathComponent(name).path, withDestinationPath: "../../blobs/\(blob)")
        }
        try commit.write(to: repo.appendingPathComponent("refs/main"), atomically: true, encoding: .utf8)
        return snapshot
    }
}

/// Runs a Python fixture script; skips the calling test (saying why) when `modules` do not import.
enum PythonFixture {
    static func run(_ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func skipUnlessImports(_ modules: String, test: String) throws {
        let probe = try run(["-c", "import \(modules)"])
        if probe.status != 0 {
            print("\(test): SKIPPED — python3 cannot import \(modules):\n\(probe.output)")
            throw XCTSkip("python3 cannot import \(modules)")
        }
    }
}
