import Foundation

/// The kind of student a size trains: from random weights with Stepwise's own vocabulary, or
/// from a pretrained T5 checkpoint with its SentencePiece tokenizer.
public enum StudentKind: String, Codable, Sendable {
    case fromScratch = "from_scratch"
    case pretrained

    /// How this kind of student reads its inputs on a dataset of `dataset`'s kind.
    public func inputFormat(dataset: DatasetKind) -> StudentInputFormat {
        switch self {
        case .fromScratch: return .stepwise
        case .pretrained: return .paper(dataset: dataset)
        }
    }
}

/// How a student's input text is written — a property of the kind of student, not of the method,
/// so every method asks it (`labelTask`, `rationaleTask`, `input`) instead of spelling prefixes.
///
/// - From scratch (`stepwise`): `[label] x` / `[rationale] x`; the BPE vocabulary keeps both
///   markers whole, and inputs carry no end-of-sequence id (as always).
/// - Pretrained (`paper`): the conventions of the paper's code (google-research/distilling-step-by-step,
///   run.py): `predict: x` / `explain: x` for distilling step-by-step's two tasks, `x` alone for
///   single-task rows; on e-SNLI and ANLI the input is `premise</s>hypothesis` (its
///   `tokenizer.eos_token.join([premise, hypothesis])`, where `</s>` is T5's end-of-sequence token,
///   which transformers' tokenizer matches inside the text); and every input ends with `</s>`, which
///   transformers' T5 tokenizer appends to each text it encodes. CQA reads
///   `question\nAnswer Choices:\n(a) … (e) …` and SVAMP its problem text, as in the paper and
///   as the dataset stage writes them for every student.
public struct StudentInputFormat: Codable, Hashable, Sendable {
    /// Before the input of the label task (distilling step-by-step's `[label]` / `predict: `).
    public var labelPrefix: String
    /// Before the input of the rationale task (`[rationale]` / `explain: `).
    public var rationalePrefix: String
    /// NLI examples (stored as `Premise: P\nHypothesis: H`) are read as `P + separator + H`;
    /// nil: as stored.
    public var nliSeparator: String?
    /// Inputs end with the tokenizer's end-of-sequence id.
    public var inputEndsWithEOS: Bool

    public init(labelPrefix: String, rationalePrefix: String, nliSeparator: String?, inputEndsWithEOS: Bool) {
        self.labelPrefix = labelPrefix
        self.rationalePrefix = rationalePrefix
        self.nliSeparator = nliSeparator
        self.inputEndsWithEOS = inputEndsWithEOS
    }

    /// A from-scratch student's format (what every student read before pretrained ones existed).
    public static let stepwise = StudentInputFormat(labelPrefix: DistillStepByStep.labelPrefix + " ",
                                                    rationalePrefix: DistillStepByStep.rationalePrefix + " ",
                                                    nliSeparator: nil, inputEndsWithEOS: false)

    /// The paper's format for a pretrained T5 student.
    public static func paper(dataset: DatasetKind) -> StudentInputFormat {
        StudentInputFormat(labelPrefix: "predict: ", rationalePrefix: "explain: ",
                           nliSeparator: [.esnli, .anli1].contains(dataset) ? "</s>" : nil, inputEndsWithEOS: true)
    }

    /// The example's x as this student reads it (no task prefix).
    public func input(_ example: Example) -> String {
        guard let separator = nliSeparator, let parts = PaperDatasetLoader.nliParts(example.input) else { return example.input }
        return parts.premise + separator + parts.hypothesis
    }

    /// The label task's input (distilling step-by-step's first task, and its test-time input).
    public func labelTask(_ example: Example) -> String { labelPrefix + input(example) }

    /// The rationale task's input.
    public func rationaleTask(_ example: Example) -> String { rationalePrefix + input(example) }
}
