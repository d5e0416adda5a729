import Foundation

/// What a stage's run function sees: its experiment, its own identity, and its inputs'
/// artifacts by role. Stages read nothing else, so the key (params + input keys) really
/// covers everything that can change what they produce.
public struct StageContext {
    public let plan: Plan
    public let stage: Stage
    public let inputs: [String: Data]
    public let store: Store
    /// BLAS threads this stage may use (the cores shared among the stages running at once).
    public let threads: Int
    /// Updates the live status of this stage (a training step, a request count).
    public let status: (String) -> Void

    public var experiment: Experiment { plan.experiment }

    public func data(_ role: String) throws -> Data {
        guard let data = inputs[role] else { throw StepwiseError("\(stage.label): missing input `\(role)`") }
        return data
    }

    public func input<T: Decodable>(_ role: String, as type: T.Type) throws -> T {
        try ArtifactCodec.decode(type, from: try data(role), what: "\(role) input of \(stage.label)")
    }

    /// The sweep cell of a train or evaluate stage (its `cell` param).
    public var cell: Cell? { stage.cell }

    /// Inputs whose roles are not fixed names (the report's evaluations), in plan order.
    public func inputs<T: Decodable>(except roles: Set<String>, as type: T.Type) throws -> [(String, T)] {
        try stage.inputs.filter { !roles.contains($0.role) }.map { input in
            (input.role, try self.input(input.role, as: type))
        }
    }
}

extension JSONDecoder {
    /// Reads what `JSONValue(encoding:)` wrote (snake_case keys).
    static var snakeCase: JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }
}

/// Artifacts are JSON unless a stage says otherwise (checkpoints are binary bundles).
public enum ArtifactCodec {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return try e.encode(value)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, what: String) throws -> T {
        do { return try JSONDecoder().decode(type, from: data) } catch {
            throw StepwiseError("cannot read the \(what) from the store (\(error)); `stepwise gc` and re-run if the store is from an older Stepwise")
        }
    }
}

/// Runs one stage of any kind: the single place that maps a kind to its implementation.
public enum StageExecutor {
    public static func run(_ ctx: StageContext) throws -> Data {
        switch ctx.stage.kind {
        case .dataset: return try DatasetStage.run(ctx)
        case .subsample: return try SubsampleStage.run(ctx)
        case .annotate: return try AnnotateStage.run(ctx)
        case .tokenizer: return try TokenizerStage.run(ctx)
        case .train: return try TrainStage.run(ctx)
        case .evaluate: return try EvaluateStage.run(ctx)
        case .teacherEval: return try TeacherEvalStage.run(ctx)
        case .report: return try ReportStage.run(ctx)
        }
    }
}
