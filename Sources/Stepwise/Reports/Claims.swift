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

/// A claim checked against the results: reproduced or not, with the numbers behind it.
public struct ClaimVerdict: Codable, Sendable {
    public var claim: String
    public var reproduced: Bool
    /// One line per comparison made, e.g. "tiny @ 25 %: 61.0 > 18.3".
    public var evidence: [String]
}

public enum ClaimChecker {
    public static func check(_ claims: [ClaimSpec], rows: [ResultRow], sizes: [String], fractions: [Double]) -> [ClaimVerdict] {
        claims.map { spec in
            do {
                return evaluate(try Claim.parse(spec.text), rows: rows, sizes: sizes, fractions: fractions)
            } catch {
                return ClaimVerdict(claim: spec.text, reproduced: false, evidence: ["cannot check: \(error)"])
            }
        }
    }

    /// Mean over seeds per variant (λ, labels) of one operand at one (size, fraction).
    static func values(_ o: Claim.Operand, size: String, fraction: Double, rows: [ResultRow]) -> [(String, Double)] {
        if MethodRegistry.named(o.method)?.trainsStudent == false {
            return rows.filter { $0.method == o.method }.map { ("", $0.value) }
        }
        var groups: [String: [Double]] = [:]
        for r in rows where r.method == o.method && r.size == size && r.dataFraction == fraction {
            let variant = String(r.displayName.dropFirst(r.method.count)).trimmingCharacters(in: .whitespaces)
            groups[variant, default: []].append(r.value)
        }
        return groups.keys.sorted().map { ($0, SeedStats(groups[$0]!).mean) }
    }

    static func evaluate(_ claim: Claim, rows: [ResultRow], sizes: [String], fractions: [Double]) -> ClaimVerdict {
        var evidence: [String] = []
        var ok = true
        func pct(_ v: Double) -> String { String(format: "%.1f", v * 100) }
        func name(_ o: Claim.Operand, _ variant: String) -> String { variant.isEmpty ? o.method : "\(o.method) \(variant)" }
        switch claim.kind {
        case let .compare(a, op, b, every):
            for size in a.size.map({ [$0] }) ?? sizes {
                let pairs: [(Double, Double)] = every ? fractions.map { ($0, $0) } : [(a.fraction ?? 1, b.fraction ?? a.fraction ?? 1)]
                for (fa, fb) in pairs {
                    let va = values(a, size: size, fraction: fa, rows: rows), vb = values(b, size: b.size ?? size, fraction: fb, rows: rows)
                    if va.isEmpty || vb.isEmpty { continue }
                    for (na, x) in va {
                        for (nb, y) in vb {
                            let holds: Bool
                            switch op {
                            case ">": holds = x > y
                            case ">=": holds = x >= y
                            case "<": holds = x < y
                            default: holds = x <= y
                            }
                            ok = ok && holds
                            evidence.append("\(size) @ \(JSONValue.format(fa * 100)) %: \(name(a, na)) \(pct(x)) \(op) \(name(b, nb)) \(pct(y))\(fa != fb ? " @ \(JSONValue.format(fb * 100)) %" : "") — \(holds ? "yes" : "no")")
                        }
                    }
                }
            }
        case let .reference(a, value, tol):
            for size in a.size.map({ [$0] }) ?? sizes {
                for (n, x) in values(a, size: size, fraction: a.fraction ?? 1, rows: rows) {
                    let holds = abs(x - value) <= tol + 1e-12
                    ok = ok && holds
                    evidence.append("\(size): \(name(a, n)) \(pct(x)) vs reference \(pct(value)) ± \(pct(tol)) — \(holds ? "yes" : "no")")
                }
            }
        }
        if evidence.isEmpty {
            ok = false
            evidence.append("no results to compare (not in the sweep, or not run yet)")
        }
        return ClaimVerdict(claim: claim.text, reproduced: ok, evidence: evidence)
    }
}
