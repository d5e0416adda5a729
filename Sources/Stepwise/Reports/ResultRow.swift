import Foundation

/// One line of `results.csv` — the contract other tools read:
/// `method,size,data_fraction,lambda,seed,split,metric,value,variant`. The first eight columns
/// are the original contract, unchanged; `variant` (appended, so positional readers keep working)
/// holds the method's other options (`labels=teacher`), so rows of one method with different
/// options are told apart. Not-applicable fields are empty (the teacher row has no data fraction, λ or seed).
public struct ResultRow: Codable, Hashable, Sendable {
    public var method: String
    public var size: String
    public var dataFraction: Double?
    public var lambda: Double?
    /// The method's options other than λ, as `key=value` joined by `;` ("" when none).
    public var variant: String
    public var seed: Int?
    public var split: String
    public var metric: String
    public var value: Double
    /// Student parameters (for the model-size figure); not part of the CSV contract.
    public var parameters: Int?

    public static let csvHeader = "method,size,data_fraction,lambda,seed,split,metric,value,variant"

    public init(_ e: EvaluationArtifact) {
        method = e.method
        size = e.size
        dataFraction = e.dataFraction
        lambda = e.options?.double("lambda")
        variant = (e.options?.values ?? [:]).filter { $0.key != "lambda" }.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.plain)" }.joined(separator: ";")
        seed = e.seed
        split = e.split
        metric = e.metric
        value = e.value
        parameters = e.parameters
    }

    public var csvLine: String {
        [method, size, dataFraction.map(JSONValue.format) ?? "", lambda.map(JSONValue.format) ?? "",
         seed.map(String.init) ?? "", split, metric, String(format: "%.6f", value), variant].joined(separator: ",")
    }

    /// The cell without its seed: rows with the same group are averaged in tables.
    public var group: ResultGroup {
        ResultGroup(method: method, size: size, dataFraction: dataFraction, lambda: lambda, variant: variant, metric: metric)
    }

    /// The row's name in tables, figures and claims' evidence: the method and its option values
    /// options, e.g. `distill_step_by_step λ=1 (labels=gold)`.
    public var displayName: String { group.displayName }
}

public struct ResultGroup: Hashable, Sendable {
    public var method: String
    public var size: String
    public var dataFraction: Double?
    public var lambda: Double?
    public var variant: String
    public var metric: String

    public var displayName: String {
        var name = method
        if let lambda { name += " λ=\(JSONValue.format(lambda))" }
        if let v = variantDisplay { name += " (\(v))" }
        return name
    }

    /// Whether the row's method reads the teacher's output for each test input
    /// (`DistillationMethod.needsTeacherAtTest`): the teacher stays in the loop at deployment.
    public var needsTeacherAtTest: Bool { MethodRegistry.named(method)?.needsTeacherAtTest ?? false }

    /// The row's name as tables and figures print it: marked † when it needs the teacher at test.
    public var labelledName: String { displayName + (needsTeacherAtTest ? " \(Self.teacherAtTestMark)" : "") }

    public static let teacherAtTestMark = "†"
    public static let teacherAtTestNote = "† needs the teacher at test time: it reads the teacher's output for each test input."

    /// The options other than λ as the method shows them (`gold labels`), nil when none.
    public var variantDisplay: String? {
        guard !variant.isEmpty else { return nil }
        let options = MethodRegistry.named(method).map(MethodRegistry.options(of:)) ?? []
        return variant.split(separator: ";").map { pair -> String in
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let option = options.first(where: { $0.key == parts[0] }) else { return String(pair) }
            return option.display(.string(parts[1]))
        }.joined(separator: ", ")
    }
}

/// Mean and sample standard deviation over seeds.
public struct SeedStats: Sendable {
    public var mean: Double
    public var std: Double
    public var count: Int

    /// A mean with a given spread (an interval's half-width, drawn as the error bar).
    public init(mean: Double, std: Double, count: Int) { self.mean = mean; self.std = std; self.count = count }

    public init(_ values: [Double]) {
        count = values.count
        mean = values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
        if values.count > 1 {
            let m = mean
            std = (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
        } else {
            std = 0
        }
    }

    /// As a percentage, e.g. "71.3 ± 1.2" (or "71.3" for one seed).
    public func formatted(decimals: Int) -> String {
        let f = "%.\(decimals)f"
        let m = String(format: f, mean * 100)
        return count > 1 ? "\(m) ± \(String(format: f, std * 100))" : m
    }
}
