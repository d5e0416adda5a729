import Foundation

/// What a run would cost before it starts (DVC's `--dry`): stages to run per kind, CPU time
/// from the cost model calibrated by the durations the store has seen, and teacher requests.
public struct PlanEstimate {
    public struct Line {
        public var kind: String
        public var count: Int
        /// nil when the store has never seen a stage of this kind finish.
        public var seconds: Double?
    }
    public var lines: [Line]
    public var teacherRequests: [String]

    public init(status: PlanStatus, store: Store?) throws {
        let seen = try store?.durationsByKind() ?? [:]
        var byKind: [StageKind: (count: Int, cost: Double)] = [:]
        var order: [StageKind] = []
        var requests: [String] = []
        for (i, stage) in status.plan.stages.enumerated() where status.states[i] == .toRun {
            if byKind[stage.kind] == nil { order.append(stage.kind) }
            byKind[stage.kind, default: (0, 0)].count += 1
            byKind[stage.kind, default: (0, 0)].cost += stage.work.cost
            if stage.kind == AnnotateStage.kind, status.plan.experiment.teacher.kind == .openai {
                requests.append("\(stage.label): one request per example not already in the request cache")
            }
            if stage.kind == GenerateStage.kind { requests.append(Self.generation(stage, experiment: status.plan.experiment)) }
        }
        lines = order.map { kind in
            let todo = byKind[kind]!
            guard let s = seen[kind.rawValue], s.count > 0 else { return Line(kind: kind.rawValue, count: todo.count, seconds: nil) }
            // Kinds with a cost model scale by cost; the others by count (their cost is ~constant).
            let seconds = s.cost > 0 && todo.cost > 0 ? s.seconds / s.cost * todo.cost : s.seconds / Double(s.count) * Double(todo.count)
            return Line(kind: kind.rawValue, count: todo.count, seconds: seconds)
        }
        teacherRequests = requests
    }

    /// A generate stage's requests: the nominal number (every candidate kept) when the training
    /// split's size is known before loading it, and the cap.
    static func generation(_ stage: Stage, experiment e: Experiment) -> String {
        guard let p = try? JSONDecoder.snakeCase.decode(GenerateStage.Params.self, from: Data(stage.work.keyParams.canonical.utf8)) else {
            return "\(stage.label): requests unknown"
        }
        let cached = e.teacher.kind == .openai ? ", those in the request cache free" : " (offline, the synthetic teacher)"
        let rule = "⌈\(p.perExample) × real examples / \(p.generate.perRequest) per request⌉"
        guard let trainSize = e.dataset.trainSize else {
            return "\(stage.label): \(rule) requests, up to \(GenerationRun.maxRequestFactor)× that when candidates are rejected\(cached)"
        }
        let real = min(trainSize, max(1, Int((Double(trainSize) * p.dataFraction).rounded(.up))))
        let nominal = GenerationRun.nominalRequests(target: p.perExample * real, perRequest: p.generate.perRequest)
        return "\(stage.label): \(nominal) requests (\(rule)), up to \(GenerationRun.maxRequestFactor * nominal) "
            + "when candidates are rejected\(cached)"
    }

    public var text: String {
        guard !lines.isEmpty else { return "estimate: nothing to run\n" }
        var out = "estimate (CPU time, from the durations this store has seen):\n"
        for l in lines {
            let t = l.seconds.map { PlanEstimate.format($0) } ?? "unknown (none run yet)"
            out += "  \(l.kind.padding(toLength: 13, withPad: " ", startingAt: 0)) \(String(l.count).leftPadded(5)) to run  ~\(t)\n"
        }
        let known = lines.compactMap(\.seconds).reduce(0, +)
        out += "  total ~\(PlanEstimate.format(known))\(lines.contains { $0.seconds == nil } ? " + the kinds not seen yet" : "")\n"
        for r in teacherRequests { out += "  teacher: \(r)\n" }
        return out
    }

    static func format(_ s: Double) -> String {
        s < 90 ? String(format: "%.0f s", s) : s < 5400 ? String(format: "%.0f min", s / 60) : String(format: "%.1f h", s / 3600)
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
