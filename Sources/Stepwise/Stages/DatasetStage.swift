import Foundation

/// dataset: the normalized examples of every split.
public enum DatasetStage: StageDefinition {
    public static let kind: StageKind = "dataset"
    public static let version = 1

    public struct Params: Codable, Sendable {
        /// The dataset section without file paths (those are settings: moving a file keeps the key).
        public var dataset: DatasetSpec
        /// The loader's or generator's own version: the same files can load differently after a fix.
        public var implementation: Int
        /// sha256 of the data files (names and bytes), for file-backed datasets.
        public var content: String?
    }

    public struct Settings: Codable, Sendable {
        /// Absolute paths: the paper dataset's folder, or the jsonl files.
        public var directory: String?
        public var files: [String]
        public var root: String
    }

    public static func run(_ p: Params, settings: Settings, inputs: StageInputs, output: StageOutput) throws {
        try FileContent.verify(settings.files.map(URL.init(fileURLWithPath:)), hash: p.content, stage: "dataset")
        let spec = p.dataset
        let splits: DatasetSplits
        switch spec.kind {
        case .syntheticArith:
            let open = SyntheticArith.splits(train: spec.trainSize ?? 2000, valid: spec.validSize ?? 200,
                                             test: spec.testSize ?? 500, seed: UInt64(spec.seed ?? 0), mix: spec.syntheticMix)
            splits = spec.choices.map {
                SyntheticChoices.apply(open, count: $0, seed: UInt64(spec.seed ?? 0), letters: spec.answer == "letter")
            } ?? open
        case .svamp, .cqa, .esnli, .anli1:
            let paper = PaperDataset(rawValue: spec.kind.rawValue)!
            splits = try PaperDatasetLoader.load(paper, directory: settings.directory ?? "")
        case .jsonl:
            let config = JSONLDatasetConfig(train: settings.files[0], test: settings.files[settings.files.count - 1],
                                            valid: settings.files.count == 3 ? settings.files[1] : nil,
                                            inputField: spec.inputField ?? "input", labelField: spec.labelField ?? "label",
                                            rationaleField: spec.rationaleField)
            splits = try JSONLDatasetLoader.load(config, baseDirectory: settings.root)
        }
        guard !splits.train.isEmpty, !splits.test.isEmpty else {
            throw StepwiseError("the dataset has \(splits.train.count) training and \(splits.test.count) test examples; both must be non-empty")
        }
        try output.write(splits)
    }
}

/// subsample: which training examples a data fraction sees. One permutation per seed, and
/// each fraction takes a prefix of it, so for one seed 12.5 % ⊂ 25 % ⊂ 50 % ⊂ 100 %.
public enum SubsampleStage: StageDefinition {
    public static let kind: StageKind = "subsample"
    public static let version = 1

    public struct Params: Codable, Sendable {
        public var fraction: Double
        public var seed: Int
    }

    struct Artifact: Codable {
        var fraction: Double
        var seed: Int
        var ids: [String]
    }

    public static func run(_ p: Params, settings: NoSettings, inputs: StageInputs, output: StageOutput) throws {
        let splits = try inputs.decode("dataset", as: DatasetSplits.self)
        let ids = choose(ids: splits.train.map(\.id), fraction: p.fraction, seed: p.seed)
        try output.write(Artifact(fraction: p.fraction, seed: p.seed, ids: ids))
    }

    static func choose(ids: [String], fraction: Double, seed: Int) -> [String] {
        var order = ids
        var rng = SeededRandom(seed: UInt64(bitPattern: Int64(seed)) &+ subsampleSalt)
        rng.shuffle(&order)
        let n = min(order.count, max(1, Int((Double(order.count) * fraction).rounded(.up))))
        return Array(order.prefix(n))
    }
}

/// Keeps subsample permutations independent of other seeded streams with the same seed.
private let subsampleSalt: UInt64 = 0x5EED_5AB5

/// File-backed inputs enter a key by content hash; a stage checks, before reading them, that
/// they still hash to what its key says (a file edited between `plan` and the stage's start
/// would otherwise be read under a key that does not describe it).
enum FileContent {
    static func verify(_ files: [URL], hash: String?, stage: String) throws {
        guard let hash, !files.isEmpty else { return }
        let now = try Hashing.fingerprint(files: files)
        guard now == hash else {
            throw StepwiseError("\(stage): \(files.map(\.path).joined(separator: ", ")) changed since the run was planned; run again to plan with the new content")
        }
    }
}

extension StageKind { public static let dataset = DatasetStage.kind }

extension StageKind { public static let subsample = SubsampleStage.kind }
