import Foundation

/// An offline stand-in for an LLM teacher on `SyntheticArith` problems (and, more plainly, on any
/// example whose gold label is an arithmetic equation).
///
/// For each problem it writes a chain of thought with one sentence per operation that restates
/// the story's sentence and does the arithmetic, then "The answer is <equation>." — e.g.
/// "Mia had 12 marbles, and Omar gave Mia 7 more marbles, so that makes 12 + 7 = 19 marbles.
/// The answer is ( 12 + 7 )." With probability `errorRate` it makes one mistake — a wrong
/// operation, or a wrong number (a misread number, or the story's distractor number) — carried
/// consistently through the rationale and the label, and always one that changes the answer's
/// value, so the label is wrong under `Metric.equation`.
///
/// How it reads the problem: it parses the gold equation into a tree (`EquationEvaluator`),
/// splits the story into sentences, and matches the equation's numbers, in order, against the
/// numbers in the sentences (SyntheticArith writes them in equation order); a sentence with a
/// number the equation does not use is the distractor. When that matching fails (an example
/// from elsewhere), the rationale is the plain arithmetic without story clauses.
///
/// Deterministic per (seed, example id, example input): independent of the order or the
/// number of examples annotated. Its raw text parses back with the paper's SVAMP rule
/// (`PaperOutputParser`, `.svamp`) into exactly the returned rationale and label. Some raw
/// texts run on into a next "Q:", as real few-shot completions do; the parse rule drops it.
///
/// `formatErrorRate` (default 0) makes some completions unparseable, as real teachers
/// sometimes are: the chain of thought ends without the "The answer is" marker, so the paper's
/// rule yields no label (`parsed == false`). A format failure is drawn independently of the
/// reasoning mistake, after it, so a rate of 0 leaves every other output unchanged.
public struct SyntheticTeacher: Sendable {
    /// Bumped whenever the same (errorRate, seed, formatErrorRate, example) can produce a
    /// different annotation; include it in the annotate stage's key. 1: the first release.
    public static let version = 1

    public var errorRate: Double
    public var seed: UInt64
    public var formatErrorRate: Double
    /// Log-probabilities as an API teacher returns them (`SyntheticLogprobs`): nil for none,
    /// else how many alternatives per token (0: the chosen token's only).
    public var topLogprobs: Int?

    public init(errorRate: Double, seed: UInt64, formatErrorRate: Double = 0, topLogprobs: Int? = nil) {
        precondition(errorRate >= 0 && errorRate <= 1, "SyntheticTeacher: errorRate must be in [0, 1]")
        precondition(formatErrorRate >= 0 && formatErrorRate <= 1, "SyntheticTeacher: formatErrorRate must be in [0, 1]")
        self.errorRate = errorRate
        self.seed = seed
        self.formatErrorRate = formatErrorRate
        self.topLogprobs = topLogprobs
    }

    public func annotate(_ example: Example) -> Annotation {
        var annotation = answer(example)
        if let k = topLogprobs {
            let task: PaperTask = LabelSet.lettered(example.input) != nil ? .cqa : .svamp
            let logprobs = SyntheticLogprobs(seed: seed, top: k).tokens(for: annotation, example: example)
            annotation.answerLogprobs = AnswerPosition.find(in: annotation.raw, tokens: logprobs, task: task)
        }
        return annotation
    }

    func answer(_ example: Example) -> Annotation {
        var rng = SeededRandom(seed: seed, example.id, example.input)
        let mistake = rng.chance(errorRate)
        guard let gold = EquationEvaluator.parse(SyntheticTeacher.goldEquation(example)),
              let goldValue = EquationEvaluator.evaluate(gold) else {
            // Nothing to reason about: an honest "don't know", which parses to no label.
            let raw = "I cannot work out this problem."
            return PaperOutputParser.annotation(id: example.id, raw: raw, task: .svamp)
        }
        if let choices = LabelSet.lettered(example.input) {
            return answerChoice(example, gold: gold, choices: choices, mistake: mistake, rng: &rng)
        }
        let reading = SyntheticTeacher.read(example.input, equation: gold)
        var expr = gold
        if mistake {
            expr = SyntheticTeacher.mistaken(gold, goldValue: goldValue, distractor: reading?.distractor, rng: &rng)
        }
        let rationale = SyntheticTeacher.explain(expr, reading: reading, rng: &rng)
        let label = EquationEvaluator.render(expr)
        var raw = "\(rationale) The answer is \(label)."
        if rng.chance(0.25) {
            raw += "\n\nQ: " + rng.pick(SyntheticTeacher.runOnQuestions)
        }
        if formatErrorRate > 0, rng.chance(formatErrorRate) {
            // Rambles on instead of giving the answer in the expected form.
            raw = "\(rationale) So we get \(label) in the end.\n\nQ: " + rng.pick(SyntheticTeacher.runOnQuestions)
            return PaperOutputParser.annotation(id: example.id, raw: raw, task: .svamp)
        }
        let annotation = PaperOutputParser.annotation(id: example.id, raw: raw, task: .svamp)
        assert(annotation.rationale == rationale && annotation.label == label,
               "SyntheticTeacher: raw text does not parse back into its rationale and label")
        return annotation
    }

    /// The equation the example's label stands for: the label itself, or for a letter label
    /// (`dataset.answer: letter`) the text of the choice it names.
    static func goldEquation(_ example: Example) -> String {
        guard LabelSet.isLetter(example.label), let labels = LabelSet.of(example), let i = labels.index(of: example.label) else {
            return example.label
        }
        return labels.choices[i].text
    }

    /// A multiple-choice problem (`SyntheticChoices`): it works out the gold equation — or, when
    /// mistaken, one of the wrong choices picked at random — and answers CQA-style,
    /// "… So the answer is (c) ( 12 + 7 )." Its label is the choice's text as the CQA rule reads
    /// it, or the letter when the example's label is one (`answer: letter`).
    func answerChoice(_ example: Example, gold: EquationExpr, choices: [LabelSet.Choice], mistake: Bool,
                      rng: inout SeededRandom) -> Annotation {
        let goldIndex = LabelSet(choices: choices).index(of: example.label)
        var chosen = goldIndex ?? 0
        if mistake, choices.count > 1, let goldIndex {
            chosen = (goldIndex + 1 + rng.int(below: choices.count - 1)) % choices.count
        }
        let expr = EquationEvaluator.parse(choices[chosen].text) ?? gold
        let reading = SyntheticTeacher.read(LabelSet.question(of: example.input), equation: gold)
        let rationale = SyntheticTeacher.explain(expr, reading: reading, rng: &rng)
        let answer = "(\(choices[chosen].letter ?? "a")) \(choices[chosen].text)"
        var raw = "\(rationale) So the answer is \(answer)."
        if rng.chance(0.25) { raw += "\n\nQ: " + rng.pick(SyntheticTeacher.runOnQuestions) }
        if formatErrorRate > 0, rng.chance(formatErrorRate) {
            raw = "\(rationale) So we get \(answer) in the end.\n\nQ: " + rng.pick(SyntheticTeacher.runOnQuestions)
        }
        var annotation = PaperOutputParser.annotation(id: example.id, raw: raw, task: .cqa)
        if annotation.parsed, LabelSet.isLetter(example.label) { annotation.label = choices[chosen].letter ?? annotation.label }
        return annotation
    }

    // MARK: - Reading the story

    /// What the teacher understood of the story: story clauses per operation, the object noun
    /// from the question, and the unused number, if any.
    struct Reading {
        var clauses: [String]        // one per binary operation, in evaluation order
        var object: String?
        var distractor: Double?
    }

    static func read(_ input: String, equation: EquationExpr) -> Reading? {
        // The numbers in the order an in-order left-to-right chain introduces them.
        guard let chain = leftChain(equation) else { return nil }
        let wanted = [chain.start] + chain.operands
        var sentences = splitSentences(input)
        guard let question = sentences.last, question.hasSuffix("?") else { return nil }
        sentences.removeLast()

        var clauses = Array(repeating: [String](), count: chain.operands.count)
        var next = 0
        var currentStep = 0
        var distractor: Double? = nil
        for sentence in sentences {
            let numbers = integers(in: sentence)
            if numbers.isEmpty {
                clauses[currentStep].append(sentence)
                continue
            }
            let end = next + numbers.count
            if end <= wanted.count, Array(wanted[next..<end]) == numbers {
                next = end
                currentStep = max(0, next - 2)
                clauses[currentStep].append(sentence)
            } else if numbers.count == 1, distractor == nil {
                distractor = numbers[0]
            } else {
                return nil
            }
        }
        guard next == wanted.count, clauses.allSatisfy({ !$0.isEmpty }) else { return nil }
        let joined = clauses.map { parts -> String in
            parts.enumerated().map { i, s in
                let bare = s.hasSuffix(".") ? String(s.dropLast()) : s
                return i == 0 ? bare : lowerFirstWord(bare)
            }.joined(separator: ", and ")
        }
        return Reading(clauses: joined, object: objectNoun(question), distractor: distractor)
    }

    /// `( ( a op b ) op c )` → (a, [b, c]); nil for other shapes.
    static func leftChain(_ e: EquationExpr) -> (start: Double, operands: [Double])? {
        switch e {
        case .number(let v): return (v, [])
        case .negate: return nil
        case .binary(_, let l, let r):
            guard case .number(let rv) = r, let inner = leftChain(l) else { return nil }
            return (inner.start, inner.operands + [rv])
        }
    }

    static func splitSentences(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        let chars = Array(text)
        for (i, c) in chars.enumerated() {
            current.append(c)
            if (c == "." || c == "?" || c == "!") && (i + 1 == chars.count || chars[i + 1].isWhitespace) {
                let s = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !s.isEmpty { out.append(s) }
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { out.append(rest) }
        return out
    }

    static func integers(in sentence: String) -> [Double] {
        var out: [Double] = []
        var digits = ""
        for c in sentence + " " {
            if let d = c.wholeNumberValue, c.isASCII {
                digits.append(Character(String(d)))
            } else {
                if !digits.isEmpty, let v = Double(digits) { out.append(v) }
                digits = ""
            }
        }
        return out
    }

    static func objectNoun(_ question: String) -> String? {
        guard question.hasPrefix("How many "), let range = question.range(of: " does ") else { return nil }
        let noun = question[question.index(question.startIndex, offsetBy: 9)..<range.lowerBound]
        return noun.isEmpty ? nil : String(noun)
    }

    static let lowerable: Set<String> = ["Then", "Later", "After", "Next", "There", "Each"]

    static func lowerFirstWord(_ s: String) -> String {
        guard let first = s.split(separator: " ").first, lowerable.contains(String(first).trimmingCharacters(in: [","])) else {
            return s
        }
        return s.prefix(1).lowercased() + s.dropFirst()
    }

    // MARK: - Mistakes

    /// A copy of `gold` with one mistake whose value differs from `goldValue`.
    static func mistaken(_ gold: EquationExpr, goldValue: Double, distractor: Double?, rng: inout SeededRandom) -> EquationExpr {
        let ops = binaryCount(gold)
        let leaves = leafCount(gold)
        for _ in 0..<12 {
            var candidate = gold
            if ops > 0 && rng.chance(0.5) {
                let target = rng.int(below: ops)
                candidate = rewriteBinary(gold, target: target) { op in
                    let others = EquationOperator.allCases.filter { $0 != op }
                    return others[rng.int(below: others.count)]
                }
            } else if leaves > 0 {
                let target = rng.int(below: leaves)
                let useDistractor = distractor != nil && rng.chance(0.5)
                let delta = Double(rng.int(in: 1...3)) * (rng.chance(0.5) ? 1 : -1)
                candidate = rewriteLeaf(gold, target: target) { v in
                    if useDistractor, let d = distractor { return d }
                    return v + delta >= 1 ? v + delta : v + abs(delta)
                }
            }
            if let v = EquationEvaluator.evaluate(candidate), !EquationEvaluator.approximatelyEqual(v, goldValue) {
                return candidate
            }
        }
        // Fallback that always changes the value of a chain: the first number, one more.
        var counter = 0
        return rewriteLeafFallback(gold, counter: &counter)
    }

    static func binaryCount(_ e: EquationExpr) -> Int {
        switch e {
        case .number: return 0
        case .negate(let x): return binaryCount(x)
        case .binary(_, let l, let r): return 1 + binaryCount(l) + binaryCount(r)
        }
    }

    static func leafCount(_ e: EquationExpr) -> Int {
        switch e {
        case .number: return 1
        case .negate(let x): return leafCount(x)
        case .binary(_, let l, let r): return leafCount(l) + leafCount(r)
        }
    }

    static func rewriteBinary(_ e: EquationExpr, target: Int, _ change: (EquationOperator) -> EquationOperator) -> EquationExpr {
        var counter = 0
        func go(_ e: EquationExpr) -> EquationExpr {
            switch e {
            case .number: return e
            case .negate(let x): return .negate(go(x))
            case .binary(let op, let l, let r):
                let mine = counter
                counter += 1
                let nl = go(l), nr = go(r)
                return .binary(mine == target ? change(op) : op, nl, nr)
            }
        }
        return go(e)
    }

    static func rewriteLeaf(_ e: EquationExpr, target: Int, _ change: (Double) -> Double) -> EquationExpr {
        var counter = 0
        func go(_ e: EquationExpr) -> EquationExpr {
            switch e {
            case .number(let v):
                defer { counter += 1 }
                return counter == target ? .number(change(v)) : e
            case .negate(let x): return .negate(go(x))
            case .binary(let op, let l, let r):
                let nl = go(l)
                return .binary(op, nl, go(r))
            }
        }
        return go(e)
    }

    static func rewriteLeafFallback(_ e: EquationExpr, counter: inout Int) -> EquationExpr {
        // Adding one to the first operand of a gold expression whose value is finite changes the
        // value unless it is multiplied by zero; in that unlikely case add one at the top.
        let bumped = rewriteLeaf(e, target: 0) { $0 + 1 }
        if let a = EquationEvaluator.evaluate(bumped), let b = EquationEvaluator.evaluate(e),
           !EquationEvaluator.approximatelyEqual(a, b) {
            return bumped
        }
        return .binary(.add, e, .number(1))
    }

    // MARK: - Writing the chain of thought

    static let phrases: [EquationOperator: [String]] = [
        .add: ["that makes", "altogether that is", "in total that is"],
        .subtract: ["that leaves", "what is left is"],
        .multiply: ["that is", "in total that is"],
        .divide: ["that gives", "each share is"],
    ]

    static let runOnQuestions = [
        "A baker made 24 muffins and sold 9. How many muffins are left?",
        "There are 6 rows of chairs with 8 chairs in each row. How many chairs are there?",
        "Anna has 15 pencils and gets 7 more. How many pencils does she have now?",
    ]

    static func explain(_ expr: EquationExpr, reading: Reading?, rng: inout SeededRandom) -> String {
        var sentences: [String] = []
        var stepIndex = 0
        let unit = reading?.object.map { " " + $0 } ?? ""
        // Post-order: one sentence per binary operation, operands shown as their values.
        func go(_ e: EquationExpr) -> Double? {
            switch e {
            case .number(let v): return v
            case .negate(let x): return go(x).map { -$0 }
            case .binary(let op, let l, let r):
                guard let a = go(l), let b = go(r) else { return nil }
                let value = op.apply(a, b)
                let arithmetic = "\(EquationEvaluator.format(a)) \(op.rawValue) \(EquationEvaluator.format(b)) = "
                    + (value.map(EquationEvaluator.format) ?? "undefined")
                let phrase = rng.pick(phrases[op]!)
                if let reading, stepIndex < reading.clauses.count {
                    sentences.append("\(reading.clauses[stepIndex]), so \(phrase) \(arithmetic)\(unit).")
                } else {
                    let lead = stepIndex == 0 ? "First" : "Then"
                    sentences.append("\(lead), \(arithmetic).")
                }
                stepIndex += 1
                return value
            }
        }
        _ = go(expr)
        if sentences.isEmpty, case .number(let v) = expr {
            sentences.append("The story gives the number \(EquationEvaluator.format(v)) directly.")
        }
        return sentences.joined(separator: " ")
    }
}

