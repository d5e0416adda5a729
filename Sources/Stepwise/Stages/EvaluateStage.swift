import Foundation
import Trainer

/// evaluate: the selected checkpoint's test predictions, scored once. Reads the checkpoint
/// folder in place, with the tokenizer saved in it (BPE or the pretrained checkpoint's).
public enum EvaluateStage: StageDefinition {
    public static let kind: StageKind = "evaluate"
    public static let version = 3   // 2: reads a checkpoint folder; method options by name; 3: per-example scores

    public struct Params: Codable, Sendable {
        public var cell: Cell
        public var methodVersion: Int
        public var split: Split
        public var metric: String
        public var maxNewTokens: Int
        /// A pretrained student's input format (nil: from scratch, `StudentInputFormat.stepwise`,
        /// and absent from the key).
        public var inputFormat: StudentInputFormat?
    }

    public static func keyParams(_ p: Params) -> JSONValue {
        var fields: [String: JSONValue] = [
            "cell": p.cell.json, "method_version": .number(Double(p.methodVersion)), "split": .string(p.split.rawValue),
            "metric": .string(p.metric), "max_new_tokens": .number(Double(p.maxNewTokens))]
        if let format = p.inputFormat { fields["input_format"] = SharedKeyJSON.of(format) }
        return .object(fields)
    }

    /// Decoding is about a hundredth of training's work per example.
    public static func estimatedCost(_ p: Params) -> Double { 0 }

    public static func run(_ p: Params, settings: NoSettings, inputs: StageInputs, output: StageOutput) throws {
        let cell = p.cell
        let method = try MethodRegistry.method(cell.method)
        let splits = try inputs.decode("dataset", as: DatasetSplits.self)
        let folder = try inputs.folder("train")
        let (model, tokenizer) = try StudentTokenizer.load(folder)
        let summary = try ArtifactCodec.decode(TrainingSummary.self,
                                               from: ArtifactFiles.read(folder.appendingPathComponent(TrainStage.summaryFile), what: "training summary"),
                                               what: "training summary in \(folder.path)")
        setThreads(inputs.threads)
        let examples = splits[p.split]
        let predictions = StudentPredictor(model: model, tokenizer: tokenizer.text, format: p.inputFormat ?? .stepwise,
                                           method: method, variant: cell.variant, maxNewTokens: p.maxNewTokens,
                                           annotations: try StudentPredictor.annotations(p.split, inputs))
            .predict(examples) { done, total in inputs.status("decoding \(done)/\(total)") }
        let metric = Metric(rawValue: p.metric) ?? .exactMatch
        let value = metric.score(predictions: predictions, golds: examples.map(\.label))
        let scores = zip(predictions, examples).map { metric.isCorrect(prediction: $0, gold: $1.label) ? 1.0 : 0.0 }
        try output.write(EvaluationArtifact(method: cell.method, size: cell.size, dataFraction: cell.dataFraction,
                                            options: cell.variant, seed: cell.seed, split: p.split.rawValue, metric: p.metric,
                                            value: value, count: predictions.count, parameters: summary.parameters,
                                            bestStep: summary.bestStep, predictions: predictions,
                                            exampleIDs: examples.map(\.id), scores: scores))
    }
}

extension StageKind { public static let evaluate = EvaluateStage.kind }
