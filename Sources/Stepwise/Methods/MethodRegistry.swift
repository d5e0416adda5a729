import Foundation

/// Every method Stepwise knows, in the order tables list them. Adding a method: one file in
/// this folder and one line here (docs/DESIGN.md, "Adding a method").
public enum MethodRegistry {
    public static let all: [any DistillationMethod.Type] = [
        FewShotCoT.self,
        StandardFinetune.self,
        TaskDistillation.self,
        DistillStepByStep.self,
        SingleTask.self,
        PINTO.self,
        SoftLabelDistillation.self,
        KnowledgeDistillation.self,
    ]

    public static var names: [String] { all.map { $0.name } }

    public static func named(_ name: String) -> (any DistillationMethod.Type)? { all.first { $0.name == name } }

    /// The method of a results row or cell; every name in a plan was validated against the registry.
    static func method(_ name: String) throws -> any DistillationMethod.Type {
        guard let m = named(name) else {
            throw StepwiseError("unknown method `\(name)`; known: \(names.joined(separator: ", "))")
        }
        return m
    }

    /// A method's options: its own, then the ones the registry gives every method that can use
    /// them (`synthetic`, for methods that learn from generated examples).
    public static func options(of m: any DistillationMethod.Type) -> [MethodOption] {
        m.options + (m.learnsFromGeneratedExamples ? [GeneratedData.option] : [])
    }

    /// The first registered declaration of an option key.
    static func option(named key: String) -> MethodOption? {
        for m in all {
            for o in options(of: m) where o.key == key { return o }
        }
        return nil
    }

    /// Every option key some method declares (they may be swept under `sweep:`).
    public static var optionKeys: [String] {
        var seen: [String] = []
        for m in all { for o in options(of: m) where !seen.contains(o.key) { seen.append(o.key) } }
        return seen
    }
}
