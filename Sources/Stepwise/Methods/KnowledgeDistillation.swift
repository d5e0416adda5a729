import Foundation

/// Response-based knowledge distillation (Hinton et al., 2015) from an embedded teacher: a T5
/// that Stepwise trains itself in the same run — the student of `teacher_method` (default
/// standard fine-tuning, with its default options) at size `teacher_size`, at the cell's data
/// fraction and seed, so the teacher saw no more gold labels than the cell. The student reads
/// `x` (as standard fine-tuning) and learns, per target token,
///
///     (1−α)·CE(target) + α·T²·KL(p_teacher^T ‖ p_student^T)
///
/// teacher-forced on the gold label (`sequence: gold`) or on the teacher's own greedy output
/// (`sequence: teacher`, sequence-level KD: both terms on the teacher's tokens). The teacher
/// reads its own method's test input. Teacher and student must share the tokenizer (both from
/// scratch: the tokenizer stage's; both pretrained: one vocabulary), which the spec checks.
///
/// The spec's `teacher:` is the LLM annotator; this teacher is a method option, so both exist:
/// `knowledge_distillation: {teacher_size: big, teacher_method: standard_finetune}`.
public enum KnowledgeDistillation: DistillationMethod {
    public static let name = "knowledge_distillation"
    public static let version = 1

    public static var options: [MethodOption] {
        [MethodOption(key: "teacher_size", kind: .size, defaults: [],
                      meaning: "the size of the teacher student (a name under student.sizes)", display: { "teacher \($0.plain)" }),
         MethodOption(key: "teacher_method", kind: .choice(teacherMethods), defaults: [.string(StandardFinetune.name)],
                      meaning: "the method the teacher student is trained with", display: { "by \($0.plain)" }),
         MethodOption(key: "losses", kind: .weights(lossNames, exclusive: [["cosine", "mse"]]), defaults: [],
                      meaning: "the weight of each loss term by name: ce, kl, and cosine or mse between the decoders' final hidden states",
                      display: { "losses \($0.plain)" }),
         MethodOption(key: "hidden_layers", kind: .choice(["final", "uniform"]), defaults: [],
                      meaning: "which decoder layers the cosine or mse term matches (final: the last, as the heads read it; uniform: every student layer against evenly spread teacher layers)",
                      actsThrough: (option: "losses", terms: ["cosine", "mse"]),
                      display: { "\($0.plain) layers" }),
         MethodOption(key: "alpha", kind: .number(minimum: 0, maximum: 1), defaults: [.number(0.5)],
                      meaning: "the weight α of the soft-target term against the cross-entropy", yieldsTo: "losses",
                      display: { "α=\($0.plain)" }),
         MethodOption(key: "temperature", kind: .number(minimum: 0, exclusive: true), defaults: [.number(2)],
                      meaning: "the temperature T dividing both models' logits", display: { "T=\($0.plain)" }),
         MethodOption(key: "sequence", kind: .choice(["gold", "teacher"]), defaults: [.string("gold")],
                      meaning: "which sequence both models are teacher-forced on", display: { "on \($0.plain) outputs" })]
    }

    /// The terms `losses:` weighs by name.
    public static let lossNames = ["ce", "kl", "cosine", "mse"]

    /// Methods a teacher student can be trained with: those that train a student on their own
    /// (no embedded teacher of their own, no required option) and read no teacher output at test.
    static var teacherMethods: [String] {
        var names: [String] = []
        for m in MethodRegistry.all where m.trainsStudent && !m.needsTeacherAtTest && m.name != KnowledgeDistillation.name {
            let options: [MethodOption] = m.options
            if options.contains(where: { $0.defaults.isEmpty }) { continue }
            names.append(m.name)
        }
        return names
    }

    public static func teacherStudent(_ variant: MethodVariant) -> TeacherStudent? {
        guard let size = variant.string("teacher_size") else { return nil }
        return TeacherStudent(size: size, method: variant.string("teacher_method") ?? StandardFinetune.name)
    }

    public static func streams(_ variant: MethodVariant, examples: [Example], annotations: [String: Annotation],
                               format: StudentInputFormat) throws -> [TextStream] {
        guard let teacher = teacherStudent(variant) else {
            throw StepwiseError("\(name) needs `teacher_size`: the student size that teaches")
        }
        let teacherMethod = try MethodRegistry.method(teacher.method)
        let teacherVariant = MethodVariant.defaults(of: teacherMethod)
        let teacherInputs = examples.map { teacherMethod.testInput(teacherVariant, $0, format: format, annotation: nil) }
        let temperature = variant.double("temperature") ?? 2, onTeacher = variant.string("sequence") == "teacher"
        let distillation: StreamDistillation
        if case .object(let losses)? = variant.values["losses"] {
            func weight(_ name: String) -> Double { if case .number(let w)? = losses[name] { return w }; return 0 }
            let hidden = ["cosine", "mse"].first { losses[$0] != nil }
            distillation = StreamDistillation(teacherInputs: teacherInputs, ceWeight: weight("ce"), klWeight: weight("kl"),
                                              temperature: temperature, hiddenDistance: hidden, hiddenWeight: hidden.map(weight) ?? 0,
                                              hiddenLayers: variant.string("hidden_layers") ?? "final", teacherSequences: onTeacher)
        } else {
            let alpha = variant.double("alpha") ?? 0.5
            distillation = StreamDistillation(teacherInputs: teacherInputs, ceWeight: 1 - alpha, klWeight: alpha,
                                              temperature: temperature, teacherSequences: onTeacher)
        }
        return [TextStream(name: "label", inputs: examples.map(format.input), targets: examples.map(\.label), weight: 1,
                           distillation: distillation)]
    }
}
