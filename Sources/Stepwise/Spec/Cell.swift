import Foundation

/// One trained point of the comparison: a method with one choice of its options, at one size,
/// data fraction and seed.
public struct Cell: Codable, Hashable, Sendable {
    public var method: String
    public var size: String
    public var dataFraction: Double
    public var seed: Int
    /// The method's option values for this cell (λ, label source, …).
    public var variant: MethodVariant

    public init(method: String, size: String, dataFraction: Double, seed: Int, variant: MethodVariant = MethodVariant()) {
        self.method = method; self.size = size; self.dataFraction = dataFraction; self.seed = seed; self.variant = variant
    }

    public var lambda: Double? { variant.double("lambda") }
    public var labels: String? { variant.string("labels") }

    /// The cell as key params, built directly (planning builds thousands; Foundation's
    /// encoder round trip was the slowest part of `plan`). Equal to `JSONValue(encoding:)` (tested).
    public var json: JSONValue {
        .object([
            "method": .string(method),
            "size": .string(size),
            "data_fraction": .number(dataFraction),
            "seed": .number(Double(seed)),
            "variant": .object(variant.values),
        ])
    }

    public var label: String {
        var parts = [method, size, "f=\(JSONValue.format(dataFraction))"]
        for key in variant.values.keys.sorted() {
            let v = variant.values[key]!
            parts.append(key == "lambda" ? "λ=\(v.canonical)" : "\(key)=\(v.plain)")
        }
        parts.append("seed=\(seed)")
        return parts.joined(separator: " ")
    }
}

extension JSONValue {
    /// A scalar without JSON quoting (`gold`, `1`), for labels and table cells.
    public var plain: String {
        if case .string(let s) = self { return s }
        // A mapping (a method's loss weights by name): `{ce:1 kl:0.5}`, sorted by name.
        if case .object(let o) = self { return "{" + o.keys.sorted().map { "\($0):\(o[$0]!.plain)" }.joined(separator: " ") + "}" }
        return canonical
    }
}

extension Experiment {
    /// The sweep's product, in a stable order: method, size, data fraction, the method's
    /// options (in its declared order), seed.
    public var cells: [Cell] {
        var out: [Cell] = []
        for name in sweep.methods {
            guard let m = MethodRegistry.named(name), m.trainsStudent, let spec = method(name) else { continue }
            let variants = variants(of: m, spec: spec)
            for size in sweep.sizes {
                for fraction in sweep.dataFractions {
                    for variant in variants {
                        for seed in sweep.seeds {
                            out.append(Cell(method: name, size: size, dataFraction: fraction, seed: seed, variant: variant))
                        }
                    }
                }
            }
        }
        return out
    }

    /// Every combination of a method's option values (the sweep's values for an option override the method's own).
    func variants(of m: any DistillationMethod.Type, spec: MethodSpec) -> [MethodVariant] {
        var out = [MethodVariant()]
        for option in MethodRegistry.options(of: m) {
            let values = sweep.optionValues[option.key] ?? spec.options[option.key] ?? option.defaults
            if values.isEmpty { continue }   // an optional option not given
            out = out.flatMap { v -> [MethodVariant] in
                if let other = option.yieldsTo, v.values[other] != nil { return [v] }
                return values.map { value in
                    var next = v
                    // "Off" leaves the option out, so the cell's keys are those of a spec without it.
                    if value != option.absentValue { next.values[option.key] = value }
                    return next
                }
            }
        }
        return out
    }

    /// The methods in the sweep, from the registry.
    public var sweptMethods: [any DistillationMethod.Type] { sweep.methods.compactMap(MethodRegistry.named) }
    /// The splits the LLM teacher annotates: those of every swept method and of the methods
    /// its embedded teachers are trained with.
    public var teacherSplits: Set<Split> {
        var splits = sweptMethods.reduce(into: Set<Split>()) { $0.formUnion($1.teacherSplits) }
        for t in teacherStudents { splits.formUnion(MethodRegistry.named(t.method)?.teacherSplits ?? []) }
        return splits
    }

    /// Every embedded teacher the sweep's cells name (`DistillationMethod.teacherStudent`).
    public var teacherStudents: Set<TeacherStudent> {
        var out = Set<TeacherStudent>()
        for name in sweep.methods {
            guard let m = MethodRegistry.named(name), let spec = method(name) else { continue }
            for variant in variants(of: m, spec: spec) { if let t = m.teacherStudent(variant) { out.insert(t) } }
        }
        return out
    }

    /// The sizes that train: the swept ones and the embedded teachers'.
    public var trainedSizes: [String] {
        let teachers = Set(teacherStudents.map(\.size))
        return student.sizes.map(\.name).filter { sweep.sizes.contains($0) || teachers.contains($0) }
    }
}
