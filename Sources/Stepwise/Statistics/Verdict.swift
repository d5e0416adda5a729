/// The outcome of checking a claim against results that carry uncertainty.
public enum Verdict: String, Sendable, Codable, CaseIterable {
    /// The interval lies entirely where the claim says.
    case reproduced
    /// The interval lies entirely where the claim says it does not.
    case contradicted
    /// Neither: the data cannot tell (yet).
    case inconclusive
}

/// The comparison in a claim `A op B`, decided on the interval of A − B.
public enum ComparisonOperator: String, Sendable, Codable, CaseIterable {
    case greater = ">"
    case greaterOrEqual = ">="
    case less = "<"
    case lessOrEqual = "<="

    /// `>` claims (0, ∞) and is contradicted by (−∞, 0]; `>=` claims [0, ∞) and is contradicted
    /// by (−∞, 0); `<` and `<=` mirror them. An interval straddling the boundary is inconclusive.
    public func verdict(lower: Double, upper: Double) -> Verdict {
        switch self {
        case .greater: return lower > 0 ? .reproduced : upper <= 0 ? .contradicted : .inconclusive
        case .greaterOrEqual: return lower >= 0 ? .reproduced : upper < 0 ? .contradicted : .inconclusive
        case .less: return upper < 0 ? .reproduced : lower >= 0 ? .contradicted : .inconclusive
        case .lessOrEqual: return upper <= 0 ? .reproduced : lower > 0 ? .contradicted : .inconclusive
        }
    }
}

/// The rule for a reference claim `A = v ± tol`: a claim that A's true mean lies in the band.
public enum ReferenceRule {
    /// Numbers written in a spec (0.6 − 0.05) should meet an interval that touches the edge.
    static let slack = 1e-12

    /// Reproduced when the whole interval lies inside [v − tol, v + tol] (an equivalence test:
    /// the data place A within the band); contradicted when the interval lies entirely outside
    /// it; inconclusive when it overlaps the band but also reaches outside (too wide to tell).
    public static func verdict(lower: Double, upper: Double, value: Double, tolerance: Double) -> Verdict {
        let low = value - tolerance - slack, high = value + tolerance + slack
        if lower >= low && upper <= high { return .reproduced }
        if upper < low || lower > high { return .contradicted }
        return .inconclusive
    }
}
