import Foundation
import XCTest
@testable import Trainer

/// Checkpoint reading without Python: config.json validation, safetensors bounds, shard indexes,
/// half-precision conversion. (Formats written by torch/transformers are in ParityTests.)
final class CheckpointTests: XCTestCase {
    var dir: URL!
    override func setUp() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-ckpt-\(getpid())-\(name.hashValue)")
        try? FileManager.default.removeItem(at: dir)
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    let tiny = T5Config(dModel: 8, dKv: 3, dFF: 12, numLayers: 1, numDecoderLayers: 2, numHeads: 2, vocabSize: 11)

    func savedFolder(_ config: T5Config) throws -> URL {
        let folder = dir.appendingPathComponent("model")
        try T5Model(config: config, seed: 3).save(to: folder)
        return folder
    }

    func editConfig(_ folder: URL, _ edit: (inout [String: Any]) -> Void) throws {
        let url = folder.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
    }

    func assertRefused(_ folder: URL, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try T5Checkpoint.open(folder: folder), file: file, line: line) { error in
            let message = "\(error)"
            for m in mentions { XCTAssertTrue(message.contains(m), "«\(message)» does not mention \(m)", file: file, line: line) }
        }
    }

    func testUnsupportedConfigFieldsNameTheFileAndField() throws {
        let folder = try savedFolder(tiny)
        let cases: [(String, Any?, [String])] = [
            ("model_type", "bert", ["config.json", "model_type", "bert"]),
            ("is_encoder_decoder", false, ["config.json", "is_encoder_decoder"]),
            ("feed_forward_proj", "gated-silu", ["config.json", "feed_forward_proj", "gated-silu"]),
            ("architectures", ["T5EncoderModel"], ["config.json", "architectures", "T5EncoderModel"]),
            ("d_model", nil, ["config.json", "d_model"]),
            ("num_heads", "four", ["config.json", "num_heads"]),
            ("d_kv", 0, ["config.json", "d_kv"]),
        ]
        let original = try Data(contentsOf: folder.appendingPathComponent("config.json"))
        for (field, value, mentions) in cases {
            try original.write(to: folder.appendingPathComponent("config.json"))
            try editConfig(folder) { $0[field] = value }
            assertRefused(folder, mentions: mentions)
        }
    }

    func testOriginalT5DefaultsWhenConfigOmitsTheKeys() throws {
        // The original t5-small config.json has no feed_forward_proj and no tie_word_embeddings:
        // transformers' defaults make it relu with a tied, rescaled head.
        let folder = try savedFolder(T5Config(dModel: 8, dKv: 3, dFF: 12, numLayers: 1, numHeads: 2, vocabSize: 11, original: true))
        try editConfig(folder) {
            for key in ["feed_forward_proj", "tie_word_embeddings", "scale_decoder_outputs", "dense_act_fn", "is_gated_act"] {
                $0[key] = nil
            }
            $0["architectures"] = ["T5WithLMHeadModel"]
        }
        let checkpoint = try T5Checkpoint.open(folder: folder)
        XCTAssertEqual(checkpoint.config.feedForward, .relu)
        XCTAssertTrue(checkpoint.config.tieWordEmbeddings)
        XCTAssertTrue(checkpoint.config.scaleDecoderOutputs)
        XCTAssertNil(checkpoint.shape(of: "lm_head.weight"))
        XCTAssertEqual(checkpoint.shape(of: "encoder.block.0.layer.1.DenseReluDense.wi.weight"), [12, 8])
    }

    func testSaveLoadRoundTripBothArchitectures() throws {
        for original in [false, true] {
            let config = T5Config(dModel: 8, dKv: 3, dFF: 12, numLayers: 1, numDecoderLayers: 2, numHeads: 2, vocabSize: 11,
                                  relativeAttentionMaxDistance: 40, original: original)
            let model = T5Model(config: config, seed: 5)
            let folder = dir.appendingPathComponent("rt-\(original)")
            try model.save(to: folder)
            let (loaded, _) = try T5Model.load(from: folder)
            XCTAssertEqual(loaded.config, config)
            XCTAssertEqual(loaded.snapshot(), model.snapshot())
            XCTAssertEqual(loaded.parameterInfos.contains { $0.name == "lm_head.weight" }, !original)
        }
    }

    func testTransformersTokenizerFileIsNotTakenForOurs() throws {
        let folder = try savedFolder(tiny)
        try Data(#"{"version": "1.0", "model": {"type": "Unigram", "vocab": []}}"#.utf8)
            .write(to: folder.appendingPathComponent("tokenizer.json"))
        let (_, tokenizer) = try T5Model.load(from: folder)
        XCTAssertNil(tokenizer)
    }

    func testNoWeightsAndNoConfig() throws {
        let folder = try savedFolder(tiny)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("model.safetensors"))
        assertRefused(folder, mentions: [folder.path, "no weights", "model.safetensors", "pytorch_model.bin"])
        try FileManager.default.removeItem(at: folder.appendingPathComponent("config.json"))
        assertRefused(folder, mentions: ["config.json"])
    }

    func testTruncatedSafetensors() throws {
        let folder = try savedFolder(tiny)
        let file = folder.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: file)
        try data.prefix(data.count - 100).write(to: file)
        assertRefused(folder, mentions: [file.path, "truncated"])
        // Cut inside the header: the header's length is more than the file holds.
        try data.prefix(40).write(to: file)
        assertRefused(folder, mentions: [file.path, "header says"])
    }

    func testMissingTensorAndWrongShape() throws {
        let folder = try savedFolder(tiny)
        try editConfig(folder) { $0["d_ff"] = 13 }
        assertRefused(folder, mentions: ["model.safetensors", "wi_0.weight", "[12, 8]", "[13, 8]"])
        try editConfig(folder) { $0["d_ff"] = 12; $0["num_layers"] = 2 }
        assertRefused(folder, mentions: ["model.safetensors", "encoder.block.1."])
    }

    func testShardIndexNamingAMissingShard() throws {
        let folder = try savedFolder(tiny)
        let file = folder.appendingPathComponent("model.safetensors")
        try FileManager.default.moveItem(at: file, to: folder.appendingPathComponent("model-00001-of-00002.safetensors"))
        let names = try T5Model(config: tiny).parameterInfos.map(\.name)
        var map: [String: String] = [:]
        for (i, n) in names.enumerated() { map[n] = i < 4 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors" }
        try JSONSerialization.data(withJSONObject: ["weight_map": map])
            .write(to: folder.appendingPathComponent("model.safetensors.index.json"))
        assertRefused(folder, mentions: ["model.safetensors.index.json", "model-00002-of-00002.safetensors"])
    }

    func testHalfToFloatIsExactForEveryBitPattern() {
        for bits in 0...UInt16.max {
            let reference = Float(Float16(bitPattern: bits))
            let ours = halfToFloat(bits)
            if reference.isNaN { XCTAssertTrue(ours.isNaN); continue }
            XCTAssertEqual(ours.bitPattern, reference.bitPattern, "half \(bits)")
        }
    }
}
