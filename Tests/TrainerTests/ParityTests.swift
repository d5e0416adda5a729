import Foundation
import XCTest
@testable import Trainer

/// Parity with transformers: the Python script builds random T5 v1.1, original-T5 and tied gated
/// models and saves each in every weight format; this test loads every folder, runs
/// forward/backward and greedy decoding in Swift and writes the results, and the script compares
/// them with torch. Skipped (with a printed reason) without torch.
final class ParityTests: XCTestCase {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("parity/parity.py")

    @discardableResult
    static func run(_ args: [String]) throws -> (status: Int32, output: String) { try runPython(args) }

    /// A fresh temporary folder filled by `parity.py <command> <folder>`; skips without torch.
    static func pythonMade(_ command: String) throws -> URL {
        try skipUnlessPythonImports("torch, transformers, safetensors", test: "ParityTests")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-\(command)-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let made = try run([script.path, command, dir.path])
        XCTAssertEqual(made.status, 0, made.output)
        return dir
    }

    func testParityWithTransformers() throws {
        let dir = try Self.pythonMade("make")
        defer { try? FileManager.default.removeItem(at: dir) }

        struct BatchFile: Decodable { var inputs: [[Int32]]; var targets: [[Int32]]; var max_new_tokens: Int }
        struct Case: Decodable { var model: String; var folder: String; var save_to: String? }
        let batch = try JSONDecoder().decode(BatchFile.self, from: Data(contentsOf: dir.appendingPathComponent("batch.json")))
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: dir.appendingPathComponent("cases.json")))
        XCTAssertEqual(cases.count, 19)
        setThreads(1)
        for c in cases {
            let folder = URL(fileURLWithPath: c.folder)
            let (model, _) = try T5Model.load(from: folder)
            XCTAssertEqual(model.config.feedForward, c.model == "original" ? .relu : .gatedGELU, c.folder)
            XCTAssertEqual(model.config.tieWordEmbeddings, c.model != "v11", c.folder)
            let (loss, logits) = model.evaluate(inputs: batch.inputs, targets: batch.targets)
            let gradLoss = model.computeGradients(inputs: batch.inputs, targets: batch.targets)
            XCTAssertEqual(loss, gradLoss, accuracy: 1e-6)
            let td = batch.targets.map(\.count).max()!
            var tensors: [(name: String, tensor: Safetensors.Tensor)] = [
                ("logits", .init(shape: [batch.inputs.count, td, model.config.vocabSize], values: logits)),
                ("loss", .init(shape: [1], values: [loss])),
            ]
            for info in model.parameterInfos {
                tensors.append(("grad." + info.name, .init(shape: info.shape, values: model.gradient(named: info.name)!)))
            }
            try Safetensors.write(tensors, to: folder.appendingPathComponent("swift.safetensors"))
            let greedy = model.greedyDecode(inputs: batch.inputs, maxNewTokens: batch.max_new_tokens, batchSize: 3)
            try JSONEncoder().encode(greedy).write(to: folder.appendingPathComponent("swift_greedy.json"))
            if let save = c.save_to { try model.save(to: URL(fileURLWithPath: save)) }
        }
        let compared = try Self.run([Self.script.path, "compare", dir.path])
        print(compared.output)
        XCTAssertEqual(compared.status, 0, "parity failed:\n\(compared.output)")
    }

    /// Checkpoints that must be refused before any training, each with an error naming the file
    /// (and the offending global, field or shard).
    func testBadCheckpointsAreRefusedNamingTheFile() throws {
        let dir = try Self.pythonMade("bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad")
        let expected: [(folder: String, mentions: [String])] = [
            ("no_weights", ["no_weights", "no weights", "model.safetensors", "pytorch_model.bin"]),
            ("truncated", ["truncated/model.safetensors", "truncated"]),
            ("pickle_os_system", ["pickle_os_system/pytorch_model.bin", "data.pkl", "posix.system", "not allowed"]),
            ("pickle_custom_class", ["pickle_custom_class/pytorch_model.bin", "__main__.Custom", "not allowed"]),
            ("pickle_int64", ["pickle_int64/pytorch_model.bin", "torch.LongStorage", "float32, float16 or bfloat16"]),
            ("legacy_torch_format", ["legacy_torch_format/pytorch_model.bin", "legacy"]),
            ("other_architecture", ["other_architecture/config.json", "model_type", "bart"]),
            ("missing_shard", ["missing_shard/model.safetensors.index.json", "model-00005-of-00005.safetensors"]),
        ]
        for (folder, mentions) in expected {
            XCTAssertThrowsError(try T5Model.load(from: bad.appendingPathComponent(folder)), folder) { error in
                let message = "\(error)"
                print("\(folder): \(message)")
                for m in mentions { XCTAssertTrue(message.contains(m), "\(folder): «\(message)» does not mention \(m)") }
            }
        }
    }
}
