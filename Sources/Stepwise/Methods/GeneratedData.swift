import Foundation
import Yams

/// `synthetic: {per_example: n}`: mix n teacher-generated examples per real training example
/// into a cell's training (GPTMix, self-instruct). The registry gives the option to every
/// method with `learnsFromGeneratedExamples`; 0 (the default) is off and leaves the option out of
/// the cell, so every key of a spec without it is unchanged.
///
/// A generated example trains like a real one: its input, its label as the gold label (there is
/// no other), and an annotation made of the generation's own rationale and label — so
/// distilling step-by-step's rationale stream learns the rationale the teacher wrote with the
/// example (no second request to annotate it), and task distillation its label.
public enum GeneratedData {
    public static let option = MethodOption(
        key: "synthetic", kind: .number(minimum: 0, maximum: 100, integer: true), defaults: [.number(0)],
        meaning: "teacher-generated examples per real training example", display: { "+\($0.plain)× generated" },
        field: "per_example", absentValue: .number(0))

    /// A cell's examples per real example (0: none).
    public static func perExample(_ variant: MethodVariant) -> Int {
        Int(variant.double(option.key) ?? 0)
    }

    /// The replay teacher only has the paper's outputs for the dataset's own inputs: it cannot
    /// write new examples. Reported at the option that asks for them.
    static func checkTeacher(_ o: MethodOption, _ values: [JSONValue], teacher: TeacherSpec?, node: Node?, path: String,
                             reader: SpecReader) {
        guard o.key == option.key, teacher?.kind == .replay, values.contains(where: { $0 != option.absentValue }) else { return }
        reader.fail(node, path, "generated examples need a teacher that can write new ones (`synthetic` or `openai`); "
                    + "the replay teacher only has the paper's released outputs for the dataset's own inputs")
    }

    /// The first `count` kept examples of a generation, with their annotations (the
    /// generation's rationale and label), ready to join a cell's training examples.
    public static func training(_ g: GenerationArtifact, count: Int) -> (examples: [Example], annotations: [String: Annotation]) {
        let kept = g.candidates.lazy.filter { $0.verdict == .kept }.prefix(count)
        var annotations: [String: Annotation] = [:]
        var examples: [Example] = []
        for c in kept {
            examples.append(Example(id: c.id, input: c.input, label: c.label))
            annotations[c.id] = Annotation(id: c.id, raw: c.raw, rationale: c.rationale, label: c.label, parsed: true)
        }
        return (examples, annotations)
    }
}
