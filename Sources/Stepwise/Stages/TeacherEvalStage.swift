import Foundation

/// teacher_eval: a row scored on the teacher's own parsed test answers (few-shot CoT).
public enum TeacherEvalStage: StageDefinition {
    public static let kind: StageKind = "teacher_eval"
    public static let version = 2   // 2: per-example scores

    public struct Params: Codable, Sendable {
        public var method: String
        public var metric: String
    }

    public static func run(_ p: Params, settings: NoSettings, inputs: StageInputs, output: StageOutput) throws {
        let splits = try inputs.decode("dataset", as: DatasetSplits.self)
        let annotated = try inputs.decode("annotate_test", as: AnnotationArtifact.self)
        let byID = annotated.byID()
        let predictions = splits.test.map { byID[$0.id]?.label ?? "" }
        let metric = Metric(rawValue: p.metric) ?? .exactMatch
        let value = metric.score(predictions: predictions, golds: splits.test.map(\.label))
        let scores = zip(predictions, splits.test).map { metric.isCorrect(prediction: $0, gold: $1.label) ? 1.0 : 0.0 }
        try output.write(EvaluationArtifact(method: p.method, size: "teacher", split: "test", metric: p.metric, value: value,
                                            count: predictions.count, parseFailures: annotated.parseFailures, predictions: predictions,
                                            exampleIDs: splits.test.map(\.id), scores: scores))
    }
}

extension StageKind { public static let teacherEval = TeacherEvalStage.kind }
