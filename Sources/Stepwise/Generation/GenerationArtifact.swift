import Foundation

/// Why a generated candidate was kept or left out. Checked in this order; the first that applies wins.
public enum GenerationVerdict: String, Codable, CaseIterable, Sendable {
    case kept
    /// No `Q: … A: …` block could be read (no question, or no answer part).
    case unparseable
    /// Its input equals (exactly or normalized, `NormalizedText`) an input of that split.
    case duplicateOfTest = "duplicate_of_test"
    case duplicateOfValid = "duplicate_of_valid"
    case duplicateOfTrain = "duplicate_of_train"
    /// Its input equals an input generated (and kept) before it.
    case duplicateOfGenerated = "duplicate_of_generated"
    /// The task's answer parser found no label, or one the task cannot score (an equation that
    /// does not evaluate, a label outside the input's label set).
    case labelRejected = "label_rejected"

    /// As the report's column headings say it.
    public var heading: String {
        switch self {
        case .kept: return "kept"
        case .unparseable: return "unparseable"
        case .duplicateOfTest: return "duplicate of test"
        case .duplicateOfValid: return "duplicate of valid"
        case .duplicateOfTrain: return "duplicate of train"
        case .duplicateOfGenerated: return "duplicate of generated"
        case .labelRejected: return "label rejected"
        }
    }

    static func duplicate(of split: Split) -> GenerationVerdict {
        switch split {
        case .train: return .duplicateOfTrain
        case .valid: return .duplicateOfValid
        case .test: return .duplicateOfTest
        }
    }
}

/// One example the teacher wrote, and what became of it.
public struct GeneratedCandidate: Codable, Hashable, Sendable {
    /// `gen-<request>-<position>`: unique within its generation.
    public var id: String
    /// The request (0, 1, …) whose completion held it.
    public var request: Int
    public var input: String
    public var label: String
    public var rationale: String
    /// The answer part as written (what an annotation's `raw` holds).
    public var raw: String
    public var verdict: GenerationVerdict
    /// For duplicates: `exact` or `normalized`, and the id of what it duplicates.
    public var match: String?
    public var duplicateOf: String?
}

/// What the generate stage stores for one data fraction and seed: every candidate with its
/// verdict, in request order, and the teacher's cost.
public struct GenerationArtifact: Codable, Sendable {
    public var dataFraction: Double
    public var seed: Int
    public var perExample: Int
    /// The cell's real training examples (its subsample).
    public var realExamples: Int
    /// Kept examples wanted: `perExample × realExamples`.
    public var target: Int
    /// Requests whose completions were read (a request's completion is read whole).
    public var requests: Int
    public var promptTokens: Int
    public var completionTokens: Int
    public var candidates: [GeneratedCandidate]

    public var kept: Int { candidates.filter { $0.verdict == .kept }.count }
    public func count(_ v: GenerationVerdict) -> Int { candidates.filter { $0.verdict == v }.count }
}

/// A generation as the report shows it: the counts without the texts.
public struct GenerationStats: Codable, Sendable {
    public var dataFraction: Double
    public var seed: Int
    public var perExample: Int
    public var realExamples: Int
    public var target: Int
    public var generated: Int
    /// By verdict (raw value), every verdict present.
    public var verdicts: [String: Int]
    public var requests: Int
    public var promptTokens: Int
    public var completionTokens: Int

    public init(_ g: GenerationArtifact) {
        dataFraction = g.dataFraction; seed = g.seed; perExample = g.perExample; realExamples = g.realExamples
        target = g.target; generated = g.candidates.count; requests = g.requests
        promptTokens = g.promptTokens; completionTokens = g.completionTokens
        verdicts = Dictionary(uniqueKeysWithValues: GenerationVerdict.allCases.map { ($0.rawValue, g.count($0)) })
    }

    public func count(_ v: GenerationVerdict) -> Int { verdicts[v.rawValue] ?? 0 }
}
