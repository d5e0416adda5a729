import Foundation

/// Every stage kind, in pipeline order. A new kind: one `StageDefinition` and one line here.
/// `exec-stage` finds a job's definition here by its kind.
public enum StageRegistry {
    public static let definitions: [any StageDefinition.Type] = [
        DatasetStage.self,
        SubsampleStage.self,
        AnnotateStage.self,
        GenerateStage.self,
        TokenizerStage.self,
        TrainStage.self,
        EvaluateStage.self,
        TeacherEvalStage.self,
        ReportStage.self,
    ]

    /// Rebuilds a stage's work from a job's encoded params and settings.
    static func work(kind: StageKind, payload: Data) throws -> StageWork {
        guard let d = definitions.first(where: { $0.kind == kind }) else {
            throw StepwiseError("unknown stage kind `\(kind)` (a job from another Stepwise version?)")
        }
        return try d.work(decoding: payload)
    }
}
