import Foundation

/// Distilling step-by-step (Hsieh et al., 2023): two tasks on one student, `[label] x → label`
/// (gold or teacher) and `[rationale] x → teacher rationale`, loss `L_label + λ·L_rationale`.
/// At test time only `[label]` is asked, so the teacher is not needed after training. (The
/// prefixes are the student kind's: `predict: ` / `explain: ` for pretrained T5, as in the paper's
/// code; see `StudentInputFormat`.)
public enum DistillStepByStep: DistillationMethod {
    public static let name = "distill_step_by_step"
    public static let version = 1
    public static let labelPrefix = "[label]"
    public static let rationalePrefix = "[rationale]"
    public static var teacherSplits: Set<Split> { [.train] }
    public static func streamCount(_ variant: MethodVariant) -> Int { 2 }

    public static var options: [MethodOption] {
        [MethodOption(key: "lambda", kind: .number(minimum: 0), defaults: [.number(1)],
                      meaning: "the rationale loss weight λ", display: { "λ=\($0.canonical)" }),
         labelsOption(default: "gold")]
    }

    public static func streams(_ variant: MethodVariant, examples: [Example], annotations: [String: Annotation],
                               format: StudentInputFormat) throws -> [TextStream] {
        let labelled = variant.string("labels") == "teacher"
            ? examples.compactMap { e in usableAnnotation(e, in: annotations).map { (e, $0.label) } }
            : examples.map { ($0, $0.label) }
        let rationales = examples.compactMap { e in
            usableAnnotation(e, in: annotations).flatMap { $0.rationale.isEmpty ? nil : (e, $0.rationale) }
        }
        var out = [TextStream(name: "label", inputs: labelled.map { format.labelTask($0.0) },
                              targets: labelled.map(\.1), weight: 1)]
        if !rationales.isEmpty {
            out.append(TextStream(name: "rationale", inputs: rationales.map { format.rationaleTask($0.0) },
                                  targets: rationales.map(\.1), weight: variant.double("lambda") ?? 1))
        }
        return out
    }

    public static func testInput(_ variant: MethodVariant, _ example: Example, format: StudentInputFormat) -> String {
        format.labelTask(example)
    }
}
