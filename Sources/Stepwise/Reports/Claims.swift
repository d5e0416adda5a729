import Foundation

/// A statement a spec makes about its results, checked by the report:
///
///     distill_step_by_step > standard_finetune at every data_fraction
///     distill_step_by_step@0.125 >= standard_finetune@1.0
///     distill_step_by_step[tiny]@1.0 = 0.60 ± 0.05
///
/// Operands are a method, optionally a size in brackets and a data fraction after `@`. Values
/// are test metrics as fractions (0.6 = 60 %), the mean over seeds. "at every data_fraction"
/// compares the two methods at each (size, fraction) both were run at; a comparison without it
/// is checked for every size. A method swept over λ or label sources must hold for each variant.
public struct Claim: Equatable, Sendable {
    public struct Operand: Equatable, Sendable {
        public var method: String
        public var size: String?
        public var fraction: Double?
    }

    public enum Kind: Equatable, Sendable {
        case compare(Operand, String, Operand, everyFraction: Bool)
        case reference(Operand, value: Double, tolerance: Double)
    }

    public var text: String
    public var kind: Kind

    static let operators = [">=", "<=", ">", "<"]

    /// Parses a claim; the error says what was expected.
    public static func parse(_ text: String) throws -> Claim {
        var t = text.trimmingCharacters(in: .whitespaces)
        var every = false
        if t.hasSuffix("at every data_fraction") {
            every = true
            t = String(t.dropLast("at every data_fraction".count)).trimmingCharacters(in: .whitespaces)
        }
        if let eq = t.range(of: " = ") {
            let lhs = try operand(String(t[..<eq.lowerBound]))
            let rhs = t[eq.upperBound...].replacingOccurrences(of: "+-", with: "±").split(separator: "±")
            guard let value = Double(rhs.first?.trimmingCharacters(in: .whitespaces) ?? ""),
                  let tol = rhs.count == 2 ? Double(rhs[1].trimmingCharacters(in: .whitespaces)) : 0 else {
                throw StepwiseError("expected a reference value such as `= 0.60 ± 0.05`")
            }
            return Claim(text: text, kind: .reference(lhs, value: value, tolerance: tol))
        }
        for op in operators {
            if let r = t.range(of: " \(op) ") {
                let lhs = try operand(String(t[..<r.lowerBound])), rhs = try operand(String(t[r.upperBound...]))
                return Claim(text: text, kind: .compare(lhs, op, rhs, everyFraction: every))
            }
        }
        throw StepwiseError("expected `A > B [at every data_fraction]` (or >=, <, <=) or `A = value ± tolerance`")
    }

    static func operand(_ s: String) throws -> Operand {
        var rest = s.trimmingCharacters(in: .whitespaces)
        var fraction: Double?
        if let at = rest.firstIndex(of: "@") {
            guard let f = Double(rest[rest.index(after: at)...]), f > 0, f <= 1 else {
                throw StepwiseError("`\(s)`: expected a data fraction in (0, 1] after `@`")
            }
            fraction = f
            rest = String(rest[..<at])
        }
        var size: String?
        if let open = rest.firstIndex(of: "["), rest.hasSuffix("]") {
            size = String(rest[rest.index(after: open)..<rest.index(before: rest.endIndex)])
            rest = String(rest[..<open])
        }
        guard let method = MethodRegistry.named(rest) else {
            let hint = Suggestion.closest(to: rest, among: MethodRegistry.names).map { " (did you mean `\($0)`?)" } ?? ""
            throw StepwiseError("unknown method `\(rest)`\(hint)")
        }
        return Operand(method: method.name, size: size, fraction: fraction)
    }
}

/// A claim checked against the results with uncertainty (docs/DESIGN.md § Verdicts):
/// reproduced, contradicted or inconclusive, with the numbers behind it and, when inconclusive,
/// what would likely settle it.
public struct ClaimVerdict: Codable, Sendable {
    public var claim: String
    public var verdict: Verdict
    /// One line per comparison made, e.g. "tiny @ 25 %: A − B = +4.1 points, 95 % interval [...]".
    public var evidence: [String]
    public var advice: [String]
    /// For a reference claim: each published number next to ours (absent for other claims, so
    /// their claims.json is unchanged).
    public var references: [ReferenceComparison]? = nil

    public var reproduced: Bool { verdict == .reproduced }
}

/// Per-example scores of each evaluated row, grouped into the arms claims compare.
public struct ResultArms {
    struct Key: Hashable { var name: String; var size: String; var fraction: Double? }
    var runs: [Key: [SeedRun]] = [:]
    var teacher: [String: SeedRun] = [:]
    var missingScores: [String] = []

    public init(_ evaluations: [EvaluationArtifact]) {
        for e in evaluations {
            let row = ResultRow(e)
            guard let ids = e.exampleIDs, let scores = e.scores, ids.count == scores.count else {
                missingScores.append(row.displayName)
                continue
            }
            let run = SeedRun(seed: e.seed ?? 0, exampleIDs: ids, scores: scores)
            if e.seed == nil { teacher[row.method] = run; continue }
            runs[Key(name: row.displayName, size: e.size, fraction: e.dataFraction), default: []].append(run)
        }
    }

    /// The arms of a method at (size, fraction): one per option variant, by display name.
    func arms(method: String, size: String, fraction: Double) throws -> [ArmScores] {
        if let run = teacher[method] { return [try ArmScores(label: method, runs: [run], seedless: true)] }
        return try runs.keys.filter { $0.size == size && $0.fraction == fraction && ($0.name == method || $0.name.hasPrefix(method + " ")) }
            .sorted { $0.name < $1.name }
            .map { try ArmScores(label: "\($0.name)[\(size)]@\(JSONValue.format(fraction))", runs: runs[$0]!) }
    }

    /// The table entry of one row group.
    func summary(name: String, size: String, fraction: Double?) -> CellSummary? {
        guard let r = runs[Key(name: name, size: size, fraction: fraction)], let arm = try? ArmScores(label: name, runs: r) else { return nil }
        return CellSummary(arm)
    }
}

public enum ClaimChecker {
    public static func check(_ claims: [ClaimSpec], arms: ResultArms, sizes: [String], fractions: [Double],
                             rules: VerdictRules = VerdictRules()) -> [ClaimVerdict] {
        claims.map { spec in
            do {
                return try evaluate(try Claim.parse(spec.text), arms: arms, sizes: sizes, fractions: fractions, rules: rules)
            } catch {
                return ClaimVerdict(claim: spec.text, verdict: .inconclusive, evidence: ["cannot check: \(error)"], advice: [])
            }
        }
    }

    static func evaluate(_ claim: Claim, arms: ResultArms, sizes: [String], fractions: [Double], rules: VerdictRules) throws -> ClaimVerdict {
        var evidence: [String] = [], advice: [String] = [], verdicts: [Verdict] = []
        var references: [ReferenceComparison] = []
        func pct(_ f: Double) -> String { "\(JSONValue.format(f * 100)) %" }
        switch claim.kind {
        case let .compare(a, opText, b, every):
            guard let op = ComparisonOperator(rawValue: opText) else { throw StepwiseError("unknown comparison `\(opText)`") }
            for size in a.size.map({ [$0] }) ?? sizes {
                let pairs: [(Double, Double)] = every ? fractions.map { ($0, $0) } : [(a.fraction ?? 1, b.fraction ?? a.fraction ?? 1)]
                for (fa, fb) in pairs {
                    let va = try arms.arms(method: a.method, size: size, fraction: fa)
                    let vb = try arms.arms(method: b.method, size: b.size ?? size, fraction: fb)
                    for x in va {
                        for y in vb {
                            let v = try rules.compare(x, op, y, pairing: .forFractions(fa, fb))
                            verdicts.append(v.verdict)
                            evidence.append("\(size) @ \(pct(fa)): \(v.verdict.rawValue) — \(v.reason)")
                            if let a = v.advice { advice.append("\(size) @ \(pct(fa)): \(a)") }
                        }
                    }
                }
            }
        case let .reference(a, value, tol):
            for size in a.size.map({ [$0] }) ?? sizes {
                for x in try arms.arms(method: a.method, size: size, fraction: a.fraction ?? 1) {
                    let v = try rules.reference(x, value: value, tolerance: tol)
                    references.append(ReferenceComparison(v))
                    verdicts.append(v.verdict)
                    evidence.append("\(size): \(v.verdict.rawValue) — \(v.reason)")
                    if let a = v.advice { advice.append("\(size): \(a)") }
                }
            }
        }
        if !arms.missingScores.isEmpty && verdicts.isEmpty {
            evidence.append("rows without per-example scores (a store from an older Stepwise: re-run their evaluate stages): \(arms.missingScores.prefix(3).joined(separator: ", "))")
        }
        if verdicts.isEmpty { evidence.append("no results to compare (not in the sweep, or not run yet)") }
        // Every comparison the claim makes must hold: one contradicted comparison contradicts it.
        let verdict: Verdict = verdicts.isEmpty ? .inconclusive
            : verdicts.contains(.contradicted) ? .contradicted
            : verdicts.allSatisfy { $0 == .reproduced } ? .reproduced : .inconclusive
        return ClaimVerdict(claim: claim.text, verdict: verdict, evidence: evidence, advice: advice,
                            references: references.isEmpty ? nil : references)
    }
}
