import Foundation

/// `x → gold label`: the paper's standard fine-tuning baseline; no teacher.
public enum StandardFinetune: DistillationMethod {
    public static let name = "standard_finetune"
    public static let version = 1
    public static func streams(_ variant: MethodVariant, examples: [Example], annotations: [String: Annotation],
                               format: StudentInputFormat) throws -> [TextStream] {
        [TextStream(name: "label", inputs: examples.map(format.input), targets: examples.map(\.label), weight: 1)]
    }
}
