import Foundation

/// One node of the DAG: what it computes (a definition's params) and from what (inputs by role).
public struct Stage: Sendable {
    public var kind: StageKind { work.kind }
    /// Human-readable identity within the plan, e.g. `train[distill_step_by_step small f=0.125 λ=1 seed=0]`.
    public let label: String
    /// The typed params and settings of its definition, and its run function.
    public let work: StageWork
    /// Everything that changes the artifact, and nothing else (the key's params).
    public var params: JSONValue { work.keyParams }
    /// Input stages by role (indices into `Plan.stages`; always earlier than this stage).
    public let inputs: [(role: String, index: Int)]
    /// sha256 of the canonical JSON of (kind, version, params, input keys).
    public let key: String
    /// The sweep cell of a train or evaluate stage (nil for other kinds): for reports and tests.
    public let cell: Cell?

    public var shortKey: String { String(key.prefix(10)) }

    init(label: String, work: StageWork, inputs: [(role: String, index: Int)], inputKeys: [String], cell: Cell? = nil) {
        precondition(Set(inputs.map(\.role)).count == inputs.count, "\(label): two inputs share a role")
        self.label = label
        self.work = work
        self.inputs = inputs
        self.cell = cell
        self.key = Stage.key(kind: work.kind, version: work.version, params: work.keyParams,
                             inputs: zip(inputs, inputKeys).map { ($0.0.role, $0.1) })
    }

    public static func key(kind: StageKind, version: Int, params: JSONValue, inputs: [(String, String)]) -> String {
        let doc = JSONValue.object([
            "kind": .string(kind.rawValue),
            "version": .number(Double(version)),
            "params": params,
            "inputs": .object(Dictionary(uniqueKeysWithValues: inputs.map { ($0.0, JSONValue.string($0.1)) })),
        ])
        return Hashing.sha256Hex(doc.canonical)
    }
}

/// The expanded experiment: stages in dependency order (every input precedes its user).
public struct Plan: Sendable {
    public let experiment: Experiment
    public let stages: [Stage]
    /// The pretrained sizes' checkpoints the plan was built with (`plan` shows where each comes from).
    public var checkpoints = StudentCheckpoints(bySize: [:])

    public init(experiment: Experiment, stages: [Stage], checkpoints: StudentCheckpoints = StudentCheckpoints(bySize: [:])) {
        self.experiment = experiment
        self.stages = stages
        self.checkpoints = checkpoints
    }

    public func index(ofKey key: String) -> Int? { stages.firstIndex { $0.key == key } }
    public var reportIndex: Int? { stages.lastIndex { $0.kind == ReportStage.kind } }
}
