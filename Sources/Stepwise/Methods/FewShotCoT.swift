import Foundation

/// The teacher's own parsed answers on the test split: the LLM baseline row. Trains nothing.
public enum FewShotCoT: DistillationMethod {
    public static let name = "few_shot_cot"
    public static let version = 1
    public static var trainsStudent: Bool { false }
    public static var teacherSplits: Set<Split> { [.test] }
    public static var needsTeacherAtTest: Bool { true }
    public static func streams(_ variant: MethodVariant, examples: [Example], annotations: [String: Annotation],
                               format: StudentInputFormat) throws -> [TextStream] { [] }
}
