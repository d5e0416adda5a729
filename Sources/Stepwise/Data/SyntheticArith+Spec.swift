/// The synthetic task's generator settings a `dataset:` section asks for: the dataset stage
/// draws its splits with them, and the synthetic teacher writes new problems with them, so
/// that generated training examples look like the real ones.
extension DatasetSpec {
    public var syntheticMix: SyntheticArith.Mix {
        var mix = SyntheticArith.Mix.standard
        if let w = operationWeights, w.count == 3 {
            mix.oneOperation = w[0]; mix.twoOperations = w[1]; mix.threeOperations = w[2]
        }
        if let r = distractorRate { mix.distractorRate = r }
        return mix
    }
}
