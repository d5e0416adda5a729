import Foundation

/// `x → teacher label`: the paper's standard task distillation baseline (examples whose teacher
/// output has no parsable answer are left out).
public enum TaskDistillation: DistillationMethod {
    public static let name = "task_distillation"
    public static let version = 1
    public static var teacherSplits: Set<Split> { [.train] }
    public static func streams(_ variant: MethodVariant, examples: [Example], annotations: [String: Annotation],
                               format: StudentInputFormat) throws -> [TextStream] {
        let kept = examples.compactMap { e in usableAnnotation(e, in: annotations).map { (e, $0) } }
        return [TextStream(name: "label", inputs: kept.map { format.input($0.0) }, targets: kept.map(\.1.label), weight: 1)]
    }
}
