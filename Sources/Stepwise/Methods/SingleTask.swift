import Foundation

/// The paper's single-task ablation: one target `rationale So the answer is label.`, the label
/// read back after the last answer marker at test time.
public enum SingleTask: DistillationMethod {
    public static let name = "single_task"
    public static let version = 1
    public static let answerMarker = "So the answer is"
    public static var teacherSplits: Set<Split> { [.train] }
    public static var options: [MethodOption] { [labelsOption(default: "teacher")] }

    public static func streams(_ variant: MethodVariant, examples: [Example], annotations: [String: Annotation],
                               format: StudentInputFormat) throws -> [TextStream] {
        let kept = examples.compactMap { e in usableAnnotation(e, in: annotations).map { (e, $0) } }
        let teacherLabels = variant.string("labels") != "gold"
        return [TextStream(name: "rationale+label", inputs: kept.map { format.input($0.0) },
                           targets: kept.map { "\($0.1.rationale) \(answerMarker) \(teacherLabels ? $0.1.label : $0.0.label)." },
                           weight: 1)]
    }

    public static func prediction(_ variant: MethodVariant, output: String) -> String {
        guard let r = output.range(of: answerMarker, options: .backwards) else { return "" }
        var label = output[r.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
        if label.hasSuffix(".") { label.removeLast() }
        return label.trimmingCharacters(in: .whitespaces)
    }
}
