import XCTest
import Trainer
@testable import Stepwise

/// `train.recompute_activations` is a setting of the train stages: it reaches their jobs, changes
/// no key, and a run with it on or off stores the same checkpoint bytes.
final class RecomputeSettingTests: XCTestCase {
    var project: TempProject!
    override func setUpWithError() throws { project = try TempProject() }
    override func tearDown() { project.remove() }

    static let spec = """
        name: recompute
        dataset: {kind: synthetic-arith, train_size: 48, valid_size: 8, test_size: 8, seed: 2}
        teacher: {kind: synthetic, error_rate: 0.2}
        student:
          tokenizer: {kind: bpe, vocab: 120}
          sizes:
            t: {d_model: 16, layers: 2, heads: 2, d_ff: 32}
        train: {steps: 4, batch_size: 6, eval_every: 2, max_input_length: 40, max_target_length: 16, seeds: [0]RECOMPUTE}
        methods:
          distill_step_by_step: {lambda: 0.5}
        sweep: {data_fraction: [1.0]}
        """

    func spec(_ value: String?) -> String {
        Self.spec.replacingOccurrences(of: "RECOMPUTE", with: value.map { ", recompute_activations: \($0)" } ?? "")
    }

    /// The train stages' settings as their job files carry them.
    func trainSettings(_ plan: Plan) throws -> [TrainStage.Settings] {
        struct Payload: Decodable { var settings: TrainStage.Settings }
        return try plan.stages.filter { $0.kind == .train }.map { try JSONDecoder().decode(Payload.self, from: $0.work.encode()).settings }
    }

    func testParsedValuesReachTheTrainJobsAndChangeNoKey() throws {
        let written: [(String?, RecomputeActivations)] = [(nil, .auto), ("auto", .auto), ("true", .on), ("false", .off), ("yes", .on)]
        var keys: Set<[String]> = []
        for (value, expected) in written {
            let e = try project.experiment(spec(value), name: "r\(keys.count)")
            XCTAssertEqual(e.recomputeActivations, expected, value ?? "absent")
            let plan = try Planner.plan(e)
            let settings = try trainSettings(plan)
            XCTAssertFalse(settings.isEmpty)
            XCTAssertTrue(settings.allSatisfy { $0.recomputeActivations == expected }, value ?? "absent")
            keys.insert(plan.stages.map(\.key))
        }
        XCTAssertEqual(keys.count, 1, "recompute_activations is in no key")
    }

    func testBadValueIsAPositionedError() throws {
        do {
            _ = try project.experiment(spec("sometimes"))
            XCTFail("expected the spec to be rejected")
        } catch let error as SpecError {
            let issue = try XCTUnwrap(error.issues.first)
            XCTAssertEqual(error.issues.count, 1)
            XCTAssertEqual(issue.path, "train.recompute_activations")
            XCTAssertEqual(issue.line, 8)
            XCTAssertTrue(issue.file.hasSuffix("exp.yaml"), issue.file)
            XCTAssertTrue(issue.description.contains("expected `auto`, `true` or `false`, found `sometimes`"), issue.description)
        }
        do {
            _ = try project.experiment(spec("[true]"))
            XCTFail("expected the spec to be rejected")
        } catch let error as SpecError {
            XCTAssertEqual(error.issues.map(\.path), ["train.recompute_activations"])
            XCTAssertTrue(error.issues[0].description.contains("found a list"), error.issues[0].description)
        }
    }

    /// `auto` recomputes exactly when a step keeping the activations would take more than half of
    /// the machine's memory; `true` and `false` do as they say.
    func testAutoDecidesFromTheEstimatedStepMemory() {
        let config = T5Config(dModel: 64, dKv: 16, dFF: 128, numLayers: 2, numDecoderLayers: 2, numHeads: 4, vocabSize: 300)
        var options = TrainOptions()
        options.batchSize = 16; options.threads = 2; options.microBatches = 2
        options.maxInputLength = 64; options.maxTargetLength = 32
        let kept = TrainingMemory(config: config, options: options, encoderLength: 64, decoderLength: 32).totalBytes
        options.recomputeActivations = true
        let recomputed = TrainingMemory(config: config, options: options, encoderLength: 64, decoderLength: 32).totalBytes
        XCTAssertLessThan(recomputed, kept)
        func decide(_ policy: RecomputeActivations, machine: Int) -> Bool {
            policy.decide(config: config, options: options, encoderLength: 64, decoderLength: 32,
                          physicalMemory: UInt64(machine)).recompute
        }
        XCTAssertTrue(decide(.auto, machine: 2 * kept - 2))
        XCTAssertFalse(decide(.auto, machine: 2 * kept))
        XCTAssertTrue(decide(.on, machine: 1 << 40))
        XCTAssertFalse(decide(.off, machine: 1))
        // Longer data needs more memory: the decision is taken at the stage's own lengths.
        XCTAssertTrue(RecomputeActivations.auto.decide(config: config, options: options, encoderLength: 8, decoderLength: 4,
                                                       physicalMemory: UInt64(2 * kept)).reason.contains("auto → false"))
    }

    /// The same tiny study run with recompute on and off, each in its own project: the same keys
    /// and byte-identical checkpoints and evaluations.
    func testRunOnOrOffStoresTheSameArtifacts() throws {
        var artifacts: [[String: Data]] = []
        var keys: [[String]] = []
        for value in ["true", "false"] {
            let project = try TempProject()
            defer { project.remove() }
            let file = try project.write(spec(value))
            let r = try CLI.run(["run", file, "--jobs", "1"], cwd: project.root)
            XCTAssertEqual(r.status, 0, r.stderr)
            let plan = try Planner.plan(try SpecParser.load(file: file, root: project.root))
            let store = try Store(url: project.storeURL)
            var files: [String: Data] = [:]
            for stage in plan.stages where stage.kind == .train || stage.kind == .evaluate {
                switch try store.location(stage.key) {
                case .folder(let folder)?:
                    for name in ["model.safetensors", "training.json"] {
                        files["\(stage.label)/\(name)"] = try Data(contentsOf: folder.appendingPathComponent(name))
                    }
                default:
                    files[stage.label] = try XCTUnwrap(try store.payload(stage.key), stage.label)
                }
            }
            XCTAssertEqual(files.count, 3, "\(files.keys.sorted())")
            artifacts.append(files)
            keys.append(plan.stages.map(\.key))
        }
        XCTAssertEqual(keys[0], keys[1])
        XCTAssertEqual(artifacts[0], artifacts[1])
    }
}
