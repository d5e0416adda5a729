import Foundation

/// dataset: the normalized examples of every split.
enum DatasetStage {
    static func run(_ ctx: StageContext) throws -> Data {
        let spec = ctx.experiment.dataset
        let splits: DatasetSplits
        switch spec.kind {
        case .syntheticArith:
            var mix = SyntheticArith.Mix.standard
            if let w = spec.operationWeights, w.count == 3 {
                mix.oneOperation = w[0]; mix.twoOperations = w[1]; mix.threeOperations = w[2]
            }
            if let r = spec.distractorRate { mix.distractorRate = r }
            splits = SyntheticArith.splits(train: spec.trainSize ?? 2000, valid: spec.validSize ?? 200,
                                           test: spec.testSize ?? 500, seed: UInt64(spec.seed ?? 0), mix: mix)
        case .svamp, .cqa, .esnli, .anli1:
            let paper = PaperDataset(rawValue: spec.kind.rawValue)!
            splits = try PaperDatasetLoader.load(paper, directory: ctx.experiment.resolve(spec.path ?? "").path)
        case .jsonl:
            let config = JSONLDatasetConfig(train: spec.trainFile ?? "", test: spec.testFile ?? "", valid: spec.validFile,
                                            inputField: spec.inputField ?? "input", labelField: spec.labelField ?? "label",
                                            rationaleField: spec.rationaleField)
            splits = try JSONLDatasetLoader.load(config, baseDirectory: ctx.experiment.root.path)
        }
        guard !splits.train.isEmpty, !splits.test.isEmpty else {
            throw StepwiseError("the dataset has \(splits.train.count) training and \(splits.test.count) test examples; both must be non-empty")
        }
        return try ArtifactCodec.encode(splits)
    }
}

/// subsample: which training examples a data fraction sees. One permutation per seed, and
/// each fraction takes a prefix of it, so for one seed 12.5 % ⊂ 25 % ⊂ 50 % ⊂ 100 %.
enum SubsampleStage {
    struct Artifact: Codable {
        var fraction: Double
        var seed: Int
        var ids: [String]
    }

    static func run(_ ctx: StageContext) throws -> Data {
        let splits = try ctx.input("dataset", as: DatasetSplits.self)
        guard case .number(let fraction)? = ctx.stage.params["fraction"], case .number(let seed)? = ctx.stage.params["seed"] else {
            throw StepwiseError("\(ctx.stage.label): malformed params")
        }
        let ids = choose(ids: splits.train.map(\.id), fraction: fraction, seed: Int(seed))
        return try ArtifactCodec.encode(Artifact(fraction: fraction, seed: Int(seed), ids: ids))
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
