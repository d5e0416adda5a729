import Foundation

/// The few distribution functions the verdicts need: normal and Student-t quantiles, and the
/// percentile of a sorted sample. Written here rather than taken from a package because they are
/// small, and because a verdict must come out the same on every platform: each is a fixed
/// sequence of IEEE operations (bisection, not a platform's libm inverse).
enum Distributions {
    /// Φ⁻¹(p): the standard normal quantile, by bisection on `erfc` (exact to ~1e-15).
    static func normalQuantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "normalQuantile needs 0 < p < 1")
        return bisect(lower: -40, upper: 40) { x in 0.5 * erfc(-x / 2.0.squareRoot()) - p }
    }

    /// The quantile of Student's t with `degreesOfFreedom` at probability `p`.
    static func studentTQuantile(_ p: Double, degreesOfFreedom df: Int) -> Double {
        precondition(p > 0 && p < 1 && df >= 1, "studentTQuantile needs 0 < p < 1 and df ≥ 1")
        if p == 0.5 { return 0 }
        // t(df = 1) at p = 0.9995 is 636.6; widen until the bracket holds any p asked for.
        var upper = 1000.0
        while studentTCDF(upper, degreesOfFreedom: df) < p { upper *= 10 }
        return bisect(lower: -upper, upper: upper) { t in studentTCDF(t, degreesOfFreedom: df) - p }
    }

    /// P(T ≤ t) for Student's t: 1 − ½·I_{df/(df+t²)}(df/2, ½) for t ≥ 0, symmetric below.
    static func studentTCDF(_ t: Double, degreesOfFreedom df: Int) -> Double {
        let v = Double(df)
        let tail = 0.5 * regularizedIncompleteBeta(v / (v + t * t), v / 2, 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// I_x(a, b), the regularized incomplete beta function, from its continued fraction
    /// (evaluated with the modified Lentz method) on whichever side converges fast.
    static func regularizedIncompleteBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logGammas: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logPowers: Double = a * log(x) + b * log(1 - x)
        let front = exp(logGammas + logPowers)
        if x < (a + 1) / (a + b + 2) {
            return front * betaContinuedFraction(x, a, b) / a
        }
        return 1 - front * betaContinuedFraction(1 - x, b, a) / b
    }

    private static func betaContinuedFraction(_ x: Double, _ a: Double, _ b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var result = d
        for m in 1...400 {
            let m = Double(m)
            // The even step, then the odd step, of the fraction's terms.
            let even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + even * d
            if abs(d) < tiny { d = tiny }
            c = 1 + even / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            result *= d * c
            let odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + odd * d
            if abs(d) < tiny { d = tiny }
            c = 1 + odd / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let step = d * c
            result *= step
            if abs(step - 1) < 1e-16 { break }
        }
        return result
    }

    /// The root of an increasing function on [lower, upper], to the last representable bit.
    private static func bisect(lower: Double, upper: Double, _ f: (Double) -> Double) -> Double {
        var lo = lower, hi = upper
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if mid == lo || mid == hi { break }
            if f(mid) < 0 { lo = mid } else { hi = mid }
        }
        return 0.5 * (lo + hi)
    }

    /// The p-quantile of an ascending sample, linearly interpolated between order statistics at
    /// position (n − 1)·p — numpy's default (`method="linear"`, Hyndman–Fan type 7).
    static func percentile(ofSorted sorted: [Double], _ p: Double) -> Double {
        precondition(!sorted.isEmpty && p >= 0 && p <= 1)
        let position = Double(sorted.count - 1) * p
        let below = Int(position.rounded(.down))
        let above = min(below + 1, sorted.count - 1)
        return sorted[below] + (position - Double(below)) * (sorted[above] - sorted[below])
    }

    /// The sample variance (divisor n − 1); 0 for fewer than two values.
    static func sampleVariance(_ values: [Double]) -> Double {
        guard values.count > 1 else { return 0 }
        let mean = values.reduce(0, +) / Double(values.count)
        return values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
    }
}
