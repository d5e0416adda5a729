import Foundation
import Trainer

/// A plan checked against the store: which stages are cached and, for the rest, why not.
public struct PlanStatus {
    public enum State: String, Codable { case cached, toRun = "to run" }

    public let plan: Plan
    public let states: [State]

    public init(plan: Plan, cachedKeys: Set<String>) {
        self.plan = plan
        self.states = plan.stages.map { cachedKeys.contains($0.key) ? .cached : .toRun }
    }

    public var toRunCount: Int { states.filter { $0 == .toRun }.count }

    /// For each stage to run: what differs from the closest cached stage of the same kind
    /// (DVC-style "why does this run?").
    public func explanations(store: Store?) throws -> [Int: String] {
        var byKind: [StageKind: [ArtifactSummary]] = [:]
        if let store { for s in try store.summaries() { byKind[s.kind, default: []].append(s) } }
        var out: [Int: String] = [:]
        for (i, stage) in plan.stages.enumerated() where states[i] == .toRun {
            let rerunInputs = stage.inputs.filter { states[$0.index] == .toRun }.map(\.role)
            let candidates = byKind[stage.kind] ?? []
            guard !candidates.isEmpty else {
                out[i] = "no cached \(stage.kind.rawValue) stage yet"
                    + (rerunInputs.isEmpty ? "" : "; inputs to run first: \(rerunInputs.joined(separator: ", "))")
                continue
            }
            let mine = stage.params.flattened()
            let myInputs = Dictionary(stage.inputs.map { ($0.role, plan.stages[$0.index].key) }, uniquingKeysWith: { a, _ in a })
            var best: (summary: ArtifactSummary, fields: [String], inputs: [String])?
            for c in candidates {
                let theirs = c.params.flattened()
                let fields = Set(mine.keys).union(theirs.keys).sorted().filter { mine[$0] != theirs[$0] }
                let inputs = Set(myInputs.keys).union(c.inputs.keys).sorted().filter { myInputs[$0] != c.inputs[$0] }
                if best == nil || fields.count + inputs.count < best!.fields.count + best!.inputs.count {
                    best = (c, fields, inputs)
                }
            }
            guard let best else { continue }
            let theirs = best.summary.params.flattened()
            var reasons = best.fields.map { f in "\(f): \(theirs[f] ?? "∅") → \(mine[f] ?? "∅")" }
            for role in best.inputs {
                reasons.append(rerunInputs.contains(role) ? "input \(role) re-runs" : "input \(role) differs")
            }
            if reasons.isEmpty { reasons.append("stage implementation version changed") }
            out[i] = "vs cached \(best.summary.key.prefix(10)): " + reasons.joined(separator: "; ")
        }
        return out
    }
}

/// One swept size as `plan` shows it: its parameters and where its weights come from.
public struct PlannedStudent: Sendable {
    public var size: String
    public var parameters: Int
    /// True when `parameters` is an upper bound (a from-scratch size: its vocabulary is the
    /// tokenizer stage's, at most the spec's `vocab`).
    public var atMost: Bool
    /// `from scratch`, a hub id with its commit and snapshot folder, or a folder.
    public var weights: String
    /// A training step's memory at the recipe's longest lengths, keeping and recomputing the
    /// activations, and what `recompute_activations` decides on this machine (a train stage
    /// decides again where it runs, at its own data's lengths).
    public var memory: String

    static func all(_ plan: Plan) -> [PlannedStudent] {
        let e = plan.experiment
        return e.sweep.sizes.compactMap { name in
            guard let size = e.student.size(named: name) else { return nil }
            if let checkpoint = plan.checkpoints.bySize[name] {
                return PlannedStudent(size: name, parameters: checkpoint.parameterCount, atMost: false, weights: checkpoint.origin,
                                      memory: memory(checkpoint.config, e))
            }
            let config = T5Config(dModel: size.dModel, dKv: size.dKv, dFF: size.dFF, numLayers: size.layers,
                                  numDecoderLayers: size.decoderLayers, numHeads: size.heads, vocabSize: e.student.tokenizer.vocab,
                                  dropoutRate: Float(e.student.dropout))
            return PlannedStudent(size: name, parameters: config.parameterCount, atMost: true,
                                  weights: "from scratch (\(e.student.tokenizer.kind) vocabulary ≤ \(e.student.tokenizer.vocab))",
                                  memory: memory(config, e))
        }
    }

    static func memory(_ config: T5Config, _ e: Experiment) -> String {
        var options = TrainOptions()
        options.batchSize = e.train.batchSize
        options.microBatches = e.train.microBatches
        options.maxInputLength = e.train.maxInputLength
        options.maxTargetLength = e.train.maxTargetLength
        return e.recomputeActivations.decide(config: config, options: options, encoderLength: options.maxInputLength,
                                                          decoderLength: options.maxTargetLength).reason
    }

    var text: String {
        let millions = Double(parameters) / 1e6
        let count = millions >= 1 ? String(format: "%.1f M", millions) : String(format: "%.0f k", Double(parameters) / 1e3)
        return "\(size): \(atMost ? "≤ " : "")\(count) parameters, \(weights)\n    \(memory)"
    }
}

/// `plan` output as text or JSON.
public enum PlanPrinter {
    public static func text(_ status: PlanStatus, explanations: [Int: String]?) -> String {
        let stages = status.plan.stages
        let width = min(72, stages.map { $0.label.count }.max() ?? 10)
        var out = ""
        let students = PlannedStudent.all(status.plan)
        if !students.isEmpty, stages.contains(where: { $0.kind == .train }) {
            out += "students:\n" + students.map { "  \($0.text)\n" }.joined()
        }
        for (i, s) in stages.enumerated() {
            let inputs = s.inputs.map { "\($0.role)=\(stages[$0.index].shortKey)" }.joined(separator: " ")
            let label = s.label.count > width ? String(s.label.prefix(width - 1)) + "…" : s.label.padding(toLength: width, withPad: " ", startingAt: 0)
            out += "\(s.shortKey)  \(status.states[i].rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))  \(label)  \(inputs)\n"
            if let why = explanations?[i] { out += "            ↳ \(why)\n" }
        }
        let n = status.toRunCount
        out += "\(stages.count) stages: \(stages.count - n) cached, \(n) to run\n"
        return out
    }

    public static func json(_ status: PlanStatus, explanations: [Int: String]?) -> String {
        let stages = status.plan.stages
        let items: [JSONValue] = stages.enumerated().map { i, s in
            var o: [String: JSONValue] = [
                "key": .string(s.key), "kind": .string(s.kind.rawValue), "label": .string(s.label),
                "state": .string(status.states[i].rawValue), "params": s.params,
                "inputs": .object(Dictionary(s.inputs.map { ($0.role, JSONValue.string(stages[$0.index].key)) }, uniquingKeysWith: { a, _ in a })),
            ]
            if let why = explanations?[i] { o["why"] = .string(why) }
            return .object(o)
        }
        let students: [JSONValue] = PlannedStudent.all(status.plan).map {
            .object(["size": .string($0.size), "parameters": .number(Double($0.parameters)), "at_most": .bool($0.atMost),
                     "weights": .string($0.weights)])
        }
        // A stable interface (docs/json-interfaces.md): fields are only added; format_version marks a change of meaning.
        return JSONValue.object(["format_version": .number(Double(StatusJSON.formatVersion)),
                                 "experiment": .string(status.plan.experiment.name), "stages": .array(items),
                                 "students": .array(students)]).canonical + "\n"
    }
}
