import Foundation
/// One trained point of the comparison: a (method, size, data fraction, λ, label source, seed).
public struct Cell: Codable, Hashable, Sendable {
    public var method: MethodKind
    public var size: String
    public var dataFraction: Double
    /// distill_step_by_step only.
    public var lambda: Double?
    /// distill_step_by_step and single_task: `gold` or `teacher`.
    public var labels: String?
    public var seed: Int

    /// The cell as key params, built directly (planning builds thousands; Foundation's
    /// encoder round trip was the slowest part of `plan`). Same JSON as `JSONValue(encoding:)`.
    public var json: JSONValue {
        .object([
            "method": .string(method.rawValue),
            "size": .string(size),
            "data_fraction": .number(dataFraction),
            "lambda": lambda.map { .number($0) } ?? .null,
            "labels": labels.map { .string($0) } ?? .null,
            "seed": .number(Double(seed)),
        ])
    }

    public var label: String {
        var parts = [method.rawValue, size, "f=\(JSONValue.format(dataFraction))"]
        if let lambda { parts.append("λ=\(JSONValue.format(lambda))") }
        if let labels, method == .distillStepByStep { parts.append("labels=\(labels)") }
        parts.append("seed=\(seed)")
        return parts.joined(separator: " ")
    }
}

extension Experiment {
    /// The sweep's product, in a stable order: method, size, data fraction, λ, labels, seed.
    public var cells: [Cell] {
        var out: [Cell] = []
        for kind in sweep.methods where kind.trainsStudent {
            guard let m = method(kind) else { continue }
            let lambdas: [Double?] = kind == .distillStepByStep ? (sweep.lambdas ?? m.lambdas).map { $0 } : [nil]
            let labels: [String?] = m.labels.isEmpty ? [nil] : (sweep.labels ?? m.labels).map { $0 }
            for size in sweep.sizes {
                for fraction in sweep.dataFractions {
                    for lambda in lambdas {
                        for label in labels {
                            for seed in sweep.seeds {
                                out.append(Cell(method: kind, size: size, dataFraction: fraction, lambda: lambda,
                                                labels: label, seed: seed))
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    public var includesTeacherRow: Bool { sweep.methods.contains(.fewShotCoT) }
    public var needsTeacher: Bool { sweep.methods.contains { $0.usesTeacher } }
}

extension Stage {
    /// The sweep cell of a train or evaluate stage (its `cell` param); nil for other kinds.
    public var cell: Cell? {
        guard let json = params["cell"], let data = try? ArtifactCodec.encode(json) else { return nil }
        return try? JSONDecoder.snakeCase.decode(Cell.self, from: data)
    }
}
