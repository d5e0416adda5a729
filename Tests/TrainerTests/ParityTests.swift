import Foundation
import XCTest
@testable import Trainer

/// Parity with transformers: the Python script builds random T5 v1.1 models and a batch, this
/// test loads them, runs forward/backward and greedy decoding in Swift and writes the results,
/// and the script compares them with torch. Skipped (with a printed reason) without torch.
final class ParityTests: XCTestCase {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("parity/parity.py")

    @discardableResult
    func run(_ args: [String]) throws -> (status: Int32, output: String) { try runPython(args) }

    func testParityWithTransformers() throws {
        try skipUnlessPythonImports("torch, transformers, safetensors", test: "ParityTests")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-parity-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let made = try run([Self.script.path, "make", dir.path])
        XCTAssertEqual(made.status, 0, made.output)

        struct BatchFile: Decodable { var inputs: [[Int32]]; var targets: [[Int32]]; var max_new_tokens: Int }
        let batch = try JSONDecoder().decode(BatchFile.self, from: Data(contentsOf: dir.appendingPathComponent("batch.json")))
        setThreads(1)
        for name in ["untied", "tied"] {
            let folder = dir.appendingPathComponent(name)
            let (model, _) = try T5Model.load(from: folder)
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
            if name == "untied" { try model.save(to: dir.appendingPathComponent("swift_saved")) }
        }
        let compared = try run([Self.script.path, "compare", dir.path])
        print(compared.output)
        XCTAssertEqual(compared.status, 0, "parity failed:\n\(compared.output)")
    }
}
