import Foundation
import XCTest
@testable import Stepwise
import Trainer

/// Students that start from a pretrained T5 checkpoint (`student.sizes.NAME: {init: …}`): spec
/// errors, keys that follow the checkpoint's content and never its path, the plan, the hub cache,
/// and (with transformers installed) an end-to-end run whose trained folder transformers opens
/// and decodes identically.
final class PretrainedStudentTests: XCTestCase {
    var project: TempProject!
    var checkpoint: URL!

    override func setUpWithError() throws {
        project = try TempProject()
        checkpoint = project.root.appendingPathComponent("models/tiny-t5")
        try FileManager.default.createDirectory(at: checkpoint, withIntermediateDirectories: true)
        try TinyCheckpoint.write(to: checkpoint)
    }

    override func tearDown() { project.remove() }

    static func spec(sizes: String, student extra: String = "", dataset: String = "{kind: synthetic-arith, train_size: 48, valid_size: 8, test_size: 12, seed: 2}") -> String {
        """
        name: pre
        dataset: \(dataset)
        teacher: {kind: synthetic, error_rate: 0.2, seed: 1}
        student:
        \(extra)  sizes:
        \(sizes)
        train: {steps: 4, batch_size: 4, eval_every: 2, max_input_length: 40, max_target_length: 12}
        methods:
          standard_finetune: {}
          distill_step_by_step: {lambda: 1}
        sweep: {data_fraction: [1.0]}
        """
    }

    func specError(_ yaml: String) throws -> SpecError {
        do {
            let e = try project.experiment(yaml)
            _ = try Planner.plan(e)
        } catch let error as SpecError {
            return error
        }
        XCTFail("expected a spec error")
        throw XCTSkip("no error")
    }

    // MARK: - Spec

    func testInitAndShapeKeysAreExclusive() throws {
        let error = try specError(Self.spec(sizes: "    pre: {init: ../models/tiny-t5, d_model: 64}"))
        XCTAssertEqual(error.issues.count, 1, "\(error)")
        let issue = error.issues[0]
        XCTAssertEqual(issue.path, "student.sizes.pre.d_model")
        XCTAssertEqual(issue.line, 6)
        XCTAssertTrue(issue.message.contains("`init` and shape keys"), issue.message)
    }

    func testTokenizerWithOnlyPretrainedSizesIsAnError() throws {
        let error = try specError(Self.spec(sizes: "    pre: {init: ../models/tiny-t5}", student: "  tokenizer: {kind: bpe, vocab: 300}\n"))
        XCTAssertEqual(error.issues.map(\.path), ["student.tokenizer"], "\(error)")
        XCTAssertEqual(error.issues[0].line, 5)
        XCTAssertTrue(error.issues[0].message.contains("pretrained checkpoint"), error.issues[0].message)
        // With a from-scratch size beside it, the tokenizer section is that size's: valid.
        let e = try project.experiment(Self.spec(sizes: "    pre: {init: ../models/tiny-t5}\n    t: {d_model: 16, layers: 1, heads: 2, d_ff: 32}",
                                                 student: "  tokenizer: {kind: bpe, vocab: 300}\n"))
        XCTAssertFalse(try Planner.plan(e).stages.isEmpty)
    }

    func testCheckpointProblemsArePositionedAtInitAndNameTheFile() throws {
        let cases: [(prepare: () throws -> String, mentions: [String])] = [
            ({ "../models/nowhere" }, ["no checkpoint folder", "models/nowhere"]),
            ({
                let dir = self.project.root.appendingPathComponent("models/no-weights")
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                try FileManager.default.copyItem(at: self.checkpoint.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
                return "../models/no-weights"
            }, ["models/no-weights", "no weights", "model.safetensors"]),
            ({
                let dir = self.project.root.appendingPathComponent("models/no-tokenizer")
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                for f in ["config.json", "model.safetensors"] {
                    try FileManager.default.copyItem(at: self.checkpoint.appendingPathComponent(f), to: dir.appendingPathComponent(f))
                }
                return "../models/no-tokenizer"
            }, ["models/no-tokenizer", "no tokenizer", "spiece.model", "tokenizer.json"]),
            ({
                let dir = self.project.root.appendingPathComponent("models/mismatch")
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                try TinyCheckpoint.write(to: dir, embeddingRows: 50)
                return "../models/mismatch"
            }, ["models/mismatch/tokenizer.json", "models/mismatch/config.json", "50 rows"]),
            ({
                let dir = self.project.root.appendingPathComponent("models/bart")
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                try TinyCheckpoint.write(to: dir)
                try #"{"model_type": "bart", "d_model": 16}"#.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
                return "../models/bart"
            }, ["models/bart/config.json", "model_type", "bart"]),
        ]
        for (prepare, mentions) in cases {
            let path = try prepare()
            let error = try specError(Self.spec(sizes: "    pre: {init: \(path)}"))
            XCTAssertEqual(error.issues.count, 1, "\(error)")
            let issue = error.issues[0]
            XCTAssertEqual(issue.path, "student.sizes.pre.init", "\(error)")
            XCTAssertEqual(issue.line, 6, "\(error)")
            XCTAssertEqual(issue.column, 17, "\(error)")
            for m in mentions { XCTAssertTrue(issue.message.contains(m), "\(path): `\(m)` not in: \(issue.message)") }
        }
    }

    func testAValueThatIsNeitherAFolderNorAHubIDIsAnError() throws {
        let error = try specError(Self.spec(sizes: "    pre: {init: 'not a/hub/id'}"))
        XCTAssertEqual(error.issues.map(\.path), ["student.sizes.pre.init"])
        XCTAssertTrue(error.issues[0].message.contains("neither a folder"), error.issues[0].message)
    }

    // MARK: - Plan and keys

    func testPretrainedCellsReadTheCheckpointNotTheTokenizerStage() throws {
        let e = try project.experiment(Self.spec(sizes: "    pre: {init: ../models/tiny-t5}\n    t: {d_model: 16, layers: 1, heads: 2, d_ff: 32}",
                                                 student: "  tokenizer: {kind: bpe, vocab: 300}\n"))
        let plan = try Planner.plan(e)
        let trains = plan.stages.filter { $0.kind == .train }
        XCTAssertEqual(trains.count, 4)
        for stage in trains {
            let pretrained = stage.label.contains(" pre ")
            XCTAssertEqual(stage.inputs.contains { $0.role == "tokenizer" }, !pretrained, stage.label)
            XCTAssertEqual(stage.params["pretrained"] != nil, pretrained, stage.label)
            if pretrained {
                XCTAssertEqual(stage.params["pretrained"]?["input_format"]?["label_prefix"], .string("predict: "))
                XCTAssertEqual(stage.params["size"]?["d_model"], .number(16), "the shape is the checkpoint's")
                XCTAssertEqual(stage.params["dropout"], .number(0.05), "the checkpoint's dropout_rate when the spec sets none")
            }
        }
        // A job file carries the pretrained params and the checkpoint folder setting: a stage
        // rebuilt from it (another process) has the same key params.
        for stage in plan.stages {
            let rebuilt = try StageRegistry.work(kind: stage.kind, payload: try stage.work.encode())
            XCTAssertEqual(rebuilt.keyParams, stage.params, stage.label)
        }
        let evaluations = plan.stages.filter { $0.kind == .evaluate }
        for stage in evaluations { XCTAssertEqual(stage.params["input_format"] != nil, stage.label.contains(" pre "), stage.label) }
        // `plan` shows each size's parameters and where its weights come from.
        let text = PlanPrinter.text(PlanStatus(plan: plan, cachedKeys: []), explanations: nil)
        let parameters = try T5Config.read(from: checkpoint.appendingPathComponent("config.json")).parameterCount
        XCTAssertEqual(parameters, try T5Model.load(from: checkpoint).0.parameterCount, "counted without allocating = the model's")
        XCTAssertTrue(text.contains("pre: \(String(format: "%.0f k", Double(parameters) / 1e3)) parameters, \(checkpoint.path)"), text)
        XCTAssertTrue(text.contains("t: ≤ "), text)
        XCTAssertTrue(text.contains("from scratch (bpe vocabulary ≤ 300)"), text)
        // The dropout the spec writes applies to pretrained sizes too.
        let written = try project.experiment(Self.spec(sizes: "    pre: {init: ../models/tiny-t5}", student: "  dropout: 0.2\n"))
        XCTAssertEqual(try Planner.plan(written).stages.first { $0.kind == .train }?.params["dropout"], .number(0.2))
    }

    func testTheKeyFollowsTheCheckpointsContentNotItsPath() throws {
        let yaml = Self.spec(sizes: "    pre: {init: ../models/tiny-t5}")
        func trainKeys(_ yaml: String) throws -> [String] {
            try Planner.plan(try project.experiment(yaml)).stages.filter { $0.kind == .train || $0.kind == .evaluate }.map(\.key)
        }
        let before = try trainKeys(yaml)
        // Moved (and given as an absolute path): the same keys.
        let moved = project.root.appendingPathComponent("elsewhere/t5-copy")
        try FileManager.default.createDirectory(at: moved.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: checkpoint, to: moved)
        XCTAssertEqual(try trainKeys(Self.spec(sizes: "    pre: {init: \(moved.path)}")), before)
        // One changed weight byte: new train and evaluate keys.
        let weights = moved.appendingPathComponent("model.safetensors")
        var bytes = try Data(contentsOf: weights)
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: weights)
        let edited = try trainKeys(Self.spec(sizes: "    pre: {init: \(moved.path)}"))
        XCTAssertEqual(Set(edited).intersection(before), [])
        // A changed tokenizer file changes them too.
        let tokenizer = moved.appendingPathComponent("tokenizer.json")
        let text = try String(contentsOf: tokenizer, encoding: .utf8)
        let renamed = text.replacingOccurrences(of: "\u{2581}how", with: "\u{2581}who")
        XCTAssertNotEqual(renamed, text)
        try renamed.write(to: tokenizer, atomically: true, encoding: .utf8)
        XCTAssertEqual(Set(try trainKeys(Self.spec(sizes: "    pre: {init: \(moved.path)}"))).intersection(edited), [])
    }

    /// The train stage re-checks the checkpoint before reading it: a weight file edited between
    /// planning and the stage's start fails the stage (its key no longer describes the file).
    func testTheTrainStageRefusesACheckpointChangedSincePlanning() throws {
        let e = try project.experiment(Self.spec(sizes: "    pre: {init: ../models/tiny-t5}"))
        let plan = try Planner.plan(e)
        let weights = checkpoint.appendingPathComponent("model.safetensors")
        var bytes = try Data(contentsOf: weights)
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: weights)
        let store = try Store(url: project.storeURL)
        let outcome = try Scheduler(plan: plan, store: store, executor: InProcessExecutor(slots: 1),
                                    progress: ProgressReporter(live: false, write: { _ in })).run(runID: try store.beginRun(spec: "x"))
        XCTAssertEqual(Set(outcome.failed.map(\.stage.kind)), [.train])
        for failure in outcome.failed {
            XCTAssertTrue(failure.error.contains("changed since the run was planned") && failure.error.contains(checkpoint.path), failure.error)
        }
    }

    /// A file edited right after it was hashed (same size, and a modification time the kernel's
    /// clock tick may not have advanced) is hashed again, not served from the in-memory cache.
    func testAFileEditedRightAfterHashingIsHashedAgain() throws {
        let file = project.root.appendingPathComponent("weights.bin")
        let fm = FileManager.default
        try Data([UInt8](repeating: 1, count: 64)).write(to: file)
        let first = try FileFingerprints.sha256(of: file)
        let stamp = try XCTUnwrap(try fm.attributesOfItem(atPath: file.path)[.modificationDate] as? Date)
        try Data([UInt8](repeating: 2, count: 64)).write(to: file)
        try fm.setAttributes([.modificationDate: stamp], ofItemAtPath: file.path)   // the tick did not advance
        XCTAssertNotEqual(try FileFingerprints.sha256(of: file), first)
        // An old file is remembered by (path, size, modification time).
        let old = Date(timeIntervalSinceNow: -60)
        try fm.setAttributes([.modificationDate: old], ofItemAtPath: file.path)
        let remembered = try FileFingerprints.sha256(of: file)
        try Data([UInt8](repeating: 3, count: 64)).write(to: file)
        try fm.setAttributes([.modificationDate: old], ofItemAtPath: file.path)
        XCTAssertEqual(try FileFingerprints.sha256(of: file), remembered, "served from the cache, not read again")
    }

    /// From-scratch keys are what they were before pretrained students existed (these keys were
    /// printed by `stepwise plan --json` built from main before that change; the train and
    /// evaluate keys re-pinned when TrainerVersion became 5, which by design re-trains every
    /// student — the tokenizer's key shows the rest stayed).
    func testFromScratchKeysAreUnchanged() throws {
        let e = try project.experiment(ExecutorConformance.spec, name: "conf")
        let keys = Dictionary(try Planner.plan(e).stages.map { ($0.label, $0.key) }, uniquingKeysWith: { a, _ in a })
        let pinned = [
            "tokenizer[bpe 200]": "f01cf99b2aa92b0a5d2af8af46db3d96bef7516cf0f916d8ea02c5d116bdaed0",
            "train[standard_finetune t f=0.5 seed=0]": "443342e746fc2ad38776a498d70b17efa4857463e00ddcccbf133cdee3c97f6f",
            "evaluate[standard_finetune t f=0.5 seed=0]": "439d9045d0322d0ec629875a1c94d88360093707a9fb9b82d8294ac6abe1652b",
            "train[distill_step_by_step t f=1 labels=gold λ=0.5 seed=0]": "5025d245f5bf47d326b0530f7f6ece1818e2df8f1df5b871add5771b43068681",
            "evaluate[distill_step_by_step t f=1 labels=gold λ=0.5 seed=0]": "a61f413c5f1134daf1d00313172bcc7c68c9d3eafedfbc7be94789be82a5a807",
        ]
        for (label, key) in pinned { XCTAssertEqual(keys[label], key, label) }
    }

    // MARK: - The hub cache

    func testAHubIDIsFoundInTheLocalCacheOffline() throws {
        let cache = project.root.appendingPathComponent("hf-cache")
        let commit = String(repeating: "c0ffee12", count: 5)
        let snapshot = try FakeHubCache.add("google/t5-v1_1-small", from: checkpoint, to: cache, commit: commit)
        let spec = try project.write(Self.spec(sizes: "    small: {init: google/t5-v1_1-small}"))
        let env = ["HF_HUB_CACHE": cache.path, "HF_HOME": project.root.appendingPathComponent("no-home").path]
        let r = try CLI.run(["plan", spec, "--offline"], cwd: project.root, env: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("small: "), r.stdout)
        XCTAssertTrue(r.stdout.contains("google/t5-v1_1-small@\(commit) (\(snapshot.path))"), r.stdout)
        // The snapshot's identity comes from its blob names, not its location.
        let inProcess = try StudentCheckpoints.resolveCached(try SpecParser.load(file: spec, root: project.root), environment: env)
        XCTAssertEqual(inProcess.bySize["small"]?.identity.commit, commit)
        // Not in the cache, offline: an error at `init:` saying where it looked.
        let missing = try project.write(Self.spec(sizes: "    base: {init: google/t5-v1_1-base}"), name: "missing")
        let m = try CLI.run(["validate", missing, "--offline"], cwd: project.root, env: env)
        XCTAssertEqual(m.status, 2, m.stdout + m.stderr)
        XCTAssertTrue(m.stderr.contains("student.sizes.base.init"), m.stderr)
        XCTAssertTrue(m.stderr.contains(cache.path), m.stderr)
        XCTAssertTrue(m.stderr.contains("was read as a hub id: there is no folder \(project.root.appendingPathComponent("Experiments/google/t5-v1_1-base").path)"), m.stderr)
    }

    // MARK: - End to end, against transformers

    func testAPretrainedAndAFromScratchSizeTrainEvaluateAndOpenInTransformers() throws {
        try PythonFixture.skipUnlessImports("torch, transformers, sentencepiece, safetensors", test: "PretrainedStudentTests")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pretrained/pretrained_t5.py")
        // A sentencepiece model trained on the dataset's own texts and the task prefixes.
        let splits = SyntheticArith.splits(train: 200, valid: 20, test: 20, seed: 2)
        let corpus = project.root.appendingPathComponent("corpus.txt")
        try ((splits.train + splits.valid).flatMap { [$0.input, $0.label] } + ["predict: explain: So the answer is"])
            .joined(separator: "\n").write(to: corpus, atomically: true, encoding: .utf8)
        let folder = project.root.appendingPathComponent("models/spm-t5")
        let made = try PythonFixture.run([script.path, "make", folder.path, corpus.path])
        XCTAssertEqual(made.status, 0, made.output)

        let spec = try project.write("""
            name: pre-e2e
            dataset: {kind: synthetic-arith, train_size: 48, valid_size: 8, test_size: 12, seed: 2}
            teacher: {kind: synthetic, error_rate: 0.2, seed: 1}
            student:
              tokenizer: {kind: bpe, vocab: 200}
              sizes:
                pre: {init: ../models/spm-t5}
                t: {d_model: 16, layers: 1, heads: 2, d_ff: 32}
            train: {steps: 8, batch_size: 8, lr: 3.0e-3, eval_every: 4, max_input_length: 64, max_target_length: 12}
            methods:
              distill_step_by_step: {lambda: 1}
            sweep: {data_fraction: [1.0], size: [pre, t]}
            """)
        let r = try CLI.run(["run", spec, "--jobs", "2", "--offline"], cwd: project.root)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let csv = try String(contentsOf: project.root.appendingPathComponent("Results/pre-e2e/results.csv"), encoding: .utf8)
        XCTAssertTrue(csv.contains("distill_step_by_step,pre,1,1,0,test,equation,"), csv)
        XCTAssertTrue(csv.contains("distill_step_by_step,t,1,1,0,test,equation,"), csv)

        let plan = try Planner.plan(try SpecParser.load(file: spec, root: project.root))
        let store = try Store(url: project.storeURL)
        let train = try XCTUnwrap(plan.stages.first { $0.kind == .train && $0.label.contains(" pre ") })
        guard case .folder(let trained)? = try store.location(train.key) else { return XCTFail("no trained folder") }
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: trained.path))
        XCTAssertTrue(files.isSuperset(of: ["model.safetensors", "config.json", "spiece.model", "tokenizer.json", "training.json"]), "\(files)")

        // transformers opens the trained folder (from_pretrained + AutoTokenizer) and decodes
        // greedily exactly as Stepwise does, on the inputs evaluation gave the student.
        let evaluation = try XCTUnwrap(plan.stages.first { $0.kind == .evaluate && $0.label.contains(" pre ") })
        let row = try JSONDecoder().decode(EvaluationArtifact.self, from: try XCTUnwrap(try store.payload(evaluation.key)))
        let format = StudentKind.pretrained.inputFormat(dataset: .syntheticArith)
        let test = SyntheticArith.splits(train: 48, valid: 8, test: 12, seed: 2).test
        let texts = test.map { format.labelTask($0) }
        XCTAssertTrue(texts[0].hasPrefix("predict: "))
        let request = project.root.appendingPathComponent("request.json")
        try JSONSerialization.data(withJSONObject: ["texts": texts, "max_new_tokens": 12]).write(to: request)
        let answer = project.root.appendingPathComponent("answer.json")
        let greedy = try PythonFixture.run([script.path, "greedy", trained.path, request.path, answer.path])
        XCTAssertEqual(greedy.status, 0, greedy.output)
        struct Answer: Decodable { var input_ids: [[Int32]]; var output_ids: [[Int32]]; var texts: [String] }
        let reference = try JSONDecoder().decode(Answer.self, from: Data(contentsOf: answer))

        let (model, tokenizer) = try StudentTokenizer.load(trained)
        guard case .sentencePiece = tokenizer else { return XCTFail("the trained folder must hold the checkpoint's tokenizer") }
        let inputs = texts.map { tokenizer.text.encode($0, appendEOS: true) }
        XCTAssertEqual(inputs, reference.input_ids, "the same ids as AutoTokenizer, </s> appended")
        setThreads(1)
        let outputs = model.greedyDecode(inputs: inputs, maxNewTokens: 12, batchSize: 4)
        XCTAssertEqual(outputs, reference.output_ids, "the same greedy output as transformers")
        XCTAssertTrue(outputs.contains { !$0.isEmpty }, "a model that only stops at once tests little")
        // The texts evaluation scored are transformers' decodings (where no <unk> is decoded:
        // sentencepiece spells it " ⁇ ", transformers drops it as a special token).
        for (i, ids) in outputs.enumerated() where !ids.contains(2) {
            XCTAssertEqual(row.predictions?[i], reference.texts[i].trimmingCharacters(in: .whitespacesAndNewlines), "test example \(i)")
        }
    }
}
