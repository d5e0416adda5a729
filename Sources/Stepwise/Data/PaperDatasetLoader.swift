import Foundation

/// The paper's released datasets (DESIGN.md, "The paper's released data layout").
public enum PaperDataset: String, Codable, CaseIterable, Sendable {
    case svamp, cqa, esnli, anli1

    /// `<name>_<split>.json`, e.g. `svamp_train.json`.
    public func fileName(_ split: Split) -> String { "\(rawValue)_\(split.rawValue).json" }

    /// The parsing rule of the teacher outputs shipped with this dataset.
    public var task: PaperTask {
        switch self {
        case .svamp: return .svamp
        case .cqa: return .cqa
        case .esnli: return .esnli
        case .anli1: return .anli
        }
    }

    /// The metric the paper reports (text accuracy is exact string equality in the paper).
    public var defaultMetric: Metric { task.metric }

    /// Completions per `{split}_CoT_{i}.json` file in the paper's release.
    public var chunkSize: Int {
        switch self {
        case .svamp: return 500
        case .cqa: return 1000
        case .anli1: return 5000
        case .esnli: return 5500
        }
    }
}

/// How the dataset stage names and splits examples (shared by the paper and JSONL loaders).
///
/// - Ids are `<file split>-<row>`, the 0-based row among the file's non-blank lines: `train-0`,
///   `test-17`. They never change when a validation set is held out, so a held-out example keeps
///   its `train-<row>` id, and replayed teacher outputs (which follow the files' row order) can
///   be matched to it (`ReplayTeacher.annotate(_:in:)`).
/// - Validation: the `valid` file when there is one; otherwise the paper's own hold-out: the
///   rows Hugging Face's `train.train_test_split(test_size=0.1, seed=0)` puts in its test part
///   (`huggingFaceSplit`, bit-exact with numpy's `default_rng`). Both parts keep file order.
public enum DatasetHoldout {
    /// Bumped whenever the held-out rows for the same (count, fraction, seed) change.
    /// 1: SeededRandom shuffle. 2: Hugging Face `train_test_split` rows (the paper's).
    public static let version = 2

    public static let defaultFraction = 0.1
    public static let defaultSeed: UInt64 = 0

    public static func split(_ train: [Example], fraction: Double = defaultFraction,
                             seed: UInt64 = defaultSeed) -> (train: [Example], valid: [Example]) {
        guard fraction > 0, let parts = huggingFaceSplit(count: train.count, testSize: fraction, seed: seed),
              !parts.test.isEmpty else { return (train, []) }
        let held = Set(parts.test)
        var keep: [Example] = [], valid: [Example] = []
        for (i, e) in train.enumerated() {
            if held.contains(i) { valid.append(e) } else { keep.append(e) }
        }
        return (keep, valid)
    }

    /// The row indices of Hugging Face `datasets`' `Dataset.train_test_split(test_size: testSize,
    /// seed: seed)` (shuffle on, no stratification) on `count` rows, in the order it returns them:
    /// `permutation = np.random.default_rng(seed).permutation(count)`, test =
    /// `permutation[:ceil(testSize·count)]`, train = the rest of the permutation. nil when
    /// `datasets` would refuse (an empty part; `testSize` outside (0, 1)).
    ///
    /// The paper subsamples training data with `train_test_split(test_size=1-fraction, seed=run)`
    /// and keeps the train part. For one seed those sets are nested (the train part of a smaller
    /// fraction is a suffix of the same permutation, so it lies inside every larger one).
    public static func huggingFaceSplit(count: Int, testSize: Double, seed: UInt64) -> (train: [Int], test: [Int])? {
        guard count > 0, testSize > 0, testSize < 1 else { return nil }
        let nTest = Int((testSize * Double(count)).rounded(.up))
        let nTrain = count - nTest
        guard nTest > 0, nTrain > 0 else { return nil }
        var rng = NumpyRandom(seed: seed)
        let permutation = rng.permutation(count)
        return (Array(permutation[nTest...]), Array(permutation[..<nTest]))
    }
}

/// Loads `DIR/<name>_{train,valid,test}.json` (JSON Lines) for the paper's datasets and builds each
/// example's `input` and `label`:
///
/// | dataset | row fields | input | label |
/// |---|---|---|---|
/// | svamp | `input`, `label` (strings) | `input` as is | the equation as is, e.g. `( 84.0 / 2.0 )` |
/// | cqa | `question`, `choices` (strings), `answer` | `question\nAnswer Choices:\n(a) c0\n(b) c1 …` | `answer` |
/// | esnli, anli1 | `premise`, `hypothesis`, `label` (0/1/2) | `Premise: P\nHypothesis: H` | `entailment` / `neutral` / `contradiction` |
///
/// NLI input format: the paper's student joined premise and hypothesis with T5's `</s>` token,
/// which only makes sense with T5's tokenizer; Stepwise writes `Premise: P\nHypothesis: H`, the
/// layout of the paper's few-shot NLI prompts, so the same text serves as the student's input
/// and as the `{input}` of the teacher prompts (a completion that runs on into a next
/// "Premise:" is cut there by the e-SNLI/ANLI parsing rules).
/// Gold rationales: e-SNLI's `explanation_1` and ANLI's `reason` (when non-empty) become
/// `goldRationale`. Other fields are ignored. Labels may also be given as the label words.
public enum PaperDatasetLoader {
    /// Bumped whenever the same files can load into different splits; include it in the
    /// dataset stage's key. 1: first release. 2: NLI inputs read `Premise: …\nHypothesis: …`;
    /// hold-out `DatasetHoldout.version` 2.
    public static let version = 2

    public static func load(_ dataset: PaperDataset, directory: String,
                            holdoutFraction: Double = DatasetHoldout.defaultFraction,
                            holdoutSeed: UInt64 = DatasetHoldout.defaultSeed) throws -> DatasetSplits {
        var problems = ProblemCollector()
        func path(_ split: Split) -> String { (directory as NSString).appendingPathComponent(dataset.fileName(split)) }
        let train = loadSplit(dataset, .train, path: path(.train), problems: &problems)
        let test = loadSplit(dataset, .test, path: path(.test), problems: &problems)
        var valid: [Example] = []
        var trainKept = train
        if FileManager.default.fileExists(atPath: path(.valid)) {
            valid = loadSplit(dataset, .valid, path: path(.valid), problems: &problems)
        } else {
            (trainKept, valid) = DatasetHoldout.split(train, fraction: holdoutFraction, seed: holdoutSeed)
        }
        try problems.throwIfAny()
        return DatasetSplits(train: trainKept, valid: valid, test: test)
    }

    public static let nliLabels = ["entailment", "neutral", "contradiction"]

    /// The NLI input text for a premise and hypothesis.
    public static func nliInput(premise: String, hypothesis: String) -> String {
        "Premise: \(premise)\nHypothesis: \(hypothesis)"
    }

    /// The premise and hypothesis of an input `nliInput` wrote (nil for any other text): the
    /// hypothesis follows the last `\nHypothesis: `, since e-SNLI and ANLI hypotheses are one sentence
    /// while a premise may be a passage.
    public static func nliParts(_ input: String) -> (premise: String, hypothesis: String)? {
        let premiseMark = "Premise: ", hypothesisMark = "\nHypothesis: "
        guard input.hasPrefix(premiseMark),
              let h = input.range(of: hypothesisMark, options: .backwards),
              h.lowerBound >= input.index(input.startIndex, offsetBy: premiseMark.count) else { return nil }
        return (String(input[input.index(input.startIndex, offsetBy: premiseMark.count)..<h.lowerBound]),
                String(input[h.upperBound...]))
    }

    /// The CQA input text: the question followed by lettered answer choices.
    public static func cqaInput(question: String, choices: [String]) -> String {
        var lines = [question, "Answer Choices:"]
        for (i, c) in choices.enumerated() {
            lines.append("(\(choiceLetter(i))) \(c)")
        }
        return lines.joined(separator: "\n")
    }

    /// The letter of choice `i` (0 → `a`).
    public static func choiceLetter(_ i: Int) -> String { String(Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8(i)))) }

    static func loadSplit(_ dataset: PaperDataset, _ split: Split, path: String, problems: inout ProblemCollector) -> [Example] {
        var out: [Example] = []
        FieldReader.forEachRow(path: path, problems: &problems) { row, fields in
            let id = "\(split.rawValue)-\(row)"
            switch dataset {
            case .svamp:
                if let input = fields.string("input"), let label = fields.string("label") {
                    out.append(Example(id: id, input: input, label: label))
                }
            case .cqa:
                let question = fields.string("question")
                let choices = fields.strings("choices")
                let answer = fields.string("answer")
                if let choices, choices.isEmpty || choices.count > 26 {
                    fields.problem("\"choices\" must hold 1 to 26 strings, found \(choices.count)")
                } else if let question, let choices, let answer {
                    out.append(Example(id: id, input: cqaInput(question: question, choices: choices), label: answer))
                }
            case .esnli, .anli1:
                let premise = fields.string("premise")
                let hypothesis = fields.string("hypothesis")
                let label = fields.nliLabel("label")
                let rationaleField = dataset == .esnli ? "explanation_1" : "reason"
                let rationale = fields.optionalString(rationaleField)
                if let premise, let hypothesis, let label {
                    out.append(Example(id: id, input: nliInput(premise: premise, hypothesis: hypothesis), label: label,
                                       goldRationale: (rationale?.isEmpty ?? true) ? nil : rationale))
                }
            }
        }
        return out
    }
}

/// Typed access to one JSON Lines row, recording a problem for each missing or mistyped field.
struct FieldReader {
    let object: [String: JSONLValue]
    let file: String
    let line: Int
    var problems: [(file: String, line: Int, message: String)] = []

    init(object: [String: JSONLValue], file: String, line: Int) {
        self.object = object
        self.file = file
        self.line = line
    }

    mutating func problem(_ message: String) { problems.append((file, line, message)) }

    /// Calls `body` with each well-formed row of a JSON Lines file (row index, fields), and
    /// records every malformed row and every field problem with file and line.
    static func forEachRow(path: String, problems: inout ProblemCollector, _ body: (Int, inout FieldReader) -> Void) {
        for (row, (line, decoded, rowProblem)) in JSONLines.read(path: path, displayName: path, problems: &problems).enumerated() {
            guard let object = decoded else {
                problems.add(path, line, rowProblem ?? "bad row")
                continue
            }
            var fields = FieldReader(object: object, file: path, line: line)
            body(row, &fields)
            for p in fields.problems { problems.add(p.file, p.line, p.message) }
        }
    }

    mutating func string(_ key: String) -> String? {
        guard let v = object[key] else { problem("missing field \"\(key)\""); return nil }
        guard case .string(let s) = v else { problem("field \"\(key)\" must be a string, found \(v.typeName)"); return nil }
        return s
    }

    /// A string that may be absent or null.
    mutating func optionalString(_ key: String) -> String? {
        guard let v = object[key] else { return nil }
        switch v {
        case .null: return nil
        case .string(let s): return s
        default: problem("field \"\(key)\" must be a string or null, found \(v.typeName)"); return nil
        }
    }

    mutating func strings(_ key: String) -> [String]? {
        guard let v = object[key] else { problem("missing field \"\(key)\""); return nil }
        guard case .array(let items) = v else { problem("field \"\(key)\" must be an array of strings, found \(v.typeName)"); return nil }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else {
                problem("field \"\(key)\"[\(i)] must be a string, found \(item.typeName)")
                return nil
            }
            out.append(s)
        }
        return out
    }

    /// A label as text: strings as they are, numbers without a needless fraction (`3`, `2.5`).
    mutating func labelText(_ key: String) -> String? {
        guard let v = object[key] else { problem("missing field \"\(key)\""); return nil }
        switch v {
        case .string(let s): return s
        case .number(let d): return EquationEvaluator.format(d)
        default: problem("field \"\(key)\" must be a string or a number, found \(v.typeName)"); return nil
        }
    }

    /// An NLI label: 0/1/2 or one of the label words.
    mutating func nliLabel(_ key: String) -> String? {
        guard let v = object[key] else { problem("missing field \"\(key)\""); return nil }
        switch v {
        case .number(let d) where d == 0 || d == 1 || d == 2:
            return PaperDatasetLoader.nliLabels[Int(d)]
        case .string(let s) where PaperDatasetLoader.nliLabels.contains(s):
            return s
        default:
            problem("field \"\(key)\" must be 0, 1 or 2 (entailment, neutral, contradiction), found \(v.preview)")
            return nil
        }
    }
}
