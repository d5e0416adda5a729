import Foundation
import Trainer

/// tokenizer: the students' vocabulary, trained on the training split's texts only (inputs,
/// gold labels, and the teacher's rationales and labels when a method learns from them).
public enum TokenizerStage: StageDefinition {
    public static let kind: StageKind = "tokenizer"
    public static let version = 1

    public struct Params: Codable, Sendable {
        public var kind: String       // bpe | word
        public var vocab: Int
        /// Tokens kept whole (the methods' task prefixes).
        public var specialTokens: [String]
        /// Texts added to the training texts when the teacher's annotations are (answer markers).
        public var extraTexts: [String]
    }

    public static func run(_ p: Params, settings: NoSettings, inputs: StageInputs, output: StageOutput) throws {
        let splits = try inputs.decode("dataset", as: DatasetSplits.self)
        var texts = splits.train.flatMap { [$0.input, $0.label] }
        if inputs.has("annotate_train") {
            let annotated = try inputs.decode("annotate_train", as: AnnotationArtifact.self)
            texts += annotated.annotations.flatMap { [$0.rationale, $0.label] + p.extraTexts }
        }
        let tokenizer = Tokenizer.train(texts: texts, vocabSize: p.vocab, specialTokens: p.specialTokens,
                                        kind: p.kind == "word" ? .word : .bpe)
        let file = output.folder.appendingPathComponent("tokenizer.json")
        try tokenizer.save(to: file)
        output.write(try Data(contentsOf: file))
        try FileManager.default.removeItem(at: file)
    }

    static func load(_ data: Data) throws -> Tokenizer {
        let tmp = try TemporaryFolder()
        let file = tmp.url.appendingPathComponent("tokenizer.json")
        try data.write(to: file)
        return try Tokenizer.load(from: file)
    }
}

extension StageKind { public static let tokenizer = TokenizerStage.kind }
