import Foundation

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

/// `plan` output as text or JSON.
public enum PlanPrinter {
    public static func text(_ status: PlanStatus, explanations: [Int: String]?) -> String {
        let stages = status.plan.stages
        let width = min(72, stages.map { $0.label.count }.max() ?? 10)
        var out = ""
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
        // A stable interface (docs/json-interfaces.md): fields are only added; format_version marks a change of meaning.
        return JSONValue.object(["format_version": .number(Double(StatusJSON.formatVersion)),
                                 "experiment": .string(status.plan.experiment.name), "stages": .array(items)]).canonical + "\n"
    }
}
