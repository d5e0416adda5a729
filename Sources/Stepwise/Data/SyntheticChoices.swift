import Foundation

/// The synthetic task as multiple choice (`dataset: {kind: synthetic-arith, choices: 4}`): each
/// problem lists lettered candidate equations after `Answer Choices:`, as CQA lists its answers —
/// the gold equation and `count − 1` near misses (one operator changed, or one number off by 1 to
/// 3), all with different values — and the label is the gold equation, or with `letters` the
/// gold choice's letter (`dataset.answer: letter`). It gives the offline quickstart a label set,
/// which soft labels and PINTO's regularizer need; the choices are the same either way.
/// Deterministic per (seed, example id); problems without a parsable gold equation keep their input.
public enum SyntheticChoices {
    public static func apply(_ splits: DatasetSplits, count: Int, seed: UInt64, letters: Bool = false) -> DatasetSplits {
        func each(_ examples: [Example]) -> [Example] { examples.map { apply($0, count: count, seed: seed, letters: letters) } }
        return DatasetSplits(train: each(splits.train), valid: each(splits.valid), test: each(splits.test))
    }

    static func apply(_ example: Example, count: Int, seed: UInt64, letters: Bool = false) -> Example {
        guard let gold = EquationEvaluator.parse(example.label), let goldValue = EquationEvaluator.evaluate(gold) else {
            return example
        }
        var rng = SeededRandom(seed: seed, "choices", example.id)
        var values = [goldValue]
        var wrong: [String] = []
        var attempts = 0
        while wrong.count < count - 1 {
            attempts += 1
            let candidate = attempts <= 200 ? nearMiss(gold, rng: &rng)
                                            : .binary(.add, gold, .number(Double(attempts - 200)))   // always new values
            guard let v = EquationEvaluator.evaluate(candidate), v.isFinite,
                  !values.contains(where: { EquationEvaluator.approximatelyEqual($0, v) }) else { continue }
            values.append(v)
            wrong.append(EquationEvaluator.render(candidate))
        }
        var choices = wrong
        let goldIndex = rng.int(in: 0...wrong.count)
        choices.insert(example.label, at: goldIndex)
        var out = example
        out.input = PaperDatasetLoader.cqaInput(question: example.input, choices: choices)
        if letters { out.label = PaperDatasetLoader.choiceLetter(goldIndex) }
        return out
    }

    /// `e` with one operator replaced, or one number moved by 1 to 3 (staying ≥ 1).
    static func nearMiss(_ e: EquationExpr, rng: inout SeededRandom) -> EquationExpr {
        let (operators, numbers) = counts(e)
        let changeOperator = operators > 0 && rng.chance(0.5)
        let target = rng.int(below: changeOperator ? operators : max(1, numbers))
        let delta = Double(rng.int(in: 1...3)) * (rng.chance(0.5) ? 1 : -1)
        let others = EquationOperator.allCases
        let replacement = others[rng.int(below: others.count)]
        var seenOperators = 0, seenNumbers = 0
        func go(_ e: EquationExpr) -> EquationExpr {
            switch e {
            case .number(let v):
                defer { seenNumbers += 1 }
                guard !changeOperator, seenNumbers == target else { return e }
                return .number(v + delta >= 1 ? v + delta : v + abs(delta))
            case .negate(let x): return .negate(go(x))
            case .binary(let op, let l, let r):
                let mine = seenOperators
                seenOperators += 1
                let nl = go(l), nr = go(r)
                return .binary(changeOperator && mine == target ? replacement : op, nl, nr)
            }
        }
        return go(e)
    }

    static func counts(_ e: EquationExpr) -> (operators: Int, numbers: Int) {
        switch e {
        case .number: return (0, 1)
        case .negate(let x): return counts(x)
        case .binary(_, let l, let r):
            let a = counts(l), b = counts(r)
            return (1 + a.operators + b.operators, a.numbers + b.numbers)
        }
    }
}
